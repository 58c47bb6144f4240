#!/usr/bin/env bash
# The device client (enroll-device, device-client/) against the real enrolld over EST-coaps
# (RFC 9148) and EST over HTTPS: bootstrap the CA certificates against a pinned fingerprint,
# enroll with the bootstrap certificate, renew with the operational certificate.
# Usage: ENROLLD=... ENROLL_DEVICE=path/to/enroll-device device_client_test.sh
. "$(dirname "$0")/lib.sh"
ED=${ENROLL_DEVICE:?set ENROLL_DEVICE to the enroll-device binary}
D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
start_enrolld "$D" || exit 1
FP=$(openssl x509 -in "$D/ca/root-ca.pem" -outform DER | sha256sum | cut -d' ' -f1)
verify() { openssl verify -CAfile "$D/ca/root-ca.pem" -untrusted "$D/ca/issuing-ca.pem" "$1" 2>&1; }

echo "# EST-coaps"
"$ED" enroll --coaps --server "127.0.0.1:$COAP_PORT" --coap-block 64 --ca-fingerprint "$FP" \
  --bootstrap-cert "$D/demo/device-0001.pem" --bootstrap-key "$D/demo/device-0001.key" --state coaps > enroll.log 2>&1
check "enroll-device enrolls over coaps (64-byte blocks)" 0 "$?"
check "the certificate verifies" "coaps/cert.pem: OK" "$(verify coaps/cert.pem)"
check "for the device of the bootstrap certificate" "subject=CN = DEMO-0001" "$(openssl x509 -in coaps/cert.pem -noout -subject)"
S1=$(openssl x509 -in coaps/cert.pem -noout -serial)
"$ED" renew --coaps --server "127.0.0.1:$COAP_PORT" --ca-fingerprint "$FP" --state coaps > renew.log 2>&1
check "enroll-device renews over coaps with the operational certificate" 0 "$?"
check "with a new certificate" 1 "$([ "$(openssl x509 -in coaps/cert.pem -noout -serial)" != "$S1" ] && echo 1)"
check "that verifies" "coaps/cert.pem: OK" "$(verify coaps/cert.pem)"
check "enrolld saw EST-coaps sen and sren" "1 1" \
  "$(grep -c 'protocol=est-coaps.*operation=sen ' "$WORK/serve.err") $(grep -c 'protocol=est-coaps.*operation=sren ' "$WORK/serve.err")"
"$ED" enroll --coaps --server "127.0.0.1:$COAP_PORT" --ca-fingerprint "0000000000000000000000000000000000000000000000000000000000000000" \
  --bootstrap-cert "$D/demo/device-0002.pem" --bootstrap-key "$D/demo/device-0002.key" --state wrongpin > pin.log 2>&1
check "a wrong pinned fingerprint stops the client" 1 "$([ "$?" -ne 0 ] && [ ! -e wrongpin/cert.pem ] && echo 1)"

echo "# EST over HTTPS"
"$ED" enroll --server "127.0.0.1:$PORT" --ca-fingerprint "$FP" \
  --bootstrap-cert "$D/demo/device-0003.pem" --bootstrap-key "$D/demo/device-0003.key" --state https > https.log 2>&1
check "enroll-device enrolls over HTTPS" "https/cert.pem: OK" "$(verify https/cert.pem)"
finish
