#!/usr/bin/env bash
# EST over HTTPS end to end (RFC 7030, RFC 8951): the real enrolld on loopback, curl and the
# openssl CLI as the independent client. Usage: ENROLLD=path/to/enrolld est_https_test.sh
. "$(dirname "$0")/lib.sh"

D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
CA=(--cacert "$D/ca/root-ca.pem")
BOOT=(--cert "$D/demo/device-0001.pem" --key "$D/demo/device-0001.key")
P10=(-H 'Content-Type: application/pkcs10')

# A configuration with every policy the tests need (written here, so the test says what it uses).
cat > "$D/enrolld.json" <<JSON
{
  "listen": {"est": "127.0.0.1:0"},
  "tls": {"certificate": "tls/server.pem", "key": "tls/server.key"},
  "http": {"max_body_bytes": 16384},
  "database": {"path": "enrolld.db", "busy_timeout_ms": 300},
  "cas": {"issuing": {"certificate": "ca/issuing-ca.pem", "chain": "ca/root-ca.pem", "key": "ca/issuing-ca.key"}},
  "trust_anchors": {"demo-manufacturer": {"certificates": ["demo/manufacturer-ca.pem"]}},
  "profiles": {
    "device": {"subject": "CN={device.id}", "subject_alt_names": ["URI:urn:dev:serial:{device.id}"]},
    "strict": {"subject": "CN={device.id}", "subject_alt_names": [], "subject_policy": "match", "allowed_keys": ["ec-p256"]}
  },
  "labels": {
    "default": {"bootstrap_trust": ["demo-manufacturer"], "allow_basic": true},
    "approval": {"bootstrap_trust": ["demo-manufacturer"], "manual_approval": true, "retry_after_seconds": 7},
    "bound": {"bootstrap_trust": ["demo-manufacturer"], "require_channel_binding": true},
    "strict": {"bootstrap_trust": ["demo-manufacturer"], "profile": "strict"},
    "known": {"bootstrap_trust": ["demo-manufacturer"], "known_devices_only": true}
  }
}
JSON
start_enrolld "$D" || exit 1

echo "# cacerts"
curl -s "${CA[@]}" "$U/cacerts" | base64 -d > cacerts.p7
openssl pkcs7 -inform DER -in cacerts.p7 -print_certs -out cacerts.pem 2>/dev/null
check "cacerts returns the issuing CA and the root" 2 "$(grep -c 'BEGIN CERTIFICATE' cacerts.pem)"
check_contains "cacerts holds the configured root" "$(openssl x509 -in "$D/ca/root-ca.pem" -noout -subject)" \
  "$(openssl crl2pkcs7 -nocrl -certfile cacerts.pem | openssl pkcs7 -print_certs -noout 2>/dev/null; openssl x509 -in "$D/ca/root-ca.pem" -noout -subject)"
check_contains "cacerts answers application/pkcs7-mime" "application/pkcs7-mime" \
  "$(curl -s -D - -o /dev/null "${CA[@]}" "$U/cacerts")"

echo "# simpleenroll with a bootstrap certificate"
csr_b64 op.key /CN=DEMO-0001 > csr.b64
curl -s "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @csr.b64 "$U/simpleenroll" | base64 -d > op.p7
openssl pkcs7 -inform DER -in op.p7 -print_certs -out op.pem 2>/dev/null
check "issued certificate verifies against the root" "op.pem: OK" \
  "$(openssl verify -CAfile "$D/ca/root-ca.pem" -untrusted "$D/ca/issuing-ca.pem" op.pem 2>&1)"
check "subject comes from the bootstrap certificate's device id" "subject=CN = DEMO-0001" "$(openssl x509 -in op.pem -noout -subject)"
check "certificate carries the CSR's public key" "$(openssl pkey -in op.key -pubout)" "$(openssl x509 -in op.pem -noout -pubkey)"
check_contains "profile SAN is present" "URI:urn:dev:serial:DEMO-0001" "$(openssl x509 -in op.pem -noout -ext subjectAltName)"

echo "# RFC 8951 body forms"
openssl req -new -key op.key -subj /CN=DEMO-0002 -outform DER 2>/dev/null > csr2.der
BOOT2=(--cert "$D/demo/device-0002.pem" --key "$D/demo/device-0002.key")
base64 -w0 csr2.der > oneline.b64
check "one base64 line without a final newline" 200 \
  "$(http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @oneline.b64 "$U/simpleenroll")"
base64 -w 64 csr2.der > lines64.b64
check "64-column lines with a final newline" 200 \
  "$(http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @lines64.b64 "$U/simpleenroll")"
check "Content-Transfer-Encoding: base64 present" 200 \
  "$(http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" -H 'Content-Transfer-Encoding: base64' --data-binary @lines64.b64 "$U/simpleenroll")"
check "chunked transfer encoding" 200 \
  "$(http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" -H 'Transfer-Encoding: chunked' --data-binary @lines64.b64 "$U/simpleenroll")"
check_contains "responses say Content-Transfer-Encoding: base64" "Content-Transfer-Encoding: base64" \
  "$(curl -s -D - -o /dev/null "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @lines64.b64 "$U/simpleenroll")"

echo "# simplereenroll: renew and rekey"
openssl req -new -key op.key -subj /CN=DEMO-0001 -outform DER 2>/dev/null | base64 > renew.b64
curl -s "${CA[@]}" --cert op.pem --key op.key "${P10[@]}" --data-binary @renew.b64 "$U/simplereenroll" | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out renewed.pem 2>/dev/null
check "renewal keeps the subject" "subject=CN = DEMO-0001" "$(openssl x509 -in renewed.pem -noout -subject 2>&1)"
check "renewal has a new serial" 1 "$([ "$(openssl x509 -in renewed.pem -noout -serial)" != "$(openssl x509 -in op.pem -noout -serial)" ] && echo 1)"
csr_b64 rekey.key /CN=DEMO-0001 > rekey.b64
curl -s "${CA[@]}" --cert renewed.pem --key op.key "${P10[@]}" --data-binary @rekey.b64 "$U/simplereenroll" | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out rekeyed.pem 2>/dev/null
check "rekey certifies the new key" "$(openssl pkey -in rekey.key -pubout)" "$(openssl x509 -in rekeyed.pem -noout -pubkey 2>&1)"
csr_b64 other.key /CN=SOMEONE-ELSE > other.b64
check "re-enrollment must keep the subject (RFC 7030 4.2.2)" 400 \
  "$(http_status "${CA[@]}" --cert rekeyed.pem --key rekey.key "${P10[@]}" --data-binary @other.b64 "$U/simplereenroll")"
check "re-enrollment with a bootstrap certificate is refused" 401 \
  "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @renew.b64 "$U/simplereenroll")"
SERIAL=$(openssl x509 -in renewed.pem -noout -serial | cut -d= -f2)
"$ENROLLD" revoke "$D" "$SERIAL" --reason 1 > /dev/null
check "re-enrollment with a revoked certificate is refused" 403 \
  "$(http_status "${CA[@]}" --cert renewed.pem --key op.key "${P10[@]}" --data-binary @renew.b64 "$U/simplereenroll")"

echo "# csrattrs"
curl -s "${CA[@]}" "$U/csrattrs" | base64 -d > attrs.der
check_contains "csrattrs asks for a P-256 key" "prime256v1" "$(openssl asn1parse -inform DER -in attrs.der 2>&1)"
curl -s "${CA[@]}" "$U/bound/csrattrs" | base64 -d > bound-attrs.der
check_contains "csrattrs of a channel-bound label asks for challengePassword" "challengePassword" \
  "$(openssl asn1parse -inform DER -in bound-attrs.der 2>&1)"

echo "# serverkeygen (RFC 7030 4.4)"
csr_b64 throwaway.key /CN=DEMO-0003 > skg.b64
BOOT3=(--cert "$D/demo/device-0003.pem" --key "$D/demo/device-0003.key")
curl -s -D skg.hdr "${CA[@]}" "${BOOT3[@]}" "${P10[@]}" --data-binary @skg.b64 "$U/serverkeygen" > skg.body
check_contains "serverkeygen answers multipart/mixed" "multipart/mixed; boundary=" "$(cat skg.hdr)"
awk '/application\/pkcs8/{p=1;next} /^--/{p=0} p' skg.body | tr -d '\r' | sed '/^Content-Transfer-Encoding/d;/^$/d' | base64 -d > skg.key.der
awk '/application\/pkcs7-mime/{p=1;next} /^--/{p=0} p' skg.body | tr -d '\r' | sed '/^Content-Transfer-Encoding/d;/^$/d' | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out skg.pem 2>/dev/null
check "the returned key matches the returned certificate" "$(openssl pkey -inform DER -in skg.key.der -pubout 2>&1)" \
  "$(openssl x509 -in skg.pem -noout -pubkey 2>&1)"
check "the server-made key is not the CSR's key" 1 \
  "$([ "$(openssl pkey -in throwaway.key -pubout)" != "$(openssl x509 -in skg.pem -noout -pubkey)" ] && echo 1)"

echo "# serverkeygen with the key encrypted to the bootstrap certificate (RFC 7030 4.4.1.2, 4.4.2)"
ASYMM=1.2.840.113549.1.9.16.2.54
# part TYPE FILE: the base64 body of the multipart part whose Content-Type contains TYPE, decoded
part() { awk -v t="$1" 'index($0, t){p=1;next} /^--/{p=0} p' "$2" | tr -d '\r' | sed '/^Content-Transfer-Encoding/d;/^$/d' | base64 -d; }
csr_with_key_id throwaway.key /CN=DEMO-0003 $ASYMM "$(ski "$D/demo/device-0003.pem")" | base64 > skg-enc.b64
curl -s "${CA[@]}" "${BOOT3[@]}" "${P10[@]}" --data-binary @skg-enc.b64 "$U/serverkeygen" > skg-enc.body
check_contains "the key part is application/pkcs7-mime; smime-type=server-generated-key" \
  "Content-Type: application/pkcs7-mime; smime-type=server-generated-key" "$(cat skg-enc.body)"
check "and there is no plain PKCS#8 part" 0 "$(grep -c 'application/pkcs8' skg-enc.body)"
part smime-type=server-generated-key skg-enc.body > skg-enc.p7m
part smime-type=certs-only skg-enc.body | openssl pkcs7 -inform DER -print_certs -out skg-enc.pem 2>/dev/null
check_contains "the outer structure is an EnvelopedData holding a SignedData" "contentType: pkcs7-signedData" \
  "$(openssl cms -cmsout -print -inform DER -in skg-enc.p7m 2>&1 | grep -A3 encryptedContentInfo)"
check_sealed_key skg-enc.p7m skg-enc.pem device-0003

echo "# encrypted serverkeygen refused before anything is issued"
certs() { sqlite3 "$D/enrolld.db" "SELECT COUNT(*) FROM certificates; SELECT COUNT(*) FROM enrollment_events;" | tr '\n' ' '; }
BEFORE=$(certs)
csr_with_key_id throwaway.key /CN=DEMO-0003 $ASYMM 00112233445566778899aabbccddeeff00112233 | base64 > skg-other.b64
curl -s "${CA[@]}" "${BOOT3[@]}" "${P10[@]}" --data-binary @skg-other.b64 "$U/serverkeygen" -w ' %{http_code}' > r.txt
check_contains "an identifier of another key gets 400 with the reason" "does not name the key of this connection's client certificate" "$(cat r.txt)"
check_contains "(status 400)" " 400" "$(cat r.txt)"
csr_with_key_id throwaway.key /CN=DEMO-0003 1.2.840.113549.1.9.16.2.37 0102030405060708 | base64 > skg-sym.b64
curl -s "${CA[@]}" "${BOOT3[@]}" "${P10[@]}" --data-binary @skg-sym.b64 "$U/serverkeygen" -w ' %{http_code}' > r.txt
check_contains "id-aa-decryptKeyID (a symmetric key) gets 400" "id-aa-decryptKeyID (a pre-shared symmetric key) is not supported" "$(cat r.txt)"
check_contains "(status 400 too)" " 400" "$(cat r.txt)"
ENROLLD_PASSWORD='skg-secret-1' "$ENROLLD" passwd "$D" skgstation --device LINE-7-UNIT-43 > /dev/null
check "HTTP Basic cannot receive an encrypted key (400)" 400 \
  "$(http_status "${CA[@]}" -u skgstation:skg-secret-1 "${P10[@]}" --data-binary @skg-enc.b64 "$U/serverkeygen")"
check "nothing was issued or recorded for the refused requests" "$BEFORE" "$(certs)"
check "each refusal is logged once" 1 "$(grep -c "does not name the key of this connection" "$WORK/serve.err")"

echo "# HTTP Basic"
ENROLLD_PASSWORD='station-secret-1' "$ENROLLD" passwd "$D" station1 --device LINE-7-UNIT-42 > /dev/null
csr_b64 basic.key /CN=x > basic.b64
check "Basic credentials enroll" 200 "$(http_status "${CA[@]}" -u station1:station-secret-1 "${P10[@]}" --data-binary @basic.b64 "$U/simpleenroll")"
check "a wrong password is refused" 401 "$(http_status "${CA[@]}" -u station1:wrong-password "${P10[@]}" --data-binary @basic.b64 "$U/simpleenroll")"
check_contains "401 asks for Basic" 'WWW-Authenticate: Basic realm="enrolld default"' \
  "$(curl -s -D - -o /dev/null "${CA[@]}" "${P10[@]}" --data-binary @basic.b64 "$U/simpleenroll")"
check "a client that sends credentials only after a 401 enrolls" 200 \
  "$(http_status "${CA[@]}" --anyauth -u station1:station-secret-1 "${P10[@]}" --data-binary @basic.b64 "$U/simpleenroll")"
curl -s "${CA[@]}" -u station1:station-secret-1 "${P10[@]}" --data-binary @basic.b64 "$U/simpleenroll" | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out basic.pem 2>/dev/null
check "Basic credentials stand for their device" "subject=CN = LINE-7-UNIT-42" "$(openssl x509 -in basic.pem -noout -subject 2>&1)"

echo "# channel binding (RFC 7030 3.5): wrong values (the right value is tested by est_channel_binding_test)"
openssl req -new -key op.key -subj /CN=DEMO-0001 -addext "basicConstraints=CA:FALSE" -outform DER 2>/dev/null | base64 > nobind.b64
check "a channel-bound label refuses a CSR without challengePassword" 403 \
  "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @nobind.b64 "$U/bound/simpleenroll")"
printf '[req]\ndistinguished_name=dn\nattributes=at\nprompt=no\n[dn]\nCN=DEMO-0001\n[at]\nchallengePassword=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' > cp.cnf
openssl req -new -key op.key -config cp.cnf -outform DER 2>/dev/null | base64 > wrongbind.b64
check "a challengePassword that is not this connection's tls-unique is refused" 403 \
  "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @wrongbind.b64 "$U/bound/simpleenroll")"

echo "# manual approval"
csr_b64 held.key /CN=DEMO-0002 > held.b64
curl -s -D held.hdr -o /dev/null "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @held.b64 "$U/approval/simpleenroll"
check_contains "a held request gets 202" "HTTP/1.1 202" "$(cat held.hdr)"
check_contains "with Retry-After" "Retry-After: 7" "$(cat held.hdr)"
check "asking again before approval is still 202" 202 \
  "$(http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @held.b64 "$U/approval/simpleenroll")"
PENDING_ID=$("$ENROLLD" pending "$D" list | awk '$2=="pending"{print $1}' | head -1)
check_contains "the operator sees the held request" "approval/" "$PENDING_ID"
"$ENROLLD" pending "$D" approve "$PENDING_ID" > /dev/null
curl -s "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @held.b64 "$U/approval/simpleenroll" | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out held.pem 2>/dev/null
check "after approval the same request gets the certificate" "$(openssl pkey -in held.key -pubout)" "$(openssl x509 -in held.pem -noout -pubkey 2>&1)"
curl -s "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @held.b64 "$U/approval/simpleenroll" | base64 -d \
  | openssl pkcs7 -inform DER -print_certs -out held2.pem 2>/dev/null
check "asking once more returns the same certificate, not a second one" \
  "$(openssl x509 -in held.pem -noout -serial)" "$(openssl x509 -in held2.pem -noout -serial 2>&1)"
csr_b64 rej.key /CN=DEMO-0002 > rej.b64
http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @rej.b64 "$U/approval/simpleenroll" > /dev/null
REJ_ID=$("$ENROLLD" pending "$D" list | awk '$2=="pending"{print $1}' | head -1)
"$ENROLLD" pending "$D" reject "$REJ_ID" > /dev/null
check "a rejected request is refused" 403 "$(http_status "${CA[@]}" "${BOOT2[@]}" "${P10[@]}" --data-binary @rej.b64 "$U/approval/simpleenroll")"

echo "# bootstrap certificates that must be refused"
mkdir -p mca/newcerts && touch mca/index.txt && echo 1000 > mca/serial
cat > mca/ca.cnf <<CNF
[ca]
default_ca = c
[c]
dir = $WORK/mca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
serialNumber = optional
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
CNF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout old.key -subj "/CN=OLD-1/serialNumber=OLD-1" -out old.csr 2>/dev/null
openssl ca -batch -config mca/ca.cnf -cert "$D/demo/manufacturer-ca.pem" -keyfile "$D/demo/manufacturer-ca.key" \
  -startdate 20200101000000Z -enddate 20210101000000Z -extensions ext -notext -in old.csr -out expired.pem 2>/dev/null
openssl ca -batch -config mca/ca.cnf -cert "$D/demo/manufacturer-ca.pem" -keyfile "$D/demo/manufacturer-ca.key" \
  -startdate 20400101000000Z -enddate 20410101000000Z -extensions ext -notext -in old.csr -out future.pem 2>/dev/null
curl -s "${CA[@]}" --cert expired.pem --key old.key "${P10[@]}" --data-binary @csr.b64 "$U/simpleenroll" -w ' %{http_code}' > r.txt
check_contains "an expired bootstrap certificate is refused with 401" "has expired 401" "$(tr -d '\n' < r.txt)"
curl -s "${CA[@]}" --cert future.pem --key old.key "${P10[@]}" --data-binary @csr.b64 "$U/simpleenroll" -w ' %{http_code}' > r.txt
check_contains "a not yet valid bootstrap certificate is refused with 401" "not yet valid 401" "$(tr -d '\n' < r.txt)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue-ca.key -subj /CN=Rogue -days 30 \
  -addext basicConstraints=critical,CA:TRUE -out rogue-ca.pem 2>/dev/null
openssl req -new -key old.key -subj "/CN=ROGUE-1" -out rogue.csr 2>/dev/null
openssl x509 -req -in rogue.csr -CA rogue-ca.pem -CAkey rogue-ca.key -days 30 -out rogue.pem 2>/dev/null
curl -s "${CA[@]}" --cert rogue.pem --key old.key "${P10[@]}" --data-binary @csr.b64 "$U/simpleenroll" -w ' %{http_code}' > r.txt
check_contains "a bootstrap certificate from an unknown CA is refused with 401" "does not chain to a trusted CA 401" "$(tr -d '\n' < r.txt)"

echo "# CSRs that must be refused"
base64 -d csr.b64 > good.der
LEN=$(stat -c %s good.der)
cp good.der badsig.der
printf '\x00\x00\x00\x00' | dd of=badsig.der bs=1 seek=$((LEN - 8)) conv=notrunc 2>/dev/null
base64 badsig.der > badsig.b64
curl -s "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @badsig.b64 "$U/simpleenroll" -w ' %{http_code}' > r.txt
check_contains "a CSR whose signature does not verify gets 400" "400" "$(tr -d '\n' < r.txt)"
check "a subject the profile forbids gets 403" 403 \
  "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @other.b64 "$U/strict/simpleenroll")"
openssl req -new -newkey rsa:2048 -nodes -keyout rsa.key -subj /CN=DEMO-0001 -outform DER 2>/dev/null | base64 > rsa.b64
curl -s "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @rsa.b64 "$U/strict/simpleenroll" -w ' %{http_code}' > r.txt
check_contains "a key type the profile does not allow gets 400 with the reason" "not allowed by profile strict" "$(tr -d '\n' < r.txt)"
openssl req -new -newkey rsa:1024 -nodes -keyout rsa1k.key -subj /CN=DEMO-0001 -outform DER 2>/dev/null | base64 > rsa1k.b64
curl -s "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @rsa1k.b64 "$U/simpleenroll" -w ' %{http_code}' > r.txt
check_contains "RSA-1024 is refused" "under 2048 bits are refused" "$(tr -d '\n' < r.txt)"

echo "# every error status"
printf 'this is not base64!' > junk.b64
check "malformed base64 gets 400" 400 "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @junk.b64 "$U/simpleenroll")"
printf 'aGVsbG8gd29ybGQ=' > notcsr.b64
check "base64 that is not a CSR gets 400" 400 "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @notcsr.b64 "$U/simpleenroll")"
check "no credentials get 401" 401 "$(http_status "${CA[@]}" "${P10[@]}" --data-binary @csr.b64 "$U/simpleenroll")"
openssl req -new -key old.key -subj "/CN=NEW-0001/serialNumber=NEW-0001" -out new.csr 2>/dev/null
openssl x509 -req -in new.csr -CA "$D/demo/manufacturer-ca.pem" -CAkey "$D/demo/manufacturer-ca.key" -days 30 -out new.pem 2>/dev/null
check "known-devices-only refuses a device not in the registry with 403" 403 \
  "$(http_status "${CA[@]}" --cert new.pem --key old.key "${P10[@]}" --data-binary @skg.b64 "$U/known/simpleenroll")"
curl -s "${CA[@]}" --cert new.pem --key old.key "${P10[@]}" --data-binary @skg.b64 "$U/known/simpleenroll" > r.txt
check_contains "the 403 names the policy that refused" "known_devices_only" "$(tr -d '\n' < r.txt)"
check "an unknown label gets 404" 404 "$(http_status "${CA[@]}" "$U/no-such-label/cacerts")"
check "an unknown operation gets 404" 404 "$(http_status "${CA[@]}" "$U/nosuchop")"
check "a path outside EST gets 404" 404 "$(http_status "${CA[@]}" "https://127.0.0.1:$PORT/elsewhere")"
head -c 20000 /dev/zero | base64 > big.b64
check "a body over the limit gets 413" 413 "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @big.b64 "$U/simpleenroll")"
check "a chunked body over the limit gets 413" 413 \
  "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" -H 'Transfer-Encoding: chunked' --data-binary @big.b64 "$U/simpleenroll")"
check "a wrong content type gets 415" 415 \
  "$(http_status "${CA[@]}" "${BOOT[@]}" -H 'Content-Type: text/plain' --data-binary @csr.b64 "$U/simpleenroll")"
check "GET on simpleenroll gets 405" 405 "$(http_status "${CA[@]}" "${BOOT[@]}" "$U/simpleenroll")"
check "fullcmc gets 501" 501 "$(http_status "${CA[@]}" "${BOOT[@]}" -H 'Content-Type: application/pkcs7-mime' --data-binary @csr.b64 "$U/fullcmc")"
# Hold SQLite's write lock from another process: enrolld must answer 503 with Retry-After.
( echo "BEGIN EXCLUSIVE;"; sleep 3; echo "COMMIT;" ) | sqlite3 "$D/enrolld.db" &
LOCKER=$!
sleep 0.5
csr_b64 busy.key /CN=DEMO-0001 > busy.b64
curl -s -D busy.hdr -o /dev/null "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @busy.b64 "$U/simpleenroll"
check_contains "an unavailable store gets 503" "HTTP/1.1 503" "$(cat busy.hdr)"
check_contains "503 carries Retry-After" "Retry-After:" "$(cat busy.hdr)"
wait $LOCKER
check "after the store is back the same request succeeds" 200 \
  "$(http_status "${CA[@]}" "${BOOT[@]}" "${P10[@]}" --data-binary @busy.b64 "$U/simpleenroll")"
check "nothing half-written: the 503 left no certificate behind" 1 \
  "$(sqlite3 "$D/enrolld.db" "SELECT COUNT(*) FROM certificates WHERE public_key_sha256 = '$(openssl pkey -in busy.key -pubout -outform DER | sha256sum | cut -d' ' -f1)'")"

echo "# SIGHUP reloads trust anchors"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout maker2.key -subj "/CN=Second Maker CA" -days 365 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out "$D/maker2.pem" 2>/dev/null
openssl req -new -key old.key -subj "/CN=M2-0001/serialNumber=M2-0001" -out m2.csr 2>/dev/null
openssl x509 -req -in m2.csr -CA "$D/maker2.pem" -CAkey maker2.key -days 30 -out m2.pem 2>/dev/null
check "before reload the new manufacturer is unknown" 401 \
  "$(http_status "${CA[@]}" --cert m2.pem --key old.key "${P10[@]}" --data-binary @csr.b64 "$U/simpleenroll")"
sed -i 's|"trust_anchors": {|"trust_anchors": {"maker2": {"certificates": ["maker2.pem"]}, |; s|"default": {"bootstrap_trust": \["demo-manufacturer"\]|"default": {"bootstrap_trust": ["demo-manufacturer", "maker2"]|' "$D/enrolld.json"
kill -HUP "$SERVER_PID"
sleep 0.5
check "after SIGHUP the new manufacturer's devices enroll" 200 \
  "$(http_status "${CA[@]}" --cert m2.pem --key old.key "${P10[@]}" --data-binary @csr.b64 "$U/simpleenroll")"

echo "# the log"
LOG=$(cat "$WORK/serve.err")
check_contains "one structured line per request" "protocol=est method=POST path=/.well-known/est/simpleenroll label=default" "$LOG"
check "no private key reaches the log" 0 "$(grep -c 'PRIVATE KEY' "$WORK/serve.err")"
check "no password reaches the log" 0 "$(grep -c 'station-secret-1' "$WORK/serve.err")"

echo "# SIGTERM"
stop_enrolld
check "SIGTERM exits cleanly" 0 "$?"
check_contains "and says it stopped" "event=stopped" "$(cat "$WORK/serve.err")"

finish
