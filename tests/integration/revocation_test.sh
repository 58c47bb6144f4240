#!/usr/bin/env bash
# Bulk revocation, CRLs and OCSP end to end: the real enrolld on loopback, devices enrolled with
# curl + openssl (and coap-client, scepclient when installed), revoked by several selectors with
# `enrolld revoke`, and checked with openssl ocsp, openssl crl and openssl verify -crl_check as
# independent clients. Usage: ENROLLD=path/to/enrolld revocation_test.sh
. "$(dirname "$0")/lib.sh"

D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1

# The HTTP listener gets a free port chosen now, so that publish.base_url (written into the
# certificates' CDP and AIA) names it.
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
H="http://127.0.0.1:$HTTP_PORT"
python3 - "$D/enrolld.json" "$H" <<'PY'
import json, sys
path, base = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["publish"] = {"base_url": base, "delta_crl_base_seconds": 3600}
json.dump(c, open(path, "w"), indent=2)
PY
HTTP_LISTEN=127.0.0.1:$HTTP_PORT start_enrolld "$D" || exit 1

CA=(--cacert "$D/ca/root-ca.pem")
P10=(-H 'Content-Type: application/pkcs10')
ROOT=$D/ca/root-ca.pem
ISSUING=$D/ca/issuing-ca.pem
cat "$ROOT" "$ISSUING" > chain.pem

# Registry: models, batches and labels for the selectors.
cat > fleet.csv <<CSV
id,model,batch,product_line,labels
DEMO-0001,M1,B1,PL1,site=north
DEMO-0002,M1,B2,PL1,site=south
DEMO-0003,M2,B2,PL2,site=south
BASIC-1,M3,B3,PL2,site=east
BASIC-2,M3,B3,PL2,site=east
CSV
"$ENROLLD" registry "$D" import fleet.csv > /dev/null || { echo "registry import failed"; exit 1; }
for u in BASIC-1 BASIC-2; do ENROLLD_PASSWORD="pw-$u-secret" "$ENROLLD" passwd "$D" "$u" > /dev/null; done

# enroll_boot N OUT: EST simpleenroll with demo bootstrap certificate N; OUT.pem and OUT.key
enroll_boot() {
  csr_b64 "$2.key" "/CN=DEMO-000$1" > "$2.b64"
  curl -s "${CA[@]}" --cert "$D/demo/device-000$1.pem" --key "$D/demo/device-000$1.key" "${P10[@]}" \
    --data-binary @"$2.b64" "$U/simpleenroll" | base64 -d | openssl pkcs7 -inform DER -print_certs -out "$2.pem" 2>/dev/null
}
enroll_basic() {  # USER OUT
  csr_b64 "$2.key" "/CN=$1" > "$2.b64"
  curl -s "${CA[@]}" -u "$1:pw-$1-secret" "${P10[@]}" --data-binary @"$2.b64" "$U/simpleenroll" \
    | base64 -d | openssl pkcs7 -inform DER -print_certs -out "$2.pem" 2>/dev/null
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//'; }
# ocsp CERT [more openssl ocsp args]: asks the responder over POST, checking the answer
ocsp() { local c=$1; shift; openssl ocsp -issuer "$ISSUING" -cert "$c" -url "$H/ocsp" -CAfile "$ROOT" "$@" 2>&1; }
crl_number() { curl -s "$H/crl/issuing.crl" | openssl crl -inform DER -noout -crlnumber 2>/dev/null | cut -d= -f2 | sed "s/^0x//"; }
# wait_crl_after N: waits until the full CRL's number is above N
wait_crl_after() {
  for _ in $(seq 1 100); do
    local n; n=$(crl_number)
    [ -n "$n" ] && [ $((16#$n)) -gt $((16#${1:-0})) ] && return 0
    sleep 0.1
  done
  return 1
}
fetch_crls() {  # full.pem, delta.pem, their text
  curl -s "$H/crl/issuing.crl" | openssl crl -inform DER -out full.pem 2>/dev/null
  curl -s "$H/crl/issuing-delta.crl" | openssl crl -inform DER -out delta.pem 2>/dev/null
  FULL=$(openssl crl -in full.pem -noout -text 2>&1)
  DELTA=$(openssl crl -in delta.pem -noout -text 2>&1)
}
renew_status() {  # CERT KEY: HTTP status of an EST simplereenroll
  openssl req -new -key "$2" -subj "/$(openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//')" \
    -outform DER 2>/dev/null | base64 > renew.b64
  http_status "${CA[@]}" --cert "$1" --key "$2" "${P10[@]}" --data-binary @renew.b64 "$U/simplereenroll"
}

echo "# enrollment: certificates point at the CRL and the responder"
enroll_boot 1 op1
enroll_boot 2 op2
enroll_boot 3 op3
enroll_basic BASIC-1 b1
enroll_basic BASIC-2 b2
for f in op1 op2 op3 b1 b2; do [ -s "$f.pem" ] || fail "enrollment of $f"; done
check_contains "CDP is publish.base_url/crl/issuing.crl" "URI:$H/crl/issuing.crl" \
  "$(openssl x509 -in op1.pem -noout -ext crlDistributionPoints)"
check_contains "AIA names the OCSP responder" "OCSP - URI:$H/ocsp" "$(openssl x509 -in op1.pem -noout -ext authorityInfoAccess)"
check_contains "AIA names caIssuers" "CA Issuers - URI:$H/ca/issuing.crt" "$(openssl x509 -in op1.pem -noout -ext authorityInfoAccess)"
check "caIssuers serves the issuing CA (DER)" "$(openssl x509 -in "$ISSUING" -noout -fingerprint)" \
  "$(curl -s "$H/ca/issuing.crt" | openssl x509 -inform DER -noout -fingerprint 2>&1)"

echo "# the first CRLs"
wait_crl_after 0 || fail "no CRL published"
check_contains "the full CRL is application/pkix-crl" "Content-Type: application/pkix-crl" \
  "$(curl -s -D - -o /dev/null "$H/crl/issuing.crl")"
fetch_crls
check_contains "an empty full CRL verifies with the issuing CA" "verify OK" \
  "$(openssl crl -in full.pem -CAfile chain.pem -noout 2>&1)"
check_contains "the full CRL names its deltas (Freshest CRL)" "URI:$H/crl/issuing-delta.crl" "$FULL"
check_contains "the delta CRL carries a critical Delta CRL Indicator" "Delta CRL Indicator: critical" "$DELTA"
check "verify -crl_check passes a good certificate" "op1.pem: OK" \
  "$(openssl verify -crl_check -CAfile chain.pem -CRLfile full.pem op1.pem 2>&1)"
check "an unknown CRL path is 404" 404 "$(http_status "$H/crl/nope.crl")"

echo "# OCSP: good, unknown, nonce, delegated responder"
OUT=$(ocsp op1.pem -resp_text)
check_contains "op1 is good" "op1.pem: good" "$OUT"
check_contains "the response verifies against the root" "Response verify OK" "$OUT"
check_contains "signed by the delegated responder (OCSP Signing)" "OCSP Signing" "$OUT"
check_contains "the responder certificate says ocsp-nocheck" "OCSP No Check" "$OUT"
check_contains "the nonce is echoed" "OCSP Nonce" "$OUT"
case "$OUT" in *"WARNING: no nonce"*|*"nonce verify error"*) fail "nonce not honoured" "$OUT" ;; *) pass "openssl checks the nonce without complaint" ;; esac
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger.key -subj /CN=stranger \
  -out stranger.csr 2>/dev/null
openssl x509 -req -in stranger.csr -CA "$ISSUING" -CAkey "$D/ca/issuing-ca.key" -set_serial 0x1234567 \
  -days 1 -out stranger.pem 2>/dev/null
check_contains "a serial this CA never issued is unknown" "stranger.pem: unknown" "$(ocsp stranger.pem)"
check_contains "another issuer's certificate is unknown" "device-0001.pem: unknown" \
  "$(openssl ocsp -issuer "$D/demo/manufacturer-ca.pem" -cert "$D/demo/device-0001.pem" -url "$H/ocsp" -noverify 2>&1)"
openssl ocsp -issuer "$ISSUING" -cert op1.pem -no_nonce -reqout req.der 2>/dev/null
GETPATH=$(base64 -w0 req.der | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g')
curl -s -o get.der -D get.hdr "$H/ocsp/$GETPATH"
check_contains "OCSP over GET (RFC 6960 A.1) answers application/ocsp-response" "application/ocsp-response" "$(cat get.hdr)"
check_contains "OCSP over GET: op1 is good" "op1.pem: good" \
  "$(openssl ocsp -respin get.der -issuer "$ISSUING" -cert op1.pem -CAfile "$ROOT" 2>&1)"

echo "# malformed OCSP requests"
printf 'garbage' > junk.bin
curl -s -o junk.der -H 'Content-Type: application/ocsp-request' --data-binary @junk.bin "$H/ocsp"
check_contains "a garbage request gets malformedRequest" "malformedrequest" \
  "$(openssl ocsp -respin junk.der -resp_text -noverify 2>&1 | tr 'A-Z' 'a-z')"
check "bad base64 in a GET is 400" 400 "$(http_status "$H/ocsp/%21%21not-base64%21%21")"
check "a POST of another content type is 415" 415 \
  "$(http_status -H 'Content-Type: text/plain' --data-binary @junk.bin "$H/ocsp")"
check_contains "malformed requests are logged" 'protocol=ocsp' "$(grep malformedRequest "$WORK/serve.err")"
check_contains "the server still answers" "op1.pem: good" "$(ocsp op1.pem)"

echo "# selectors and dry run"
usage_out=$("$ENROLLD" revoke "$D" 2>&1); rc=$?
check "an empty selector is refused (exit 2)" 2 "$rc"
check_contains "and says why" "selector" "$usage_out"
"$ENROLLD" revoke "$D" --batch B2 --reason stolen > /dev/null 2>&1; rc=$?
check "an unknown reason is refused (exit 2)" 2 "$rc"
DRY=$("$ENROLLD" revoke "$D" --batch B2 --reason keyCompromise --dry-run 2>&1)
check_contains "dry run counts batch B2" "2 certificate(s) match" "$DRY"
check_contains "dry run shows a sample" "DEMO-0002" "$DRY"
check_contains "dry run changes nothing (OCSP still good)" "op2.pem: good" "$(ocsp op2.pem)"
BOOT_CA=$(openssl x509 -in "$D/demo/manufacturer-ca.pem" -outform DER | sha256sum | cut -d' ' -f1)
check_contains "--bootstrap-ca matches the three bootstrap enrollments" "3 certificate(s) match" \
  "$("$ENROLLD" revoke "$D" --bootstrap-ca "$BOOT_CA" --dry-run 2>&1)"
check_contains "--model M3 matches the Basic devices" "2 certificate(s) match" \
  "$("$ENROLLD" revoke "$D" --model M3 --dry-run 2>&1)"
check_contains "--device-label site=south --product-line PL2 matches one" "1 certificate(s) match" \
  "$("$ENROLLD" revoke "$D" --device-label site=south --product-line PL2 --dry-run 2>&1)"
check_contains "--issued-to in the past matches nothing" "0 certificate(s) match" \
  "$("$ENROLLD" revoke "$D" --issued-to 2000-01-01 --dry-run 2>&1)"
check_contains "--issued-from and --label default match all five" "5 certificate(s) match" \
  "$("$ENROLLD" revoke "$D" --issued-from 2000-01-01 --label default --dry-run 2>&1)"

echo "# revoke batch B2 (keyCompromise)"
N0=$(crl_number)
REV=$("$ENROLLD" revoke "$D" --batch B2 --reason keyCompromise 2>rev.err)
check_contains "two certificates revoked" "2 certificate(s) matched, 2 revoked" "$REV"
check_contains "progress on stderr" "revoked 2/2 (100%)" "$(cat rev.err)"
wait_crl_after "$N0" || fail "the CRL was not regenerated after the revocation"
fetch_crls
check "the CRL number grew" 1 "$([ $((16#$(crl_number))) -gt $((16#$N0)) ] && echo 1)"
S2=$(serial_of op2.pem); S3=$(serial_of op3.pem)
check_contains "the full CRL lists op2" "$(echo "$S2" | tr 'a-f' 'A-F')" "$FULL"
check_contains "the full CRL lists op3" "$(echo "$S3" | tr 'a-f' 'A-F')" "$FULL"
check_contains "with reason keyCompromise" "Key Compromise" "$FULL"
check_contains "the delta CRL lists them too" "$(echo "$S2" | tr 'a-f' 'A-F')" "$DELTA"
OUT=$(ocsp op2.pem)
check_contains "OCSP says op2 is revoked" "op2.pem: revoked" "$OUT"
check_contains "with the reason" "Reason: keyCompromise" "$OUT"
check_contains "and the time" "Revocation Time:" "$OUT"
check_contains "verify -crl_check refuses op2" "certificate revoked" \
  "$(openssl verify -crl_check -CAfile chain.pem -CRLfile full.pem op2.pem 2>&1)"
check "verify -crl_check still passes op1" "op1.pem: OK" \
  "$(openssl verify -crl_check -CAfile chain.pem -CRLfile full.pem op1.pem 2>&1)"
check_contains "verify -crl_check -use_deltas with the full and delta CRLs refuses op3" "certificate revoked" \
  "$(openssl verify -crl_check -use_deltas -CAfile chain.pem -CRLfile full.pem -CRLfile delta.pem op3.pem 2>&1)"
check "EST renewal with a revoked certificate is refused" 403 "$(renew_status op2.pem op2.key)"
N1=$(crl_number)
check_contains "a repeat is idempotent" "2 certificate(s) matched, 0 revoked" \
  "$("$ENROLLD" revoke "$D" --batch B2 --reason keyCompromise 2>/dev/null)"
check_contains "a repeat keeps the revocation reason" "Reason: keyCompromise" "$(ocsp op2.pem)"

COAP=${COAP_CLIENT:-coap-client-openssl}
if command -v "$COAP" > /dev/null && [ -n "$COAP_PORT" ]; then
  openssl req -new -key op3.key -subj /CN=DEMO-0003 -outform DER -out sren.der 2>/dev/null
  check_contains "EST-coaps sren with a revoked certificate is refused (4.03)" "4.03" \
    "$(timeout 60 "$COAP" -B 20 -C "$ROOT" -c op3.pem -j op3.key -m post -t 286 -A 287 -f sren.der -o sren.out \
       "coaps://127.0.0.1:$COAP_PORT/est/sren" 2>&1)"
else
  echo "skip - EST-coaps sren ($COAP not installed)"
fi

echo "# hold and release (device label site=north)"
N2=$(crl_number)
check_contains "hold by device label" "1 certificate(s) matched, 1 held" \
  "$("$ENROLLD" revoke "$D" --device-label site=north --hold 2>/dev/null)"
wait_crl_after "$N2" || fail "no CRL after the hold"
fetch_crls
OUT=$(ocsp op1.pem)
check_contains "OCSP says a held certificate is revoked" "op1.pem: revoked" "$OUT"
check_contains "with reason certificateHold" "Reason: certificateHold" "$OUT"
check_contains "the full CRL lists it on hold" "Certificate Hold" "$FULL"
check "EST renewal while on hold is refused" 403 "$(renew_status op1.pem op1.key)"
N3=$(crl_number)
check_contains "release" "1 certificate(s) matched, 1 released" \
  "$("$ENROLLD" revoke "$D" --device DEMO-0001 --release 2>/dev/null)"
wait_crl_after "$N3" || fail "no CRL after the release"
fetch_crls
check_contains "OCSP says good again" "op1.pem: good" "$(ocsp op1.pem)"
check_contains "the delta CRL says removeFromCRL" "Remove From CRL" "$DELTA"
check "the full CRL no longer lists it" "" "$(echo "$FULL" | grep -i "$(serial_of op1.pem)")"
check "verify -crl_check passes it again" "op1.pem: OK" \
  "$(openssl verify -crl_check -CAfile chain.pem -CRLfile full.pem op1.pem 2>&1)"
check "EST renewal after release works" 200 "$(renew_status op1.pem op1.key)"

echo "# revoke and block batch B3 (cessationOfOperation)"
check_contains "revoke with --block-devices" "2 revoked, 2 device(s) blocked" \
  "$("$ENROLLD" revoke "$D" --batch B3 --reason cessationOfOperation --block-devices 2>/dev/null)"
check_contains "OCSP: b1 revoked, cessationOfOperation" "Reason: cessationOfOperation" "$(ocsp b1.pem)"
check_contains "the registry shows the device blocked" "blocked" "$("$ENROLLD" registry "$D" show BASIC-1)"
csr_b64 again.key /CN=BASIC-1 > again.b64
check "a blocked device cannot enroll again" 403 \
  "$(http_status "${CA[@]}" -u BASIC-1:pw-BASIC-1-secret "${P10[@]}" --data-binary @again.b64 "$U/simpleenroll")"

echo "# serials file"
enroll_boot 1 op1b
serial_of op1b.pem > serials.txt
echo "# a comment line" >> serials.txt
check_contains "--serials-file revokes what it lists" "1 certificate(s) matched, 1 revoked" \
  "$("$ENROLLD" revoke "$D" --serials-file serials.txt --reason superseded 2>/dev/null)"
check_contains "OCSP: revoked (superseded)" "Reason: superseded" "$(ocsp op1b.pem)"
check_contains "the single-serial form still works" "is now revoked" \
  "$("$ENROLLD" revoke "$D" "$(serial_of op1.pem)" --reason 4 2>/dev/null)"
"$ENROLLD" revoke "$D" ffff0000 > /dev/null 2>&1; rc=$?
check "the single-serial form fails for an unknown serial" 1 "$rc"

if command -v scepclient > /dev/null; then
  echo "# SCEP renewal (RenewalReq) after revocation"
  mkdir scep && cd scep || exit 1
  curl -s -o ra.der "$H/scep/scep-legacy?operation=GetCACert"
  openssl pkcs7 -inform DER -in ra.der -print_certs -out ra-certs.pem 2>/dev/null
  awk '/BEGIN CERT/{n++; on=1} on && n==1{print > "first.pem"} /END CERT/{on=0}' ra-certs.pem
  FP=$(openssl x509 -in first.pem -outform DER | sha256sum | cut -d' ' -f1)
  CHALLENGE=$(tr -d '\n' < "$D/demo/scep-challenge.txt")
  scepclient -server-url "$H/scep/scep-legacy" -challenge "$CHALLENGE" -private-key k.pem -certificate c.pem \
    -cn SCEP-REV-1 -ca-fingerprint "$FP" > enroll.log 2>&1
  if [ -s c.pem ]; then
    pass "scepclient enrolled SCEP-REV-1"
    "$ENROLLD" revoke "$D" --device SCEP-REV-1 --reason keyCompromise > /dev/null 2>&1
    before=$(openssl x509 -in c.pem -noout -serial)
    if scepclient -server-url "$H/scep/scep-legacy" -challenge "$CHALLENGE" -private-key k.pem -certificate c.pem \
         -cn SCEP-REV-1 -ca-fingerprint "$FP" > renew.log 2>&1; then
      fail "SCEP RenewalReq with a revoked certificate was accepted" "$(cat renew.log)"
    else
      check "SCEP RenewalReq with a revoked certificate is refused" "$before" "$(openssl x509 -in c.pem -noout -serial)"
    fi
  else
    fail "scepclient enrollment" "$(cat enroll.log)"
  fi
  cd "$WORK" || exit 1
else
  echo "skip - SCEP renewal (scepclient not installed)"
fi

echo "# SCEP GetCRL and the published CRL agree"
check_contains "the server logged each CRL it published" "event=crl_published" "$(cat "$WORK/serve.err")"

stop_enrolld || fail "enrolld did not stop cleanly"
finish
