#!/usr/bin/env bash
# EST-coaps end to end (RFC 9148): the real enrolld on loopback, coap-client-openssl (libcoap 4.3.1,
# package libcoap3-bin) and the openssl CLI as independent peers.
# Usage: ENROLLD=path/to/enrolld coaps_test.sh
# coap-client exits 0 even when the handshake or the request fails (PEERS.md): every check looks
# at the output file (-o, written only on success) or at the response code coap-client prints.
. "$(dirname "$0")/lib.sh"

COAP=${COAP_CLIENT:-coap-client-openssl}
command -v "$COAP" > /dev/null || { echo "SKIP: $COAP not installed (package libcoap3-bin)"; exit 0; }

D=$WORK/ca
init_dir "$D" --demo || exit 1
cd "$WORK" || exit 1
start_enrolld "$D" || exit 1
[ -n "$COAP_PORT" ] || { echo "no 'listening coap' line"; cat "$WORK/serve.out"; exit 1; }
echo "# EST-coaps on UDP $COAP_PORT"

TRUST=(-C "$D/ca/root-ca.pem")
boot() { echo -c "$D/demo/device-000$1.pem" -j "$D/demo/device-000$1.key"; }
# coap: runs coap-client with a time limit, stderr (the printed response code) on stdout
coap() { timeout 60 "$COAP" -B 20 "$@" 2>&1; }
# multipart_core FILE PREFIX: splits a two-part multipart-core body (RFC 8710) into PREFIX.ct
# ("ct1 ct2"), PREFIX.0 and PREFIX.1
multipart_core() {
  python3 - "$1" "$2" <<'PY' 2>/dev/null
import sys
b = open(sys.argv[1], "rb").read()
prefix = sys.argv[2]
i = 0
def head():
    global i
    ib = b[i]; i += 1
    major, info = ib >> 5, ib & 31
    if info < 24: return major, info
    n = {24: 1, 25: 2, 26: 4, 27: 8}[info]
    v = int.from_bytes(b[i:i + n], "big"); i += n
    return major, v
major, count = head()
assert major == 4 and count == 4, "not a 4-item array"
parts = []
for _ in range(2):
    m, ct = head(); assert m == 0
    m, n = head(); assert m == 2
    parts.append((ct, b[i:i + n])); i += n
assert i == len(b), "trailing bytes"
open(prefix + ".ct", "w").write(" ".join(str(ct) for ct, _ in parts))
for k, (_, data) in enumerate(parts):
    open(prefix + "." + str(k), "wb").write(data)
PY
}

echo "# discovery (RFC 9148 4.1)"
coap "${TRUST[@]}" -o wk.txt "coaps://127.0.0.1:$COAP_PORT/.well-known/core" > /dev/null
WK=$(cat wk.txt 2>/dev/null)
check_contains "/.well-known/core lists crts with its content formats" '</est/crts>;rt="ace.est.crts";ct="281 287"' "$WK"
check_contains "lists sen" '</est/sen>;rt="ace.est.sen"' "$WK"
check_contains "lists sren" '</est/sren>;rt="ace.est.sren"' "$WK"
check_contains "lists att with 285" '</est/att>;rt="ace.est.att";ct=285' "$WK"
check_contains "lists skg with 62" '</est/skg>;rt="ace.est.skg";ct=62' "$WK"
check_contains "lists the resources of a named label" '</est/approval/sen>' "$WK"

echo "# crts"
coap "${TRUST[@]}" -A 281 -o crts.p7 "$CU/crts" > /dev/null
openssl pkcs7 -inform DER -in crts.p7 -print_certs -out crts.pem 2>/dev/null
check "crts returns the issuing CA and the root (281, binary DER)" 2 "$(grep -c 'BEGIN CERTIFICATE' crts.pem 2>/dev/null)"
coap "${TRUST[@]}" -A 287 -o crts.der "$CU/crts" > /dev/null
check "crts with Accept 287 returns the issuing CA" "$(openssl x509 -in "$D/ca/issuing-ca.pem" -noout -fingerprint)" \
  "$(openssl x509 -inform DER -in crts.der -noout -fingerprint 2>&1)"
check_contains "crts refuses Accept 285 with 4.06" "4.06" "$(coap "${TRUST[@]}" -A 285 -o none.out "$CU/crts")"

echo "# sen with a bootstrap certificate, 256-byte blocks"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout op.key -subj /CN=DEMO-0001 \
  -outform DER -out csr.der 2>/dev/null
coap "${TRUST[@]}" $(boot 1) -b 256 -m post -t 286 -A 287 -f csr.der -o op.der "$CU/sen" > sen.log
openssl x509 -inform DER -in op.der -out op.pem 2>/dev/null
check "issued certificate verifies against the root" "op.pem: OK" \
  "$(openssl verify -CAfile "$D/ca/root-ca.pem" -untrusted "$D/ca/issuing-ca.pem" op.pem 2>&1)"
check "its key is the CSR's key" "$(openssl pkey -in op.key -pubout)" "$(openssl x509 -in op.pem -noout -pubkey 2>&1)"
check "subject comes from the bootstrap certificate" "subject=CN = DEMO-0001" "$(openssl x509 -in op.pem -noout -subject 2>&1)"

echo "# sen with 64-byte blocks (Block1 upload, token changes on every block)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout op2.key -subj /CN=DEMO-0002 \
  -outform DER -out csr2.der 2>/dev/null
BEFORE=$(grep -c 'operation=sen .*outcome="\?issued' "$WORK/serve.err")
coap "${TRUST[@]}" $(boot 2) -b 64 -m post -t 286 -A 281 -f csr2.der -o op2.p7 "$CU/sen" > /dev/null
openssl pkcs7 -inform DER -in op2.p7 -print_certs -out op2.pem 2>/dev/null
check "64-byte blocks: the certificate verifies" "op2.pem: OK" \
  "$(openssl verify -CAfile "$D/ca/root-ca.pem" -untrusted "$D/ca/issuing-ca.pem" op2.pem 2>&1)"
check "64-byte blocks: its key is the CSR's key" "$(openssl pkey -in op2.key -pubout)" "$(openssl x509 -in op2.pem -noout -pubkey 2>&1)"
check "one upload in 64-byte blocks enrolls once" 1 \
  "$(( $(grep -c 'operation=sen .*outcome="\?issued' "$WORK/serve.err") - BEFORE ))"

echo "# sren with the operational certificate"
openssl req -new -key op.key -subj /CN=DEMO-0001 -outform DER -out renew.der 2>/dev/null
coap "${TRUST[@]}" -c op.pem -j op.key -m post -t 286 -A 287 -f renew.der -o renewed.der "$CU/sren" > /dev/null
check "renewal keeps the subject" "subject=CN = DEMO-0001" "$(openssl x509 -inform DER -in renewed.der -noout -subject 2>&1)"
check "renewal has a new serial" 1 \
  "$([ "$(openssl x509 -inform DER -in renewed.der -noout -serial 2>&1)" != "$(openssl x509 -in op.pem -noout -serial)" ] && echo 1)"
check_contains "sren with a bootstrap certificate is refused with 4.01" "4.01" \
  "$(coap "${TRUST[@]}" $(boot 1) -m post -t 286 -f renew.der -o none.out "$CU/sren")"

echo "# att"
coap "${TRUST[@]}" -A 285 -o att.der "$CU/att" > /dev/null
check_contains "att asks for a P-256 key" "prime256v1" "$(openssl asn1parse -inform DER -in att.der 2>&1)"
coap "${TRUST[@]}" -o bound-att.der "$CU/bound/att" > /dev/null
check_contains "att of a channel-bound label asks for challengePassword" "challengePassword" \
  "$(openssl asn1parse -inform DER -in bound-att.der 2>&1)"

echo "# skg (multipart-core: [284, PKCS#8 key, 281, PKCS#7 certificate]), Block2 in 64-byte blocks"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout throwaway.key -subj /CN=DEMO-0003 \
  -outform DER -out skg-csr.der 2>/dev/null
BEFORE=$(grep -c 'operation=skg .*outcome="\?issued' "$WORK/serve.err")
coap "${TRUST[@]}" $(boot 3) -b 64 -m post -t 286 -A 62 -f skg-csr.der -o skg.cbor "$CU/skg" > /dev/null
multipart_core skg.cbor skg
mv skg.0 skg.key.der 2>/dev/null; mv skg.1 skg.p7 2>/dev/null
check "skg answers key 284 and certificate 281" "284 281" "$(cat skg.ct 2>/dev/null)"
openssl pkcs7 -inform DER -in skg.p7 -print_certs -out skg.pem 2>/dev/null
check "the returned key matches the returned certificate" "$(openssl pkey -inform DER -in skg.key.der -pubout 2>&1)" \
  "$(openssl x509 -in skg.pem -noout -pubkey 2>&1)"
check "Block2 follow-ups (POSTs without payload) do not enroll again" 1 \
  "$(( $(grep -c 'operation=skg .*outcome="\?issued' "$WORK/serve.err") - BEFORE ))"

echo "# skg with the key encrypted to the bootstrap certificate: [280, 281] (RFC 9148 4.8, RFC 7030 4.4.2)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout throwaway2.key -subj /CN=DEMO-0003 \
  -out /dev/null 2>/dev/null
csr_with_key_id throwaway2.key /CN=DEMO-0003 1.2.840.113549.1.9.16.2.54 "$(ski "$D/demo/device-0003.pem")" > skg-enc-csr.der
BEFORE=$(grep -c 'operation=skg .*outcome="\?issued' "$WORK/serve.err")
coap "${TRUST[@]}" $(boot 3) -b 64 -m post -t 286 -A 62 -f skg-enc-csr.der -o skg-enc.cbor "$CU/skg" > /dev/null
multipart_core skg-enc.cbor skg-enc
check "skg answers the encrypted key 280 and the certificate 281" "280 281" "$(cat skg-enc.ct 2>/dev/null)"
openssl pkcs7 -inform DER -in skg-enc.1 -print_certs -out skg-enc.pem 2>/dev/null
check_sealed_key skg-enc.0 skg-enc.pem device-0003
check "one encrypted skg enrolls once" 1 \
  "$(( $(grep -c 'operation=skg .*outcome="\?issued' "$WORK/serve.err") - BEFORE ))"
ISSUED=$(grep -c 'outcome="\?issued' "$WORK/serve.err")
csr_with_key_id throwaway2.key /CN=DEMO-0003 1.2.840.113549.1.9.16.2.54 00112233445566778899aabbccddeeff00112233 > skg-other.der
OUT=$(coap "${TRUST[@]}" $(boot 3) -m post -t 286 -A 62 -f skg-other.der -o skg-other.out "$CU/skg")
check_contains "an identifier of another key gets 4.00" "4.00" "$OUT"
check_contains "with the reason" "does not name the key" "$OUT"
check "and no answer body" 0 "$([ -s skg-other.out ] && echo 1 || echo 0)"
csr_with_key_id throwaway2.key /CN=DEMO-0003 1.2.840.113549.1.9.16.2.37 0102030405060708 > skg-sym.der
check_contains "id-aa-decryptKeyID gets 4.00" "4.00" \
  "$(coap "${TRUST[@]}" $(boot 3) -m post -t 286 -A 62 -f skg-sym.der -o none.out "$CU/skg")"
check "nothing is issued for the refused requests" "$ISSUED" "$(grep -c 'outcome="\?issued' "$WORK/serve.err")"

echo "# refusals"
mkdir -p rogue
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue/ca.key -subj /CN=Rogue-CA \
  -days 30 -out rogue/ca.pem 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue/dev.key \
  -subj "/CN=DEMO-0001/serialNumber=DEMO-0001" -out rogue/dev.csr 2>/dev/null
openssl x509 -req -in rogue/dev.csr -CA rogue/ca.pem -CAkey rogue/ca.key -CAcreateserial -days 30 \
  -out rogue/dev.pem 2>/dev/null
OUT=$(coap "${TRUST[@]}" -c rogue/dev.pem -j rogue/dev.key -m post -t 286 -f csr.der -o rogue.der "$CU/sen")
check_contains "a bootstrap certificate from an unknown CA is refused by the Authorizer (4.01)" "4.01" "$OUT"
check "and nothing is issued" 0 "$([ -s rogue.der ] && echo 1 || echo 0)"
OUT=$(coap "${TRUST[@]}" -m post -t 286 -f csr.der -o nocert.der "$CU/sen")
check_contains "sen without a client certificate is refused (4.01)" "4.01" "$OUT"
check_contains "a wrong content format gets 4.15" "4.15" \
  "$(coap "${TRUST[@]}" $(boot 1) -m post -t 0 -f csr.der -o none.out "$CU/sen")"
check_contains "Accept that sen cannot meet gets 4.06" "4.06" \
  "$(coap "${TRUST[@]}" $(boot 1) -m post -t 286 -A 62 -f csr.der -o none.out "$CU/sen")"
head -c 70000 /dev/zero > big.bin
check_contains "an oversized body gets 4.13" "4.13" \
  "$(coap "${TRUST[@]}" $(boot 1) -b 1024 -m post -t 286 -f big.bin -o none.out "$CU/sen")"
printf 'not a CSR' > junk.der
check_contains "a body that is no CSR gets 4.00" "4.00" \
  "$(coap "${TRUST[@]}" $(boot 1) -m post -t 286 -f junk.der -o none.out "$CU/sen")"
check_contains "an unknown label gets 4.04" "4.04" "$(coap "${TRUST[@]}" -o none.out "$CU/nosuchlabel/crts")"
check_contains "GET on sen gets 4.05" "4.05" "$(coap "${TRUST[@]}" -o none.out "$CU/sen")"
OUT=$(coap "${TRUST[@]}" $(boot 1) -m put -t 286 -f csr.der "$CU/sen")
check_contains "PUT gets 4.05 from enrolld (not libcoap's bare answer)" "4.05" "$OUT"
check_contains "with a diagnostic payload" "use POST" "$OUT"
check_contains "and a log line" "method=PUT path=/est/sen" "$(cat "$WORK/serve.err")"
check_contains "DELETE on an unknown path gets 4.04 with a diagnostic" "no such EST-coaps" \
  "$(coap "${TRUST[@]}" -m delete "coaps://127.0.0.1:$COAP_PORT/other/thing")"

echo "# manual approval: 5.03 with Max-Age"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout held.key -subj /CN=DEMO-0002 \
  -outform DER -out held.der 2>/dev/null
OUT=$(coap "${TRUST[@]}" $(boot 2) -v 7 -m post -t 286 -f held.der -o held.out "$CU/approval/sen")
check_contains "a held request gets 5.03" "5.03" "$OUT"
check_contains "with Max-Age" "Max-Age" "$OUT"

echo "# SIGHUP: /.well-known/core follows the labels of the reloaded configuration"
python3 - "$D/enrolld.json" <<'PY'
import json, sys
path = sys.argv[1]
cfg = json.load(open(path))
cfg["labels"]["line-9"] = dict(cfg["labels"]["bound"])
del cfg["labels"]["approval"]
json.dump(cfg, open(path, "w"), indent=2)
PY
RELOADS=$(grep -c 'event=reload outcome=ok' "$WORK/serve.err")
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do
  [ "$(grep -c 'event=reload outcome=ok' "$WORK/serve.err")" -gt "$RELOADS" ] && break
  sleep 0.1
done
coap "${TRUST[@]}" -o wk2.txt "coaps://127.0.0.1:$COAP_PORT/.well-known/core" > /dev/null
WK2=$(cat wk2.txt 2>/dev/null)
check_contains "a label added before SIGHUP is listed" '</est/line-9/sen>;rt="ace.est.sen"' "$WK2"
check "a label removed before SIGHUP is no longer listed" 0 "$(grep -c '/est/approval/' wk2.txt 2>/dev/null)"
check_contains "the default label is still listed" '</est/crts>;rt="ace.est.crts"' "$WK2"

echo "# datagrams that are not DTLS"
for i in $(seq 1 50); do head -c $((i * 23)) /dev/urandom > "/dev/udp/127.0.0.1/$COAP_PORT"; done
printf '\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x01' > "/dev/udp/127.0.0.1/$COAP_PORT"

echo "# the server survives all of the above"
coap "${TRUST[@]}" -A 281 -o crts2.p7 "$CU/crts" > /dev/null
check "crts still answers" "$(cat crts.p7 | od -An -tx1 | tr -d ' \n')" "$(od -An -tx1 crts2.p7 2>/dev/null | tr -d ' \n')"
stop_enrolld
check "serve exits 0 on SIGTERM with the coap listener open" 0 "$?"

finish
