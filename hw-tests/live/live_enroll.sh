#!/usr/bin/env bash
# hw.m4.live: a complete enrollment from the emulated Cortex-M4 to a real enrolld on the host.
# enrolld serves a demo data folder on loopback port 0 (tests/integration/lib.sh); the M4 image
# (target/main_live.c) generates its key, writes its CSR, runs the TLS 1.2 handshakes and
# enrolls (/cacerts pinned by fingerprint, /simpleenroll with the bootstrap certificate), then
# re-enrolls at its renewal time (/simplereenroll with the operational certificate). Its bytes
# travel through UART0 to uart_relay.py, which holds the TCP connections to enrolld.
# Usage: ENROLLD=... live_enroll.sh QEMU MACHINE ELF LOG
. "$(dirname "$0")/../../tests/integration/lib.sh"
QEMU=$1 MACHINE=$2 ELF=$3 LOG=$4
RELAY="$(dirname "$0")/uart_relay.py"
D=$WORK/srv
DEV=$WORK/dev
init_dir "$D" --demo || exit 1
start_enrolld "$D" || exit 1
mkdir -p "$DEV" && cd "$DEV" || exit 1
# The device's inputs: DER (its Mbed TLS has no PEM), the root's SHA-256, the server port and
# the time (the device has no clock of its own).
openssl x509 -in "$D/demo/device-0001.pem" -outform DER -out boot.der
openssl pkey -in "$D/demo/device-0001.key" -outform DER -out boot.key.der
openssl x509 -in "$D/ca/root-ca.pem" -outform DER | openssl dgst -sha256 -binary > root.sha256
echo "$PORT $(date +%s)" > live-config.txt

# QEMU runs in this folder: semihosting opens the files above and writes its results here.
T0=$(date +%s.%N)
"${EDC_PYTHON3:-python3}" "$RELAY" --log "$LOG" --timeout 170 -- \
  "$QEMU" -M "$MACHINE" -nographic -monitor none \
  -semihosting-config enable=on,target=native -kernel "$ELF"
RC=$?
T1=$(date +%s.%N)
cat "$LOG"
echo "# wall time of the emulated run: $(echo "$T1 - $T0" | bc) s"
check "the M4 image exits 0" 0 "$RC"
check "and prints PASS last" "PASS" "$(tr -d '\r' < "$LOG" | grep -v '^$' | tail -n 1)"

verify() {
  openssl verify -CAfile "$D/ca/root-ca.pem" -untrusted "$D/ca/issuing-ca.pem" "$1" 2>&1
}
for f in issued reissued; do
  if [ -s $f.der ]; then openssl x509 -inform DER -in $f.der -out $f.pem; fi
done
check "the certificate the M4 got verifies against enrolld's CA" "issued.pem: OK" "$(verify issued.pem)"
check "for the device's subject (as the demo profile writes it)" "subject=CN = DEMO-0001" \
  "$(openssl x509 -in issued.pem -noout -subject 2>&1)"
check "for a key the M4 generated (not the bootstrap key)" 1 \
  "$([ -s issued.pem ] && [ "$(openssl x509 -in issued.pem -noout -pubkey)" != \
      "$(openssl pkey -in "$D/demo/device-0001.key" -pubout)" ] && echo 1)"
check "the renewed certificate verifies" "reissued.pem: OK" "$(verify reissued.pem)"
check "for the same subject (RFC 7030 4.2.2)" "subject=CN = DEMO-0001" \
  "$(openssl x509 -in reissued.pem -noout -subject 2>&1)"
check "with a new serial and a new key" 1 \
  "$([ -s reissued.pem ] && \
     [ "$(openssl x509 -in reissued.pem -noout -serial)" != "$(openssl x509 -in issued.pem -noout -serial)" ] && \
     [ "$(openssl x509 -in reissued.pem -noout -pubkey)" != "$(openssl x509 -in issued.pem -noout -pubkey)" ] && echo 1)"
# the CA set the device bootstrapped is enrolld's /cacerts (root and issuing CA, DER, in order)
cat <(openssl x509 -in "$D/ca/issuing-ca.pem" -outform DER) <(openssl x509 -in "$D/ca/root-ca.pem" -outform DER) > ca-a.der
cat <(openssl x509 -in "$D/ca/root-ca.pem" -outform DER) <(openssl x509 -in "$D/ca/issuing-ca.pem" -outform DER) > ca-b.der
check "the CA certificates the M4 kept are enrolld's" 1 \
  "$( (cmp -s cacerts.der ca-a.der || cmp -s cacerts.der ca-b.der) && echo 1)"
check "enrolld answered one simpleenroll and one simplereenroll, both 200" "1 1 2" \
  "$(grep -c 'operation=simpleenroll .*status=200' "$WORK/serve.err") $(grep -c 'operation=simplereenroll .*status=200' "$WORK/serve.err") $(grep -c 'protocol=est .*operation=simple' "$WORK/serve.err")"
finish
