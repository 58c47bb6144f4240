#!/usr/bin/env bash
# Provisioning policy over EST-coaps (RFC 9148), the same as over HTTPS and SCEP: a
# known-devices-only label refuses a device the registry does not hold or holds as blocked, and
# a label that allows one enrollment per bootstrap certificate refuses the second.
# Peers: coap-client-openssl (libcoap3-bin) with the demo bootstrap certificates, openssl.
. "$(dirname "$0")/lib.sh"
COAP=${COAP_CLIENT:-coap-client-openssl}
command -v "$COAP" > /dev/null || { echo "SKIP: $COAP not installed (package libcoap3-bin)"; exit 0; }
D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
sed -i 's|"labels": {|"labels": {"known": {"bootstrap_trust": ["demo-manufacturer"], "known_devices_only": true}, "once": {"bootstrap_trust": ["demo-manufacturer"], "max_enrollments_per_bootstrap": 1}, |' "$D/enrolld.json"
start_enrolld "$D" || exit 1
printf 'id,model,batch,state\nDEMO-0001,Cam,B1,\nDEMO-0002,Cam,B1,blocked\n' > reg.csv
ctl registry import reg.csv > /dev/null 2>&1
TRUST=(-C "$D/ca/root-ca.pem")
boot() { echo -c "$D/demo/device-000$1.pem" -j "$D/demo/device-000$1.key"; }
coap() { timeout 60 "$COAP" -B 20 "$@" 2>&1; }
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout op.key -subj /CN=x \
  -outform DER -out csr.der 2>/dev/null
sen() { rm -f out.der; coap "${TRUST[@]}" $(boot "$1") -m post -t 286 -A 287 -f csr.der -o out.der "$CU/$2/sen"; }

echo "# known devices only"
sen 1 known > /dev/null
check "a registered device enrolls" "subject=CN = DEMO-0001" "$(openssl x509 -inform DER -in out.der -noout -subject 2>&1)"
OUT=$(sen 2 known)
check_contains "a blocked device is refused with 4.03" "4.03" "$OUT"
check "and gets no certificate" 0 "$([ -s out.der ] && echo 1 || echo 0)"
OUT=$(sen 3 known)
check_contains "an unregistered device is refused with 4.03" "4.03" "$OUT"
check_contains "with the reason in the diagnostic payload" "registry" "$OUT"

echo "# one enrollment per bootstrap certificate"
sen 3 once > /dev/null
check "the first enrollment succeeds" "subject=CN = DEMO-0003" "$(openssl x509 -inform DER -in out.der -noout -subject 2>&1)"
OUT=$(sen 3 once)
check_contains "the second is refused with 4.03" "4.03" "$OUT"
check "the registry shows one enrollment" 1 "$(sqlite3 "$D/enrolld.db" "SELECT enroll_count FROM devices WHERE id = 'DEMO-0003'")"
finish
