#!/bin/bash
# scepclient (Debian package scep): GetCACaps, GetCACert, enrollment with the challenge, a refused
# challenge, and renewal (RenewalReq signed by the current certificate). scepclient always uses
# SHA-1 and DES, so it enrolls on the legacy label and gets badAlg on the default one.
# Usage: scepclient_test.sh ENROLLD DATA_DIR | --test-server SCEP_LOOPBACK_SERVER
source "$(dirname "$0")/lib.sh"
need scepclient; need curl; need openssl
start_server "$@"

caps=$(curl -sf "$SCEP_URL?operation=GetCACaps") || fail "GetCACaps"
for cap in POSTPKIOperation SHA-256 AES SCEPStandard Renewal; do
  grep -qx "$cap" <<<"$caps" || fail "GetCACaps lacks $cap: $caps"
done
pass "GetCACaps lists $(tr '\n' ' ' <<<"$caps")"

fetch_ca_certs "$LEGACY_URL" "$WORK/ca-certs.pem"
root_of "$WORK/ca-certs.pem"
pass "GetCACert gives $(grep -c 'BEGIN CERT' "$WORK/ca-certs.pem") certificate(s)"
# scepclient encrypts to the certificate -ca-fingerprint names: the first one (the RA, or the CA
# when there is no RA). Naming the CA while an RA exists makes it encrypt to the CA.
split_pem "$WORK/ca-certs.pem" "$WORK/first"
fp=$(openssl x509 -in "$WORK/first-1.pem" -outform DER | sha256sum | cut -d' ' -f1)

mkdir "$WORK/dev1" && cd "$WORK/dev1"
scepclient -server-url "$LEGACY_URL" -challenge "$CHALLENGE" -private-key k.pem -certificate c.pem \
  -cn it-scepclient-1 -ca-fingerprint "$fp" >enroll.log 2>&1 || { cat enroll.log; fail "enrollment"; }
[[ -s c.pem ]] || fail "no certificate written"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/ca-certs.pem" c.pem >/dev/null || fail "issued certificate does not verify"
[[ "$(openssl x509 -in c.pem -noout -pubkey)" == "$(openssl pkey -in k.pem -pubout)" ]] || fail "certificate is not for our key"
serial1=$(openssl x509 -in c.pem -noout -serial)
pass "PKCSReq with the challenge: issued $serial1"

# The same command again: c.pem exists, so scepclient sends a RenewalReq signed with it.
scepclient -server-url "$LEGACY_URL" -challenge "$CHALLENGE" -private-key k.pem -certificate c.pem \
  -cn it-scepclient-1 -ca-fingerprint "$fp" >renew.log 2>&1 || { cat renew.log; fail "renewal"; }
serial2=$(openssl x509 -in c.pem -noout -serial)
[[ "$serial1" != "$serial2" ]] || fail "renewal returned the same certificate"
grep -q "RenewalReq" "$WORK/server.log" || fail "server did not see a RenewalReq"
pass "RenewalReq signed by the current certificate: issued $serial2"

mkdir "$WORK/dev2" && cd "$WORK/dev2"
if scepclient -server-url "$LEGACY_URL" -challenge "wrong-$CHALLENGE" -private-key k.pem -certificate c.pem \
     -cn it-scepclient-2 -ca-fingerprint "$fp" >wrong.log 2>&1; then
  fail "a wrong challenge was accepted"
fi
grep -q "badRequest" wrong.log || { cat wrong.log; fail "wrong challenge not reported as badRequest"; }
[[ ! -e c.pem ]] || fail "certificate written despite a wrong challenge"
pass "wrong challenge: failInfo badRequest, non-zero exit"

mkdir "$WORK/dev3" && cd "$WORK/dev3"
if scepclient -server-url "$SCEP_URL" -challenge "$CHALLENGE" -private-key k.pem -certificate c.pem \
     -cn it-scepclient-3 -ca-fingerprint "$fp" >strict.log 2>&1; then
  fail "SHA-1/DES accepted on a label without legacy mode"
fi
grep -q "badAlg" strict.log || { cat strict.log; fail "SHA-1/DES not refused with badAlg"; }
pass "default label refuses scepclient's SHA-1/DES with badAlg"
