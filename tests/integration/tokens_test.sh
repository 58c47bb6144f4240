#!/usr/bin/env bash
# One-time enrollment tokens end to end: created with `enrolld tokens`, used once as the EST
# Basic password (curl) and as the SCEP challengePassword (scepclient), refused the second time.
. "$(dirname "$0")/lib.sh"
D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
start_enrolld "$D" || exit 1
HTTP_BASE=$(sed -n 's|^listening http \(http://127.0.0.1:[0-9]*/\)|\1|p' "$WORK/serve.out")
CA=(--cacert "$D/ca/root-ca.pem")
P10=(-H 'Content-Type: application/pkcs10')

echo "# create and export"
"$ENROLLD" tokens "$D" create --count 2 --batch B-7 --expires-days 2 > batch.csv
"$ENROLLD" tokens "$D" create --device UNIT-0042 --batch B-7 > unit.csv
check "the export has a header and two tokens" 3 "$(wc -l < batch.csv)"
check_contains "the export names the device" ",default,UNIT-0042,B-7," "$(cat unit.csv)"
T1=$(sed -n 2p batch.csv | cut -d, -f1)
T2=$(sed -n 3p batch.csv | cut -d, -f1)
TU=$(sed -n 2p unit.csv | cut -d, -f1)
check "tokens are never stored in clear" 0 "$(sqlite3 "$D/enrolld.db" "SELECT COUNT(*) FROM tokens WHERE token_hash = '$T1'")"
"$ENROLLD" tokens "$D" create --label nosuchlabel --count 1 > /dev/null 2>&1
check "tokens for an unknown label are refused" 1 "$?"

echo "# EST: the token as the Basic password"
csr_b64 k1.key /CN=ignored > c1.b64
curl -s "${CA[@]}" -u UNIT-0042:"$TU" "${P10[@]}" --data-binary @c1.b64 "$U/simpleenroll" | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out u.pem 2>/dev/null
check "a device token enrolls its device" "subject=CN = UNIT-0042" "$(openssl x509 -in u.pem -noout -subject 2>&1)"
csr_b64 k2.key /CN=ignored > c2.b64
check "the same token a second time is refused" 403 \
  "$(http_status "${CA[@]}" -u UNIT-0042:"$TU" "${P10[@]}" --data-binary @c2.b64 "$U/simpleenroll")"
curl -s "${CA[@]}" -u LINE-SERIAL-9:"$T1" "${P10[@]}" --data-binary @c2.b64 "$U/simpleenroll" | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out b.pem 2>/dev/null
check "a batch token takes the device id from the user name" "subject=CN = LINE-SERIAL-9" "$(openssl x509 -in b.pem -noout -subject 2>&1)"
check "a made-up token is refused" 401 \
  "$(http_status "${CA[@]}" -u X:edt_0123456789abcdef0123456789abcdef "${P10[@]}" --data-binary @c2.b64 "$U/simpleenroll")"

echo "# SCEP: the token as the challengePassword (scepclient, legacy label needs its own token)"
"$ENROLLD" tokens "$D" create --label scep-legacy --count 1 > scep.csv
TS=$(sed -n 2p scep.csv | cut -d, -f1)
curl -s "${HTTP_BASE}scep/scep-legacy?operation=GetCACert" | openssl pkcs7 -inform DER -print_certs 2>/dev/null \
  | awk '/BEGIN/{n++} n==1' > ra.pem
FP=$(openssl x509 -in ra.pem -outform DER | sha256sum | cut -d' ' -f1)
mkdir dev1 && cd dev1
scepclient -server-url "${HTTP_BASE}scep/scep-legacy" -challenge "$TS" -private-key k.pem -certificate c.pem \
  -cn CAM-0001 -ca-fingerprint "$FP" > log.txt 2>&1
check "scepclient enrolls with a one-time challenge" 1 "$([ -s c.pem ] && echo 1)"
check "the issued subject is the profile's" "subject=CN = CAM-0001" "$(openssl x509 -in c.pem -noout -subject 2>&1)"
cd .. && mkdir dev2 && cd dev2
scepclient -server-url "${HTTP_BASE}scep/scep-legacy" -challenge "$TS" -private-key k.pem -certificate c.pem \
  -cn CAM-0002 -ca-fingerprint "$FP" > log.txt 2>&1
check "reusing the challenge fails" 1 "$([ -e c.pem ] && echo 0 || echo 1)"
check_contains "with failInfo badRequest" "badRequest" "$(cat log.txt)"
cd ..

echo "# list and revoke"
"$ENROLLD" tokens "$D" revoke "$T2" > /dev/null
check "a revoked token is refused" 403 \
  "$(http_status "${CA[@]}" -u X:"$T2" "${P10[@]}" --data-binary @c2.b64 "$U/simpleenroll")"
LIST=$("$ENROLLD" tokens "$D" list)
check "list shows used, revoked and their states" "3 1" \
  "$(echo "$LIST" | grep -c $'\tused\t') $(echo "$LIST" | grep -c $'\trevoked\t')"
"$ENROLLD" tokens "$D" revoke "$TU" > /dev/null 2>&1
check "a used token cannot be revoked" 1 "$?"
finish
