# Shared helpers for the integration tests: a real enrolld on loopback, real peers.
# Each test script sources this, calls start_enrolld, and ends with finish.
set -u
ENROLLD=${ENROLLD:?set ENROLLD to the enrolld binary}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/enrolld-it.XXXXXX")
PASSED=0
FAILED=0
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  if [ "$FAILED" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; else echo "work folder kept: $WORK"; fi
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && echo "       $2"; }

# check NAME EXPECTED ACTUAL
check() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi
}
# check_contains NAME NEEDLE HAYSTACK
check_contains() {
  case "$3" in *"$2"*) pass "$1" ;; *) fail "$1" "[$2] not found in: $(printf '%s' "$3" | head -c 400)" ;; esac
}

# init_dir DIR [init options...]: runs enrolld init
init_dir() {
  local dir=$1; shift
  "$ENROLLD" init "$dir" "$@" > "$WORK/init.out" 2>&1 || { cat "$WORK/init.out"; return 1; }
}

# start_enrolld DIR: serves DIR on free loopback ports (the plain HTTP listener on HTTP_LISTEN when
# set); sets PORT, U (EST base URL), COAP_PORT, CU (EST-coaps base URL), ADMIN_PORT, HTTP_URL
# (plain HTTP, no trailing slash), METRICS (URL), SERVER_DIR, SERVER_PID
start_enrolld() {
  local dir=$1
  SERVER_DIR=$dir
  PORT=""
  rm -f "$WORK/serve.out"  # a restart must not read the previous server's ports
  local admin=()
  # A hand-written configuration may have no admin CA, and then no admin listener.
  grep -q '"ca_certificate"' "$dir/enrolld.json" && admin=(--listen-admin 127.0.0.1:0)
  "$ENROLLD" serve "$dir" --listen-est 127.0.0.1:0 --listen-http "${HTTP_LISTEN:-127.0.0.1:0}" --listen-coap 127.0.0.1:0 \
    --listen-metrics 127.0.0.1:0 "${admin[@]}" > "$WORK/serve.out" 2> "$WORK/serve.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's|^listening est https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/serve.out" | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err"; return 1; }
    sleep 0.1
  done
  [ -n "$PORT" ] || { echo "enrolld did not start"; cat "$WORK/serve.err"; return 1; }
  U="https://127.0.0.1:$PORT/.well-known/est"
  COAP_PORT=$(sed -n 's|^listening coap coaps://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/serve.out" | head -1)
  CU="coaps://127.0.0.1:$COAP_PORT/est"
  ADMIN_PORT=$(sed -n 's|^listening admin https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$WORK/serve.out" | head -1)
  HTTP_URL=$(sed -n 's|^listening http \(http://127.0.0.1:[0-9]*\)/$|\1|p' "$WORK/serve.out" | head -1)
  METRICS=$(sed -n 's|^listening metrics \(http://127.0.0.1:[0-9]*/metrics\)|\1|p' "$WORK/serve.out" | head -1)
}

# ctl ARGS...: enrollctl as the data folder's first operator (role admin) against the running server
ctl() { "${ENROLLCTL:?set ENROLLCTL to the enrollctl binary}" --dir "$SERVER_DIR" --server "https://127.0.0.1:$ADMIN_PORT" "$@"; }

stop_enrolld() {
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID"
  local rc=$?
  SERVER_PID=""
  return $rc
}

# csr_b64 KEYFILE SUBJ [extra openssl req args...]: new P-256 key and base64 DER CSR on stdout
csr_b64() {
  local key=$1 subj=$2; shift 2
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$key" -subj "$subj" \
    -outform DER "$@" 2>/dev/null | base64
}

# csr_with_key_id KEYFILE SUBJ OID HEX > csr.der: a DER CSR for KEYFILE (made by openssl req) with
# one more attribute, OID = OCTET STRING HEX (RFC 7030 4.4.1: id-aa-asymmDecryptKeyID is
# 1.2.840.113549.1.9.16.2.54, id-aa-decryptKeyID 1.2.840.113549.1.9.16.2.37). openssl req can
# only add string attributes, so the CertificationRequestInfo is rebuilt here and signed again
# with openssl dgst.
csr_with_key_id() {
  python3 - "$@" <<'PY'
import subprocess, sys
key, subj, oid, value = sys.argv[1:5]
def tlv(tag, body):
    n = len(body)
    head = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + head + body
def items(b, start, end):
    out = []
    while start < end:
        i = start + 1
        n = b[i]; i += 1
        if n & 0x80:
            k = n & 0x7f; n = int.from_bytes(b[i:i + k], "big"); i += k
        out.append((b[start], b[start:i + n], i, i + n)); start = i + n
    return out
def oid_der(dotted):
    arcs = [int(x) for x in dotted.split(".")]
    body = bytes([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7f]; a >>= 7
        while a: enc.insert(0, 0x80 | (a & 0x7f)); a >>= 7
        body += bytes(enc)
    return tlv(0x06, body)
base = subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", subj, "-outform", "DER"],
                      check=True, capture_output=True).stdout
(_, _, s, e), = items(base, 0, len(base))
cri, alg, _ = items(base, s, e)
version, name, spki = [whole for _, whole, _, _ in items(base, cri[2], cri[3])][:3]
attribute = tlv(0x30, oid_der(oid) + tlv(0x31, tlv(0x04, bytes.fromhex(value))))
info = tlv(0x30, version + name + spki + tlv(0xa0, attribute))
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=info, check=True,
                     capture_output=True).stdout
sys.stdout.buffer.write(tlv(0x30, info + alg[1] + tlv(0x03, b"\x00" + sig)))
PY
}

# ski CERT: the subjectKeyIdentifier of a PEM certificate, lower-case hex without colons
# An encrypted server-generated key (RFC 7030 4.4.2), opened the way a device would with openssl:
# decrypted with the device's bootstrap key, its SignedData verified up to the root, its signer the
# issuing CA, and the key inside matching the certificate that came with it.
#   check_sealed_key ENVELOPE.der CERT.pem DEVICE (a demo device: $D/demo/DEVICE.pem, .key)
check_sealed_key() {
  local env=$1 cert=$2 device=$3
  openssl cms -decrypt -binary -inform DER -in "$env" -recip "$D/demo/$device.pem" \
    -inkey "$D/demo/$device.key" -out "$env.signed" 2> "$env.decrypt.err"
  check "openssl cms -decrypt opens it with the bootstrap key" 0 "$(wc -c < "$env.decrypt.err")"
  check "the signed content is an AsymmetricKeyPackage (id-ct-KP-aKeyPackage)" 1 \
    "$(openssl cms -cmsout -print -inform DER -in "$env.signed" 2>&1 | grep eContentType | grep -c '(2.16.840.1.101.2.1.2.78.5)')"
  check_contains "openssl cms -verify checks the signature up to the root" "Verification successful" \
    "$(openssl cms -verify -binary -inform DER -in "$env.signed" -CAfile "$D/ca/root-ca.pem" \
         -signer "$env.signer.pem" -out "$env.akp" 2>&1)"
  check "the signer is the issuing CA" "$(openssl x509 -in "$D/ca/issuing-ca.pem" -noout -fingerprint)" \
    "$(openssl x509 -in "$env.signer.pem" -noout -fingerprint 2>&1)"
  # AsymmetricKeyPackage ::= SEQUENCE OF OneAsymmetricKey: the one key is PKCS#8 inside the SEQUENCE.
  python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
n = b[1]; i = 2
if n & 0x80: i += n & 0x7f
sys.stdout.buffer.write(b[i:])' "$env.akp" > "$env.key.der" 2>/dev/null
  check "the decrypted key matches the returned certificate" "$(openssl x509 -in "$cert" -noout -pubkey 2>&1)" \
    "$(openssl pkey -inform DER -in "$env.key.der" -pubout 2>&1)"
}

ski() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | sed -n 2p | tr -d ' :\n' | tr 'A-F' 'a-f'; }

# http_status ARGS...: runs curl and prints only the status code
http_status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
