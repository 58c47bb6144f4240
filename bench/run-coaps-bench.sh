#!/usr/bin/env bash
# EST-coaps enrollment benchmark (RFC 9148, issue 5): enrolld's POST /est/sen over DTLS 1.2 on
# loopback, a DTLS handshake per enrollment ("fresh") and many enrollments over one DTLS session
# per client ("session"), with the crypto bound measured in the same run. See bench/README.md.
#
#   bench/run-coaps-bench.sh [-t SECONDS] [-c "1 16 64"] [-m "fresh session"] [-r REPEAT]
#                            [--enrolld PATH] [--build-dir DIR] [--quiet-wait SECONDS]
#                            [--keep] [--out FILE]
#
# Builds coaps_load and est_load (for the bound) into BUILD_DIR/bench-run, makes a throwaway
# `enrolld init --demo` folder, starts enrolld with every listener on 127.0.0.1:0, runs
# coaps_load for every mode and C (REPEAT times, keeping the least disturbed run), prints one
# table with the bound beside it, and stops enrolld.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
modes="fresh session"
repeat=1
quiet_wait=10

while [[ $# -gt 0 ]]; do
  bench_option "$@"
  if [[ $bench_shift -gt 0 ]]; then shift "$bench_shift"; continue; fi
  case $1 in
    -m) modes=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    -h|--help) bench_usage ;;
    *) echo "unknown option $1" >&2; bench_usage ;;
  esac
done
bench_workspace coaps
# --- build ------------------------------------------------------------------------------------
log "building coaps_load and est_load into $bin"
mkdir -p "$bin"
cmake -S "$repo/bench" -B "$bin" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 \
  || { cat "$work/cmake.log" >&2; exit 1; }
cmake --build "$bin" --target coaps_load est_load >>"$work/cmake.log" 2>&1 \
  || { cat "$work/cmake.log" >&2; exit 1; }
[[ -x $enrolld ]] || { log "no enrolld at $enrolld (cmake --build $build_dir -j2 --target enrolld)"; exit 1; }

# --- enrolld on a throwaway demo folder, loopback only ----------------------------------------
edir=$work/enrolld
"$enrolld" init "$edir" --demo >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
start_enrolld_serve "$enrolld" "$edir" "$work/enrolld.out" "$work/enrolld.log" coap || exit 1
srv_pid=$ENROLLD_PID
port=$ENROLLD_PORT
log "enrolld pid $srv_pid, EST-coaps at coaps://127.0.0.1:$port/est (data $edir)"

# --- the crypto bound, in this run ------------------------------------------------------------
wait_quiet "$quiet_wait"
"$bin/est_load" --mode bound >"$work/bound.txt" 2>&1 || { cat "$work/bound.txt" >&2; exit 1; }
bound_line=$(grep '^RESULT' "$work/bound.txt")
bound_fresh=$(sed -n 's/.* bound_fresh=\([0-9.]*\).*/\1/p' <<<"$bound_line")
bound_session=$(sed -n 's/.* bound_keepalive=\([0-9.]*\).*/\1/p' <<<"$bound_line")

# --- the rows ---------------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results.txt
: >"$results"
for mode in $modes; do
  for c in $concurrencies; do
    best="" best_other=""
    for r in $(seq "$repeat"); do
      wait_quiet "$quiet_wait"
      f=$work/$mode-c$c-r$r.txt
      args=(--port "$port" --cert "$edir/demo/device-0001.pem" --key "$edir/demo/device-0001.key"
            --mode "$mode" -c "$c" -t "$seconds" --server-pid "$srv_pid")
      echo "$bin/coaps_load ${args[*]}" >"$f.cmd"
      log "$mode C=$c (${seconds}s, run $r of $repeat): $(cat "$f.cmd")"
      "$bin/coaps_load" "${args[@]}" >"$f" 2>"$f.err" || log "$mode C=$c: coaps_load exited non-zero"
      if ! kill -0 "$srv_pid" 2>/dev/null; then log "enrolld died during $mode C=$c"; cat "$f" "$f.err" >&2; exit 1; fi
      line=$(grep '^RESULT' "$f" || true)
      if [[ -z $line ]]; then log "no result; coaps_load said:"; cat "$f" "$f.err" >&2; continue; fi
      grep -v '^RESULT' "$f" >&2 || true
      other=$(sed -n 's/.* other_cores=\([-0-9.]*\).*/\1/p' <<<"$line")
      if [[ -z $best ]] || awk -v a="$other" -v b="$best_other" 'BEGIN { exit !(a < b) }'; then
        best=$line; best_other=$other
      fi
    done
    [[ -n $best ]] && echo "$best" >>"$results"
  done
done
stop_pid "$srv_pid"; srv_pid=""

# --- the table --------------------------------------------------------------------------------
report() {
  echo "EST-coaps POST /est/sen on enrolld, $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(openssl version | cut -d' ' -f1-2), DTLS 1.2, ECDHE and ECDSA P-256"
  echo "libcoap client in one thread, one request in flight per client; ${seconds}s per row; load generator on the same cores; load average before: $load_before"
  awk -v bf="$bound_fresh" -v bs="$bound_session" '
    function v(k,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return substr($i, length(k) + 2) } return "" }
    BEGIN { printf "%-8s %3s %9s %8s %8s %10s %10s %8s %9s %9s %6s  %s\n", "mode", "C", "enroll/s",
            "p50 ms", "p99 ms", "srv ms/enr", "cli ms/enr", "bound/s", "ach/bound", "ach/fresh", "other", "errors" }
    /^RESULT/ { b = (v("mode") == "fresh" ? bf : bs)
                printf "%-8s %3s %9.1f %8.2f %8.2f %10.3f %10.3f %8.0f %8.1f%% %8.1f%% %6.2f  %s\n",
                v("mode"), v("c"), v("rate"), v("p50_ms"), v("p99_ms"), v("server_cpu_ms"),
                v("client_cpu_ms"), b, 100 * v("rate") / b, 100 * v("rate") / bf, v("other_cores"),
                v("errors") }
  ' "$results"
  echo "bound/s: the mode's crypto bound (fresh: both sides' handshake + CSR check + signature; session: CSR check + signature)"
  echo "ach/fresh: the rate against the full-handshake bound, whatever the mode"
  echo "other: cores used by other processes during the row (from /proc/stat); above ~0.1 the row was disturbed"
  sed -n '/^synthetic/p; /crypto bound (CPU/,/bound on/p' "$work/bound.txt"
}
report | tee ${out:+"$out"}
log "per-row output and commands: $work (use --keep to keep it)"
