# Shared helpers of the bench/run-*-bench.sh scripts (sourced, not run): logging, stopping what a
# script started, starting enrolld on loopback, and measuring how busy the machine is.

log() { printf '== %s\n' "$*" >&2; }

stop_pid() {  # stop one process we started: SIGTERM, then SIGKILL after 5 s
  local pid=${1:-}
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

# --- the frame every run-*-bench.sh shares ---------------------------------------------------
# Sourced after the script has set repo: the defaults of the options bench_option reads (a script
# sets its own after sourcing this file where they differ).
build_dir=${BUILD_DIR:-${repo:?}/build}
enrolld=""
seconds=10
concurrencies="1 16 64"
quiet_wait=30
keep=0
out=""

# bench_usage: prints the calling script's header comment (line 2 to the first line that is not a
# comment) and exits 2.
bench_usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
  exit 2
}

# bench_option "$@": the options every bench script takes (-t, -c, --enrolld, --build-dir,
# --quiet-wait, --keep, --out); sets bench_shift to the arguments it used, 0 for another option.
bench_option() {
  bench_shift=2
  case $1 in
    -t) seconds=$2 ;;
    -c) concurrencies=$2 ;;
    --enrolld) enrolld=$2 ;;
    --build-dir) build_dir=$2 ;;
    --quiet-wait) quiet_wait=$2 ;;
    --out) out=$2 ;;
    --keep) keep=1; bench_shift=1 ;;
    *) bench_shift=0 ;;
  esac
}

# bench_workspace NAME: enrolld (default: the build's), bin (BUILD_DIR/bench-run), a throwaway
# work folder /tmp/NAME-bench.XXXXXX, and on exit: stop every process in bench_pids and in
# srv_pid, remove the folder unless --keep.
bench_workspace() {
  [[ -n $enrolld ]] || enrolld=$build_dir/server/app/enrolld
  bin=$build_dir/bench-run
  work=$(mktemp -d "/tmp/$1-bench.XXXXXX")
  bench_pids=()
  srv_pid=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}" "$srv_pid"; do stop_pid "$pid"; done
  bench_pids=()
  srv_pid=""
  if [[ $keep == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}

# listen_overrides DIR: "--listen-<name> 127.0.0.1:0" (one word a line) for every listener that
# DIR/enrolld.json names, and for est, so that a run stays on loopback and takes no fixed port.
listen_overrides() {
  local names name
  names=$(tr -d '\n' <"$1/enrolld.json" | grep -o '"listen"[[:space:]]*:[[:space:]]*{[^}]*}' |
          sed 's/^"listen"[[:space:]]*:[[:space:]]*{//' | grep -o '"[a-z_]*"[[:space:]]*:' |
          tr -d '": \t' || true)
  for name in $(printf '%s\n' est "$names" | sort -u); do
    printf '%s\n' "--listen-$name" 127.0.0.1:0
  done
}

# start_enrolld_serve ENROLLD DIR OUT ERR KIND: starts `ENROLLD serve DIR` with every listener on
# 127.0.0.1:0, stdout to OUT and stderr appended to ERR, and waits for its "listening KIND
# <scheme>://127.0.0.1:PORT" line (KIND: est, http or coap). Sets ENROLLD_PID and ENROLLD_PORT;
# returns 1 (the process stopped) when no such line came.
start_enrolld_serve() {
  local enrolld=$1 dir=$2 out=$3 err=$4 kind=$5 overrides=()
  mapfile -t overrides < <(listen_overrides "$dir")
  "$enrolld" serve "$dir" "${overrides[@]}" >"$out" 2>>"$err" &
  ENROLLD_PID=$!
  ENROLLD_PORT=""
  for _ in $(seq 100); do
    ENROLLD_PORT=$(sed -n "s#^listening $kind [a-z]*://127\\.0\\.0\\.1:\\([0-9]*\\)/.*#\\1#p" "$out" 2>/dev/null | head -1)
    [[ -n $ENROLLD_PORT ]] && return 0
    kill -0 "$ENROLLD_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "enrolld serve printed no 'listening $kind' line"; cat "$out" "$err" >&2
  stop_pid "$ENROLLD_PID"
  ENROLLD_PID=""
  return 1
}

busy_cores() {  # cores busy over the next second, from /proc/stat
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9; exit}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9; exit}' /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN { split(a, x); split(b, y);
    t = y[2] - x[2]; printf "%.2f\n", (t > 0 ? n * (y[1] - x[1]) / t : 0) }'
}

wait_quiet() {  # wait_quiet SECONDS: until fewer than 0.2 cores are busy, at most SECONDS
  local limit=$1 waited=0 b
  while :; do
    b=$(busy_cores)
    awk -v b="$b" 'BEGIN { exit !(b < 0.2) }' && return 0
    if (( waited >= limit )); then log "machine still busy ($b cores) after ${limit}s; running anyway"; return 0; fi
    (( waited == 0 )) && log "machine busy ($b cores used by others); waiting up to ${limit}s"
    waited=$((waited + 1))
  done
}
