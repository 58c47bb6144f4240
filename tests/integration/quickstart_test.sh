#!/usr/bin/env bash
# enrolld init and serve as processes: what init writes, what serve prints, and that the printed
# endpoint and the printed device example really work. Usage: ENROLLD=path/to/enrolld quickstart_test.sh
. "$(dirname "$0")/lib.sh"
cd "$WORK" || exit 1

echo "# --help and --version"
check_contains "--help lists the commands" "enrolld serve DIR" "$("$ENROLLD" --help)"
check_contains "--version prints the version" "enrolld 0." "$("$ENROLLD" --version)"
"$ENROLLD" frobnicate > /dev/null 2>&1
check "an unknown command exits 2" 2 "$?"

echo "# init"
init_dir "$WORK/var" --demo || exit 1
check "the issuing CA key is private (0600)" 600 "$(stat -c %a var/ca/issuing-ca.key)"
check "the root CA key is private (0600)" 600 "$(stat -c %a var/ca/root-ca.key)"
check "the TLS key is private (0600)" 600 "$(stat -c %a var/tls/server.key)"
check "demo device keys are private (0600)" 600 "$(stat -c %a var/demo/device-0001.key)"
check "the issuing CA chains to the root" "var/ca/issuing-ca.pem: OK" "$(openssl verify -CAfile var/ca/root-ca.pem var/ca/issuing-ca.pem 2>&1)"
check_contains "the default CA key is ECDSA P-256" "prime256v1" "$(openssl pkey -in var/ca/issuing-ca.key -text -noout 2>&1)"
check_contains "the TLS certificate names localhost" "DNS:localhost" "$(openssl x509 -in var/tls/server.pem -noout -ext subjectAltName)"
check "the database exists" 1 "$([ -s var/enrolld.db ] && echo 1)"
"$ENROLLD" init "$WORK/var" > out.txt 2>&1
check "init refuses to overwrite an existing CA" 1 "$?"
check_contains "and says why" "refusing to overwrite" "$(cat out.txt)"
check "and the CA is untouched" "var/ca/issuing-ca.pem: OK" "$(openssl verify -CAfile var/ca/root-ca.pem var/ca/issuing-ca.pem 2>&1)"

for kt in ec-p384 rsa-2048 ed25519; do
  "$ENROLLD" init "$WORK/k-$kt" --key-type "$kt" > /dev/null 2>&1
  check "init --key-type $kt creates a working CA" "$WORK/k-$kt/ca/issuing-ca.pem: OK" \
    "$(openssl verify -CAfile "$WORK/k-$kt/ca/root-ca.pem" "$WORK/k-$kt/ca/issuing-ca.pem" 2>&1)"
done
check_contains "rsa-2048 really is RSA 2048" "Private-Key: (2048 bit" "$(openssl pkey -in "$WORK/k-rsa-2048/ca/issuing-ca.key" -text -noout)"
"$ENROLLD" init "$WORK/bad" --key-type dsa > out.txt 2>&1
check "an unknown key type is refused" 1 "$?"

echo "# init with an imported CA whose key is encrypted"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -keyout imp.key -passout pass:imported-secret \
  -subj "/CN=Imported Issuing CA" -days 365 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out imp.pem 2>/dev/null
printf 'imported-secret\n' > pass.txt
"$ENROLLD" init "$WORK/imp-file" --import-ca-cert imp.pem --import-ca-key imp.key --key-passphrase-file pass.txt --demo > out.txt 2>&1
check "import with the passphrase from a file" 0 "$?"
check_contains "the imported key stays encrypted on disk" "ENCRYPTED PRIVATE KEY" "$(cat "$WORK/imp-file/ca/issuing-ca.key")"
IMP_SECRET=imported-secret "$ENROLLD" init "$WORK/imp-env" --import-ca-cert imp.pem --import-ca-key imp.key --key-passphrase-env IMP_SECRET > out.txt 2>&1
check "import with the passphrase from an environment variable" 0 "$?"
"$ENROLLD" init "$WORK/imp-none" --import-ca-cert imp.pem --import-ca-key imp.key > out.txt 2>&1
check "import of an encrypted key without a passphrase is refused" 1 "$?"
check "and leaves no configuration behind" 0 "$([ -e "$WORK/imp-none/enrolld.json" ] && echo 1 || echo 0)"
start_enrolld "$WORK/imp-file" || exit 1
csr_b64 imp-op.key /CN=DEMO-0001 > imp.b64
curl -s --cacert imp.pem --cert "$WORK/imp-file/demo/device-0001.pem" --key "$WORK/imp-file/demo/device-0001.key" \
  -H 'Content-Type: application/pkcs10' --data-binary @imp.b64 "$U/simpleenroll" | base64 -d | openssl pkcs7 -inform DER -print_certs -out imp-op.pem 2>/dev/null
check "the imported CA issues" "imp-op.pem: OK" "$(openssl verify -CAfile imp.pem imp-op.pem 2>&1)"
stop_enrolld

echo "# init --trust-bootstrap-ca: a manufacturer CA of the operator's"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout maker.key -subj "/CN=Acme Devices IDevID CA" -days 365 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out maker.pem 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout acme.key -subj "/CN=ACME-77/serialNumber=ACME-77" -out acme.csr 2>/dev/null
openssl x509 -req -in acme.csr -CA maker.pem -CAkey maker.key -days 30 -out acme.pem 2>/dev/null
init_dir "$WORK/trusting" --trust-bootstrap-ca maker.pem || exit 1
check_contains "the manufacturer CA becomes a trust anchor of the default label" '"bootstrap-1"' "$(cat "$WORK/trusting/enrolld.json")"
start_enrolld "$WORK/trusting" || exit 1
csr_b64 acme-op.key /CN=ACME-77 > acme.b64
curl -s --cacert "$WORK/trusting/ca/root-ca.pem" --cert acme.pem --key acme.key -H 'Content-Type: application/pkcs10' \
  --data-binary @acme.b64 "$U/simpleenroll" | base64 -d | openssl pkcs7 -inform DER -print_certs -out acme-op.pem 2>/dev/null
check "its devices enroll" "subject=CN = ACME-77" "$(openssl x509 -in acme-op.pem -noout -subject 2>&1)"
stop_enrolld

echo "# serve prints its endpoints and a device example that works"
start_enrolld "$WORK/var" || exit 1
OUT=$(cat serve.out)
check_contains "serve prints the EST endpoint" "listening est https://127.0.0.1:$PORT/.well-known/est/" "$OUT"
check_contains "serve prints the SCEP endpoint" "/scep (and /scep/<label>)" "$OUT"
HTTP_BASE=$(sed -n 's|^listening http \(http://127.0.0.1:[0-9]*/\)|\1|p' serve.out)
check_contains "the printed SCEP endpoint answers GetCACaps" "SCEPStandard" "$(curl -s "${HTTP_BASE}scep?operation=GetCACaps")"
check "the printed endpoint answers" 200 "$(http_status --cacert var/ca/root-ca.pem "$U/cacerts")"
# Run the printed example exactly as printed (from "cd" to "openssl verify").
sed -n '/^A device enrolls/,/openssl verify/p' serve.out | tail -n +2 > example.sh
RESULT=$(bash example.sh 2>&1)
check_contains "the printed example enrolls a device" "op.pem: OK" "$RESULT"
stop_enrolld
check "serve exits 0 on SIGTERM" 0 "$?"

echo "# a CA rollover: scep.next_ca_chain makes GetNextCACert available"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout next.key -subj "/CN=Next Issuing CA" -days 3650 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out var/next-ca.pem 2>/dev/null
sed -i 's|"ra_key": "ca/scep-ra.key"|"ra_key": "ca/scep-ra.key", "next_ca_chain": "next-ca.pem"|' var/enrolld.json
start_enrolld "$WORK/var" || exit 1
HTTP_BASE=$(sed -n 's|^listening http \(http://127.0.0.1:[0-9]*/\)|\1|p' serve.out)
check_contains "GetCACaps lists GetNextCACert" "GetNextCACert" "$(curl -s "${HTTP_BASE}scep?operation=GetCACaps")"
curl -s -o next.p7 "${HTTP_BASE}scep?operation=GetNextCACert"
# RFC 8894 4.7: SignedData (signed by the RA) whose content is a certs-only PKCS#7 of the next chain.
openssl cms -verify -noverify -inform DER -in next.p7 -out next-inner.der 2>/dev/null
check_contains "GetNextCACert carries the next CA" "Next Issuing CA" \
  "$(openssl pkcs7 -inform DER -in next-inner.der -print_certs 2>/dev/null)"
stop_enrolld
"$ENROLLD" serve "$WORK/var" --listen-est 127.0.0.1:notaport > out.txt 2>&1
check "a bad --listen-est is refused at start" 1 "$?"
echo '{"labels": {"default": {"colour": "red"}}}' > "$WORK/k-ed25519/enrolld.json"
"$ENROLLD" serve "$WORK/k-ed25519" > out.txt 2>&1
check_contains "a configuration error names the key" "colour: unknown key" "$(cat out.txt)"

finish
