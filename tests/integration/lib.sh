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

# start_enrolld DIR: serves DIR on free loopback ports; sets PORT, U (EST base URL), COAP_PORT,
# CU (EST-coaps base URL), ADMIN_PORT, HTTP_URL (plain HTTP, no trailing slash), METRICS (URL),
# SERVER_DIR, SERVER_PID
start_enrolld() {
  local dir=$1
  SERVER_DIR=$dir
  PORT=""
  rm -f "$WORK/serve.out"  # a restart must not read the previous server's ports
  local admin=()
  # A hand-written configuration may have no admin CA, and then no admin listener.
  grep -q '"ca_certificate"' "$dir/enrolld.json" && admin=(--listen-admin 127.0.0.1:0)
  "$ENROLLD" serve "$dir" --listen-est 127.0.0.1:0 --listen-http 127.0.0.1:0 --listen-coap 127.0.0.1:0 \
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

# http_status ARGS...: runs curl and prints only the status code
http_status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
