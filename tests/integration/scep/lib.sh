# Shared by the SCEP integration tests: starts a server, gives URLs, cleans up.
#
# Every test takes either
#   ENROLLD DATA_DIR                  the enrolld binary and a data dir from `enrolld init DIR --demo`
#                                     (the data dir is copied, so tests do not share state),
#   (no arguments, ENROLLD=path/to/enrolld in the environment, as CTest runs them)
#                                     a data dir made here with `enrolld init DIR --demo`, or
#   --test-server SCEP_LOOPBACK_SERVER  ScepService behind the test-only listener built from
#                                     tests/unit/scep (in-test CA, challenge "secret").
# and runs in its own temporary directory (scepclient writes csr.pem into the current one).
# After start_server: SCEP_URL (default label), LEGACY_URL (label scep-legacy: SHA-1/DES for
# scepclient), CHALLENGE, WORK. KEEP_WORK=1 keeps the directory for a post-mortem.
set -euo pipefail

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scep-it.XXXXXX")
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [[ "${KEEP_WORK:-0}" != 1 ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- server log (tail) ---" >&2
  tail -n 30 "$WORK/server.log" >&2 || true
  exit 1
}
pass() { echo "PASS: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 not installed"; exit 77; }; }

# start_server "$@" [extra args for the test server, e.g. --hold]
start_server() {
  if [[ $# -eq 0 && -n "${ENROLLD:-}" ]]; then
    "$ENROLLD" init "$WORK/demo-data" --demo >"$WORK/init.log" 2>&1 || fail "enrolld init --demo"
    set -- "$ENROLLD" "$WORK/demo-data"
  fi
  local mode="${1:?usage: $0 ENROLLD DATA_DIR | --test-server SCEP_LOOPBACK_SERVER (or ENROLLD=...)}"
  local arg="${2:?missing second argument}"
  shift 2
  # Created before the server starts: the wait below must not read a file not there yet (under
  # pipefail a missing file would end the test).
  : >"$WORK/server.log"
  if [[ "$mode" == --test-server ]]; then
    "$arg" --dir "$WORK" "$@" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    CHALLENGE=secret
  else
    cp -a "$arg" "$WORK/data"
    "$mode" serve "$WORK/data" --listen-http 127.0.0.1:0 --listen-est 127.0.0.1:0 --listen-coap 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    CHALLENGE=$(tr -d '\n' <"$WORK/data/demo/scep-challenge.txt")
  fi
  local base=""
  for _ in $(seq 1 100); do
    base=$(sed -n 's|.*listening http \(http://127\.0\.0\.1:[0-9]*/\).*|\1|p' "$WORK/server.log" | head -n 1)
    [[ -n "$base" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited before listening"
    sleep 0.2
  done
  [[ -n "$base" ]] || fail "server did not print its listening line"
  SCEP_URL="${base}scep"
  LEGACY_URL="${base}scep/scep-legacy"
  BASE_URL="$base"
  cd "$WORK"
}

# Writes the certificates of a GetCACert answer as PEM: a DER certificate or a degenerate PKCS#7.
fetch_ca_certs() {  # URL OUT.pem
  curl -sf -o "$WORK/getcacert.der" -D "$WORK/getcacert.hdr" "$1?operation=GetCACert" || fail "GetCACert on $1"
  if grep -qi 'content-type: application/x-x509-ca-cert' "$WORK/getcacert.hdr"; then
    openssl x509 -inform DER -in "$WORK/getcacert.der" -out "$2" || fail "GetCACert: not a DER certificate"
  else
    openssl pkcs7 -inform DER -in "$WORK/getcacert.der" -print_certs -out "$2" || fail "GetCACert: not PKCS#7"
  fi
}

# Splits a PEM bundle; prints the file name of the self-signed (root) certificate and of the
# first certificate (the RA when there is one).
split_pem() {  # IN.pem PREFIX
  awk -v p="$2" '/BEGIN CERT/{n++; on=1} on{print > (p "-" n ".pem")} /END CERT/{on=0}' "$1"
}
root_of() {  # IN.pem -> writes root.pem
  split_pem "$1" "$WORK/chain"
  for f in "$WORK"/chain-*.pem; do
    if [[ "$(openssl x509 -in "$f" -noout -subject | sed 's/^subject=//')" == \
          "$(openssl x509 -in "$f" -noout -issuer | sed 's/^issuer=//')" ]]; then
      cp "$f" "$WORK/root.pem"; return 0
    fi
  done
  fail "no self-signed certificate in $1"
}
