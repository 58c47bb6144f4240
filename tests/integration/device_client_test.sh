#!/usr/bin/env bash
# The device client (enroll-device, device-client/) against the real enrolld over EST-coaps
# (RFC 9148) and EST over HTTPS: bootstrap the CA certificates against a pinned fingerprint
# or an explicit trust anchor (--ca-file), enroll with the bootstrap certificate, renew with the
# operational certificate.
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

echo "# explicit trust anchor (--ca-file, no fingerprint): /cacerts completes the leaf-only answer"
check "enrolld answers simpleenroll with the leaf alone" 1 "$(grep -c 'BEGIN CERTIFICATE' https/cert.pem)"
fps() { # SHA-256 fingerprints of every certificate in a PEM file, sorted
  awk -v d="$WORK/split" '/BEGIN/{n++} {print > (d "." n)}' "$1"
  for f in "$WORK"/split.*; do openssl x509 -in "$f" -noout -fingerprint -sha256; done | sort
  rm -f "$WORK"/split.*
}
EXPECTED_CAS=$(cat "$D/ca/issuing-ca.pem" "$D/ca/root-ca.pem" > "$WORK/cas.pem"; fps "$WORK/cas.pem")
for t in https coaps; do
  if [ $t = coaps ]; then args=(--coaps --server "127.0.0.1:$COAP_PORT"); dev=0001; else args=(--server "127.0.0.1:$PORT"); dev=0002; fi
  "$ED" enroll "${args[@]}" --ca-file "$D/ca/root-ca.pem" \
    --bootstrap-cert "$D/demo/device-$dev.pem" --bootstrap-key "$D/demo/device-$dev.key" --state anchor-$t > anchor-$t.log 2>&1
  check "enroll-device enrolls over $t with only the root as anchor" "0 anchor-$t/cert.pem: OK" "$? $(verify anchor-$t/cert.pem)"
  check "the CA set it keeps ($t) is enrolld's /cacerts: issuing CA and root" "$EXPECTED_CAS" "$(fps anchor-$t/ca.pem)"
  "$ED" renew "${args[@]}" --ca-file "$D/ca/root-ca.pem" --state anchor-$t > anchor-renew-$t.log 2>&1
  check "and renews over $t with the same anchor" "0 anchor-$t/cert.pem: OK" "$? $(verify anchor-$t/cert.pem)"
  "$ED" enroll "${args[@]}" --ca-file "$D/ca/manufacturer-ca.pem" \
    --bootstrap-cert "$D/demo/device-0003.pem" --bootstrap-key "$D/demo/device-0003.key" --state wronganchor-$t > wronganchor-$t.log 2>&1
  check "an anchor enrolld does not chain to stops the client over $t" "1 absent" "$? $([ -e wronganchor-$t/cert.pem ] && echo present || echo absent)"
done
echo "# a CSR whose ecdsa-with-SHA256 AlgorithmIdentifier carries a NULL parameter (as Mbed TLS 2.28's"
echo "# own CSR writer makes it; RFC 5758 3.2 says absent): enrolld accepts it"
"$ED" csr --cn DEMO-0003 --serial DEMO-0003 --org "Demo Devices Inc" --out strict.der > csr.log 2>&1
# signatureAlgorithm lies outside the signed CertificationRequestInfo: add the NULL, fix the length
python3 - strict.der null.der <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
strict = bytes.fromhex("300a06082a8648ce3d040302")
hl = {0x81: 3, 0x82: 4}[d[1]]  # the outer length is 1 or 2 bytes (the signature size varies)
body = d[hl:].replace(strict, bytes.fromhex("300c06082a8648ce3d0403020500"))
assert len(body) == len(d) - hl + 2
hdr = bytes([0x30, 0x81, len(body)]) if len(body) < 256 else bytes([0x30, 0x82, len(body) >> 8, len(body) & 255])
open(sys.argv[2], "wb").write(hdr + body)
PY
check "the patched CSR carries the NULL and still verifies" "1 verify OK" \
  "$(openssl asn1parse -inform DER -in null.der | grep -c 'prim: NULL') $(openssl req -inform DER -in null.der -noout -verify 2>&1 | grep -o 'verify OK')"
base64 null.der > null.b64
code=$(curl -s -o null.p7 -w '%{http_code}' --cacert "$D/ca/root-ca.pem" --cert "$D/demo/device-0003.pem" \
  --key "$D/demo/device-0003.key" -H 'Content-Type: application/pkcs10' --data-binary @null.b64 "$U/simpleenroll")
check "enrolld issues for it" "200 subject=CN = DEMO-0003" \
  "$code $(base64 -d null.p7 | openssl pkcs7 -inform DER -print_certs 2>/dev/null | openssl x509 -noout -subject 2>/dev/null)"
finish
