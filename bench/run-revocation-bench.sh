#!/usr/bin/env bash
# Bulk revocation, CRL publishing and OCSP throughput at fleet scale (issue 7). Not a test.
#   bench/run-revocation-bench.sh [--count N] [--build DIR] [--duration S] [--connections C]
# Makes a data folder with `enrolld init`, populates its store with N certificates (default
# 1,000,000), revokes them all by a registry selector and publishes the CRLs (revocation_bench),
# then serves it and measures OCSP GET responses per second with wrk at C connections (default 16)
# over 1,000 different requests.
set -eu
COUNT=1000000 BUILD=build DURATION=10 CONNECTIONS=16
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
done
ENROLLD=$BUILD/server/app/enrolld
BENCH=$BUILD/bench/revocation_bench
command -v wrk > /dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/revocation-bench.XXXXXX")
trap 'kill "$PID" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$W"' EXIT
"$ENROLLD" init "$W/d" > /dev/null
echo "== store, revocation, CRL ($COUNT certificates)"
"$BENCH" "$W/d" --count "$COUNT" 2>/dev/null
echo "== openssl crl reads the full CRL"
/usr/bin/time -f "openssl crl: %e s, %M KB" openssl crl -inform DER -in "$W/d/bench-full.crl" -noout -crlnumber
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ENROLLD" serve "$W/d" --listen-est 127.0.0.1:0 --listen-coap 127.0.0.1:0 --listen-http "127.0.0.1:$PORT" \
  > "$W/serve.out" 2> "$W/serve.err" &
PID=$!
for _ in $(seq 1 600); do
  grep -q "event=crl_published" "$W/serve.err" 2>/dev/null && break
  sleep 0.1
done
grep "event=crl_published" "$W/serve.err" | head -1
echo "== OCSP GET, $CONNECTIONS connections, ${DURATION}s"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$W/d/ocsp-paths.lua" "http://127.0.0.1:$PORT" | sed -n '1,12p'
echo "server CPU: $(ps -o cputime= -p "$PID") for the whole run; peak RSS $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"
