#!/usr/bin/env bash
# hw.m4.live: a complete enrollment from the emulated Cortex-M4 to a real enrolld on the host.
# enrolld serves a demo data folder on loopback port 0 (tests/integration/lib.sh); the M4 image
# (target/main_live.c) generates its key, writes its CSR, runs the TLS 1.2 handshakes and
# enrolls (/cacerts pinned by fingerprint, /simpleenroll with the bootstrap certificate), then
# re-enrolls at its renewal time (/simplereenroll with the operational certificate); twice:
# device "sw" with its keys in the client, device "se" with its bootstrap and device keys in
# secure-element doubles (CSR and TLS CertificateVerify through the sign callback, verified by
# enrolld's OpenSSL). Its bytes travel through UART0 to uart_relay.py, which holds the TCP
# connections to enrolld.
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
for dev in sw:0001 se:0002; do
  openssl x509 -in "$D/demo/device-${dev#*:}.pem" -outform DER -out "${dev%%:*}-boot.der"
  openssl pkey -in "$D/demo/device-${dev#*:}.key" -outform DER -out "${dev%%:*}-boot.key.der"
done
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
pub() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }
for f in sw-issued sw-reissued se-issued se-reissued; do
  if [ -s $f.der ]; then openssl x509 -inform DER -in $f.der -out $f.pem; fi
done
cat <(openssl x509 -in "$D/ca/issuing-ca.pem" -outform DER) <(openssl x509 -in "$D/ca/root-ca.pem" -outform DER) > ca-a.der
cat <(openssl x509 -in "$D/ca/root-ca.pem" -outform DER) <(openssl x509 -in "$D/ca/issuing-ca.pem" -outform DER) > ca-b.der
for dev in sw:0001 se:0002; do
  p=${dev%%:*} n=${dev#*:}
  echo "# device $p (DEMO-$n)"
  check "$p: the certificate the M4 got verifies against enrolld's CA" "$p-issued.pem: OK" "$(verify $p-issued.pem)"
  check "$p: for the device's subject (as the demo profile writes it)" "subject=CN = DEMO-$n" \
    "$(openssl x509 -in $p-issued.pem -noout -subject 2>&1)"
  check "$p: for a key the M4 generated (not the bootstrap key)" 1 \
    "$([ -s $p-issued.pem ] && [ "$(pub $p-issued.pem)" != "$(openssl pkey -in "$D/demo/device-$n.key" -pubout)" ] && echo 1)"
  check "$p: the renewed certificate verifies" "$p-reissued.pem: OK" "$(verify $p-reissued.pem)"
  check "$p: for the same subject (RFC 7030 4.2.2)" "subject=CN = DEMO-$n" \
    "$(openssl x509 -in $p-reissued.pem -noout -subject 2>&1)"
  check "$p: with a new serial" 1 \
    "$([ -s $p-reissued.pem ] && [ "$(openssl x509 -in $p-reissued.pem -noout -serial)" != "$(openssl x509 -in $p-issued.pem -noout -serial)" ] && echo 1)"
  check "$p: the CA certificates the M4 kept are enrolld's" 1 \
    "$( (cmp -s $p-cacerts.der ca-a.der || cmp -s $p-cacerts.der ca-b.der) && echo 1)"
done
check "sw: the renewal brought a new key" 1 \
  "$([ -s sw-reissued.pem ] && [ "$(pub sw-reissued.pem)" != "$(pub sw-issued.pem)" ] && echo 1)"
# the secure element's device key: both certificates certify it (a renewal with the same key)
SEPUB=$(openssl x509 -in se-issued.pem -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | tail -c 65 | od -An -tx1 | tr -d ' \n')
check "se: the certificate certifies the element's device key" \
  "$(od -An -tx1 se-device.pub 2>/dev/null | tr -d ' \n')" "$SEPUB"
check "se: and so does the renewed one" 1 \
  "$([ -s se-reissued.pem ] && [ "$(pub se-reissued.pem)" = "$(pub se-issued.pem)" ] && echo 1)"
# Peak RAM of an enrollment against enrolld (issue 8: <= 24 KB = 24,576 B), for the device with
# its keys in the client: static RAM (the client's buffers and structs as the image reports
# them, plus Mbed TLS's and newlib's static RAM in the enrolling image, footprint.txt) + heap
# peak + painted stack peak, each the maximum over both steps. The device with its keys in the
# secure-element doubles is reported too; its heap includes the doubles' own keys.
RAM_LIMIT=24576
FP="$(dirname "$ELF")/footprint.txt"
LIB_RAM=$(awk '/^Mbed TLS|^newlib/{n += $NF} END{print n + 0}' "$FP" 2>/dev/null)
for p in sw se; do
  read -r BUF HEAP STACK < <(tr -d '\r' < "$LOG" | awk -v p="$p:" '$1 == "[live]" && $2 == "ram" && $3 == p {print $5, $7, $9}')
  if [ -z "$STACK" ] || [ ! -s "$FP" ]; then RAM=none; else RAM=$((BUF + LIB_RAM + HEAP + STACK)); fi
  echo "# peak RAM $p: static $((BUF + LIB_RAM)) (client $BUF + Mbed TLS/newlib $LIB_RAM) + heap $HEAP + stack $STACK = $RAM B (limit $RAM_LIMIT)"
  [ "$p" = sw ] && check "sw: peak RAM (static + heap + stack) within $RAM_LIMIT B" 1 \
    "$([ "$RAM" != none ] && [ "$RAM" -le $RAM_LIMIT ] && echo 1)"
done
check "enrolld answered two simpleenroll and two simplereenroll, all 200" "2 2 4" \
  "$(grep -c 'operation=simpleenroll .*status=200' "$WORK/serve.err") $(grep -c 'operation=simplereenroll .*status=200' "$WORK/serve.err") $(grep -c 'protocol=est .*operation=simple' "$WORK/serve.err")"
finish
