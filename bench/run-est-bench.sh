#!/usr/bin/env bash
# EST enrollment benchmark: enrolld beside the reference ceiling (ideal_est), measured in the
# same run on this machine, over loopback. See bench/README.md.
#
#   bench/run-est-bench.sh [-t SECONDS] [-c "1 16 64"] [-m "fresh keepalive"] [-r REPEAT]
#                          [--tls 1.2|1.3]
#                          [--enrolld PATH] [--build-dir DIR] [--only ideal|enrolld]
#                          [--restart] [--keep] [--out FILE]
#
# Builds est_load (bench/) and ideal_est (../shared/reference-bench, beside the repository)
# into BUILD_DIR/bench-run, makes a throwaway enrolld data directory with `enrolld init --demo`,
# starts ideal_est and enrolld on 127.0.0.1, drives them in turn with est_load at every mode and
# C for SECONDS (REPEAT times, keeping the least disturbed run; --restart: a new server process
# for every run), prints one table, and stops everything it started.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
ref_dir=${REFERENCE_BENCH:-$repo/../shared/reference-bench}
modes="fresh keepalive"
tls=1.2
only=""
restart=0
repeat=1
ideal_threads=16

while [[ $# -gt 0 ]]; do
  bench_option "$@"
  if [[ $bench_shift -gt 0 ]]; then shift "$bench_shift"; continue; fi
  case $1 in
    -m) modes=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    --restart) restart=1; shift ;;
    --tls) tls=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) bench_usage ;;
    *) echo "unknown option $1" >&2; bench_usage ;;
  esac
done
bench_workspace est

free_port() {  # a loopback TCP port nobody listens on
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 30000))
    if [[ -z $(ss -Htln "sport = :$p") ]]; then echo "$p"; return 0; fi
  done
  return 1
}

# --- build ----------------------------------------------------------------------------------
log "building est_load and ideal_est into $bin"
mkdir -p "$bin"
cmake -S "$repo/bench" -B "$bin" -DCMAKE_BUILD_TYPE=Release >"$work/cmake.log" 2>&1 \
  || { cat "$work/cmake.log" >&2; exit 1; }
cmake --build "$bin" --target est_load >>"$work/cmake.log" 2>&1 \
  || { cat "$work/cmake.log" >&2; exit 1; }
g++ -O2 -std=c++17 -o "$bin/ideal_est" "$ref_dir/ideal_est.cpp" -lssl -lcrypto -lpthread
est_load=$bin/est_load

# --- the servers ------------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results.txt      # the row kept for each (server, mode, C)
all_results=$work/all-results.txt  # every repetition
: >"$results"
: >"$all_results"
servers=()   # names of the servers that are up; their settings in the arrays below
declare -A s_pid s_port s_ca s_mcert s_mkey s_issuer

enrolld_status="not run"
ideal_status="not run"

start_ideal() {  # uses srv_cert srv_key ca_cert ca_key mfr_cert, set below
  local port pid
  port=$(free_port)
  "$bin/ideal_est" "$port" "$srv_cert" "$srv_key" "$ca_cert" "$ca_key" "$mfr_cert" \
    "$ideal_threads" >>"$work/ideal_est.log" 2>&1 &
  pid=$!
  bench_pids+=("$pid")
  for _ in $(seq 50); do [[ -n $(ss -Htln "sport = :$port") ]] && break; sleep 0.1; done
  if ! kill -0 "$pid" 2>/dev/null || [[ -z $(ss -Htln "sport = :$port") ]]; then
    log "ideal_est did not start"; cat "$work/ideal_est.log" >&2
    return 1
  fi
  s_pid[ideal_est]=$pid; s_port[ideal_est]=$port
  log "ideal_est pid $pid on 127.0.0.1:$port ($ideal_threads threads, $material)"
}

start_enrolld() {
  start_enrolld_serve "$enrolld" "$edir" "$work/enrolld.out.$((++enrolld_starts))" \
    "$work/enrolld.err" est || return 1
  bench_pids+=("$ENROLLD_PID")
  s_pid[enrolld]=$ENROLLD_PID; s_port[enrolld]=$ENROLLD_PORT
  log "enrolld pid $ENROLLD_PID on 127.0.0.1:$ENROLLD_PORT"
}
enrolld_starts=0

# A throwaway enrolld data directory, made first: ideal_est then serves with the very same
# material (TLS chain, issuing CA, manufacturer CA), so both servers do the same crypto.
edir=$work/enrolld
have_enrolld=0
if [[ $only != ideal ]]; then
  if [[ ! -x $enrolld ]]; then
    enrolld_status="not run: no binary at $enrolld (cmake -S $repo -B $repo/build && cmake --build $repo/build)"
    log "$enrolld_status"
  elif ! "$enrolld" init "$edir" --demo >"$work/enrolld-init.log" 2>&1; then
    enrolld_status="not run: enrolld init --demo failed"
    log "$enrolld_status"; cat "$work/enrolld-init.log" >&2
  else
    have_enrolld=1
  fi
fi

# Ceiling: ideal_est.
if [[ $only != enrolld ]]; then
  if [[ $tls != 1.2 ]]; then
    ideal_status="skipped: ideal_est serves TLS 1.2 only"
  else
    d=$work/ideal
    mkdir -p "$d"
    if [[ $have_enrolld == 1 && -r $edir/tls/server.pem && -r $edir/tls/server.key &&
          -r $edir/ca/issuing-ca.key ]]; then
      material="enrolld's demo material"
      srv_cert=$edir/tls/server.pem; srv_key=$edir/tls/server.key
      ca_cert=$edir/ca/issuing-ca.pem; ca_key=$edir/ca/issuing-ca.key
      trust=$edir/ca/root-ca.pem
      mfr_cert=$edir/demo/manufacturer-ca.pem; mfr_key=$edir/demo/manufacturer-ca.key
    else
      material="its own P-256 material (root CA -> TLS certificate; manufacturer CA)"
      ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
      # shellcheck disable=SC2054  # the commas are inside openssl arguments
      ca_ext=(-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign)
      openssl req -x509 "${ec[@]}" -keyout "$d/root.key" -out "$d/root.pem" -days 2 \
        -subj "/CN=ideal_est bench root CA" "${ca_ext[@]}" 2>/dev/null
      openssl req -x509 "${ec[@]}" -keyout "$d/mfr.key" -out "$d/mfr.pem" -days 2 \
        -subj "/CN=ideal_est bench manufacturer CA" "${ca_ext[@]}" 2>/dev/null
      openssl req -new "${ec[@]}" -keyout "$d/server.key" -out "$d/server.csr" \
        -subj "/CN=localhost" 2>/dev/null
      printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
        'extendedKeyUsage=serverAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' >"$d/server.ext"
      openssl x509 -req -in "$d/server.csr" -CA "$d/root.pem" -CAkey "$d/root.key" \
        -CAcreateserial -days 2 -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
      srv_cert=$d/server.pem; srv_key=$d/server.key
      ca_cert=$d/root.pem; ca_key=$d/root.key; trust=$d/root.pem
      mfr_cert=$d/mfr.pem; mfr_key=$d/mfr.key
    fi
    s_ca[ideal_est]=$trust; s_mcert[ideal_est]=$mfr_cert; s_mkey[ideal_est]=$mfr_key
    s_issuer[ideal_est]=$ca_cert
    if start_ideal; then
      servers+=(ideal_est)
      ideal_status="ran with $material"
    else
      ideal_status="failed to start"
    fi
  fi
fi

# enrolld, on the demo data directory.
if [[ $have_enrolld == 1 ]]; then
  s_ca[enrolld]=$edir/ca/root-ca.pem; s_issuer[enrolld]=$edir/ca/issuing-ca.pem
  s_mcert[enrolld]=$edir/demo/manufacturer-ca.pem; s_mkey[enrolld]=$edir/demo/manufacturer-ca.key
  if start_enrolld; then
    servers+=(enrolld)
    enrolld_status="ran"
  else
    enrolld_status="not run: enrolld serve did not print a 'listening est' line"
  fi
fi

# --- the runs ---------------------------------------------------------------------------------
# Rows are interleaved (for each mode and C: ideal_est, then enrolld) so that both servers meet
# the same machine; with -r N each row is run N times and the least disturbed one is kept
# (fewest cores used by other processes).
declare -A dead
for mode in $modes; do
  for c in $concurrencies; do
    for name in "${servers[@]}"; do
      [[ -z ${dead[$name]:-} ]] || continue
      best="" best_other=""
      for r in $(seq "$repeat"); do
        if [[ $restart == 1 ]]; then  # a new server process per run: RSS and VmHWM of this row only
          stop_pid "${s_pid[$name]}"
          if ! "start_${name%_est}"; then dead[$name]=1; break; fi
        fi
        pid=${s_pid[$name]}
        f=$work/$name-$mode-c$c-r$r.txt
        args=(--mode "$mode" --host 127.0.0.1 --port "${s_port[$name]}" --ca-file "${s_ca[$name]}"
              --mfr-cert "${s_mcert[$name]}" --mfr-key "${s_mkey[$name]}"
              --issuer-cert "${s_issuer[$name]}" -c "$c" -t "$seconds" --tls "$tls"
              --server-pid "$pid" --prefix "$name-$mode-$c-$r-$$" --tag "$name")
        echo "$est_load ${args[*]}" >"$f.cmd"
        log "$name $mode C=$c (${seconds}s, run $r of $repeat)"
        "$est_load" "${args[@]}" >"$f" 2>"$f.err" || log "$name $mode C=$c: est_load failed"
        if ! kill -0 "$pid" 2>/dev/null; then
          log "$name died during $mode C=$c"; dead[$name]=1
          [[ $name == enrolld ]] && enrolld_status="died during $mode C=$c (see $work/enrolld.err)"
          [[ $name == ideal_est ]] && ideal_status="died during $mode C=$c"
        fi
        line=$(grep '^RESULT' "$f" || true)
        if [[ -z $line ]]; then
          log "no result; est_load said:"; cat "$f" "$f.err" >&2
          continue
        fi
        echo "$line" >>"$all_results"
        grep -E '^  (negotiated|errors|first|note|machine)' "$f" >&2 || true
        other=$(sed -n 's/.* other_cores=\([-0-9.]*\).*/\1/p' <<<"$line")
        if [[ -z $best ]] || awk -v a="$other" -v b="$best_other" 'BEGIN { exit !(a < b) }'; then
          best=$line; best_other=$other
        fi
        [[ -z ${dead[$name]:-} ]] || break
      done
      [[ -n $best ]] && echo "$best" >>"$results"
    done
  done
done
for name in "${servers[@]}"; do stop_pid "${s_pid[$name]}"; done

# --- the table --------------------------------------------------------------------------------
report() {
  echo "EST simpleenroll, $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(openssl version | cut -d' ' -f1-2), TLS $tls, ECDHE P-256, ${seconds}s per row, load generator on the same cores"
  echo "ideal_est: $ideal_status; enrolld: $enrolld_status; load average before: $load_before"
  awk '
    function v(k,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return substr($i, length(k) + 2) } return "" }
    BEGIN {
      printf "%-9s %-9s %3s %9s %8s %8s %10s %7s %7s %8s %8s %9s %6s  %s\n", "server", "mode", "C",
             "enroll/s", "p50 ms", "p99 ms", "srv ms/enr", "rss MB", "hwm MB", "conn/enr",
             "bound/s", "ach/bound", "other", "errors"
    }
    /^RESULT/ {
      ok = v("ok"); conn = v("connections")
      printf "%-9s %-9s %3s %9.1f %8.2f %8.2f %10.3f %7.1f %7.1f %8.2f %8.0f %8.1f%% %6.2f  %s\n",
             v("tag"), v("mode"), v("c"), v("rate"), v("p50_ms"), v("p99_ms"), v("server_cpu_ms"),
             v("server_rss_peak_mb"), v("server_hwm_mb"), (ok > 0 ? conn / ok : 0), v("bound"),
             100 * v("ratio"), v("other_cores"), v("errors") (v("exhausted") == 1 ? " (devices ran out)" : "") \
             ((v("mode") == "keepalive" && ok > 0 && conn / ok > 0.5) ? " (server closed every connection: handshakes, not keep-alive)" : "")
      key = v("mode") " C=" v("c"); rate[v("tag"), key] = v("rate")
      cpe[v("tag"), key] = (ok > 0 ? conn / ok : 1)
      if (!(key in seen)) { seen[key] = 1; order[++nkeys] = key }
    }
    END {
      n = 0
      for (i = 1; i <= nkeys; i++) {
        k = order[i]
        if (!((("enrolld", k) in rate) && (("ideal_est", k) in rate) && rate["ideal_est", k] > 0)) continue
        if (!n++) print "enrolld / ideal_est (same mode and C):"
        if (k ~ /^keepalive/ && cpe["ideal_est", k] > 0.5)
          printf "  %-16s %6.1f%%  (not like for like: ideal_est closed every connection)\n", k, 100 * rate["enrolld", k] / rate["ideal_est", k]
        else
          printf "  %-16s %6.1f%%\n", k, 100 * rate["enrolld", k] / rate["ideal_est", k]
      }
    }' "$results"
  echo "rss MB: peak VmRSS sampled every 50 ms during the row; hwm MB: VmHWM, the process's lifetime peak"
  echo "other: cores used by other processes during the row (from /proc/stat); above ~0.1 the row was disturbed"
  echo "bound/s: crypto bound for the row's mode (fresh: both sides' handshake + CSR check + signature; keepalive: CSR check + signature)"
}
report | tee ${out:+"$out"}
log "per-run output and commands: $work (use --keep to keep it)"
