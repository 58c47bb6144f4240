#!/bin/bash
# certmonger's scep-submit helper run standalone: -c (GetCACaps) and -C (GetCACert, PEM).
# Usage: certmonger_scep_submit_test.sh ENROLLD DATA_DIR | --test-server SCEP_LOOPBACK_SERVER
source "$(dirname "$0")/lib.sh"
SUBMIT=/usr/lib/certmonger/scep-submit
[[ -x "$SUBMIT" ]] || { echo "SKIP: $SUBMIT missing (package certmonger)"; exit 77; }
need openssl
start_server "$@"

caps=$("$SUBMIT" -u "$SCEP_URL" -c) || fail "scep-submit -c exited $?"
for cap in POSTPKIOperation SHA-256 SHA-512 AES SCEPStandard Renewal; do
  grep -qx "$cap" <<<"$caps" || fail "GetCACaps lacks $cap"
done
pass "scep-submit -c: $(tr '\n' ' ' <<<"$caps")"

"$SUBMIT" -u "$SCEP_URL" -C >"$WORK/chain.pem" || fail "scep-submit -C exited $?"
n=$(grep -c 'BEGIN CERTIFICATE' "$WORK/chain.pem" || true)
[[ "$n" -ge 1 ]] || fail "scep-submit -C printed no certificate"
openssl x509 -in "$WORK/chain.pem" -noout >/dev/null || fail "scep-submit -C: unreadable PEM"
pass "scep-submit -C: $n certificate(s)"
