#!/usr/bin/env bash
# SCEP enrollment benchmark: enrolld's PKIOperation (PKCSReq) throughput over loopback, with the
# crypto bound of a SCEP exchange measured in the same run. See the header of bench/scep_load.cpp.
#
#   bench/run-scep-bench.sh [-t SECONDS] [-c "1 16 64"] [--enrolld PATH] [--build-dir DIR]
#                           [--keys K] [--quiet-wait SECONDS] [--keep] [--out FILE]
#
# Compiles bench/scep_load.cpp (with pki/direct_decode.cpp) into BUILD_DIR/bench-run/scep_load if
# it is not there (plain g++, no CMake), makes a throwaway `enrolld init --demo` folder under
# /tmp, starts enrolld on 127.0.0.1 (every listener on port 0), runs scep_load at each C for
# SECONDS against /scep (RSA-2048 RA and client keys, SHA-256, AES-128-CBC), prints one table and
# stops enrolld.
# The RSA-2048 key pool is cached in BUILD_DIR/bench-run/scep-bench-keys.pem (test keys only).
# Before each row it waits up to --quiet-wait seconds (default 30) for other processes to leave
# the cores idle; the `other` column says how disturbed the row still was.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
keys=256

while [[ $# -gt 0 ]]; do
  bench_option "$@"
  if [[ $bench_shift -gt 0 ]]; then shift "$bench_shift"; continue; fi
  case $1 in
    --keys) keys=$2; shift 2 ;;
    -h|--help) bench_usage ;;
    *) echo "unknown option $1" >&2; bench_usage ;;
  esac
done
bench_workspace scep
# --- build (scep_load only) -------------------------------------------------------------------
mkdir -p "$bin"
scep_load=$bin/scep_load
# RSA-2048 keygen is slow: the pool is kept beside the binary and reused by later runs.
key_cache=$bin/scep-bench-keys.pem
if [[ ! -x $scep_load || $repo/bench/scep_load.cpp -nt $scep_load ||
      $repo/pki/direct_decode.cpp -nt $scep_load ]]; then
  log "compiling $scep_load"
  g++ -O2 -std=c++20 -I"$repo" "$repo/bench/scep_load.cpp" "$repo/pki/direct_decode.cpp" \
    -lssl -lcrypto -lpthread -o "$scep_load"
fi
[[ -x $enrolld ]] || { log "no enrolld at $enrolld (cmake --build $build_dir -j2 --target enrolld)"; exit 1; }

# --- enrolld on a throwaway demo folder, loopback only ----------------------------------------
edir=$work/enrolld
"$enrolld" init "$edir" --demo >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
start_enrolld_serve "$enrolld" "$edir" "$work/enrolld.out" "$work/enrolld.log" http || exit 1
srv_pid=$ENROLLD_PID
port=$ENROLLD_PORT
log "enrolld pid $srv_pid, SCEP at http://127.0.0.1:$port/scep (data $edir)"

# --- the rows ----------------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results.txt
: >"$results"
for c in $concurrencies; do
  # A pool size that is a multiple of C: no two clients ever share a key object.
  k=$keys; (( k % c == 0 )) || k=$(( (keys / c + 1) * c ))
  wait_quiet "$quiet_wait"
  f=$work/c$c.txt
  args=(--port "$port" --ra "$edir/ca/scep-ra.pem" --challenge-file "$edir/demo/scep-challenge.txt"
        --issuer-cert "$edir/ca/issuing-ca.pem" -c "$c" -t "$seconds" --keys "$k"
        --key-cache "$key_cache" --server-pid "$srv_pid" --prefix "scep-bench-$$-c$c")
  echo "$scep_load ${args[*]}" >"$f.cmd"
  log "C=$c (${seconds}s): $(cat "$f.cmd")"
  "$scep_load" "${args[@]}" >"$f" 2>"$f.err" || log "C=$c: scep_load exited non-zero"
  if ! kill -0 "$srv_pid" 2>/dev/null; then log "enrolld died during C=$c"; cat "$f" "$f.err" >&2; break; fi
  line=$(grep '^RESULT' "$f" || true)
  if [[ -z $line ]]; then log "no result; scep_load said:"; cat "$f" "$f.err" >&2; continue; fi
  grep -E '^  (devices|enrollments|latency|per client|server|client|machine|achieved)' "$f" >&2 || true
  echo "$line" >>"$results"
done
bound_lines=$(sed -n '/crypto bound (CPU/,/bound = /p' "$work/c${concurrencies##* }.txt" 2>/dev/null || true)
stop_pid "$srv_pid"; srv_pid=""

# --- the table ----------------------------------------------------------------------------------
report() {
  echo "SCEP PKCSReq on enrolld /scep, $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(openssl version | cut -d' ' -f1-2)"
  echo "RSA-2048 RA and client keys, SHA-256, AES-128-CBC, EC P-256 issuing CA; one kept-alive HTTP/1.1 connection per client; ${seconds}s per row; load generator on the same cores; load average before: $load_before"
  awk '
    function v(k,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return substr($i, length(k) + 2) } return "" }
    BEGIN { printf "%3s %9s %8s %8s %10s %10s %8s %8s %8s %9s %6s  %s\n", "C", "enroll/s", "p50 ms",
            "p99 ms", "srv ms/enr", "cli ms/enr", "rss MB", "hwm MB", "bound/s", "ach/bound", "other", "errors" }
    /^RESULT/ { printf "%3s %9.1f %8.2f %8.2f %10.3f %10.3f %8.1f %8.1f %8.0f %8.1f%% %6.2f  %s\n",
                v("c"), v("rate"), v("p50_ms"), v("p99_ms"), v("server_cpu_ms"), v("client_cpu_ms"),
                v("server_rss_peak_mb"), v("server_hwm_mb"), v("bound"), 100 * v("ratio"),
                v("other_cores"), v("errors") (v("exhausted") == 1 ? " (devices ran out)" : "") \
                (v("idle_clients") > 0 ? " (" v("idle_clients") " of " v("c") " clients got no answer)" : "") }
  ' "$results"
  echo "srv/cli ms/enr: CPU per enrollment of enrolld (/proc/PID/stat) and of scep_load; their crypto share per the bound below"
  echo "rss MB: peak VmRSS sampled every 50 ms during the row; hwm MB: VmHWM (lifetime peak, one server process for all rows)"
  echo "other: cores used by other processes during the row; above ~0.1 the row was disturbed"
  [[ -n $bound_lines ]] && printf '%s\n' "$bound_lines"
}
report | tee ${out:+"$out"}
log "per-row output and commands: $work (use --keep to keep it)"
