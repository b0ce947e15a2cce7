#!/usr/bin/env bash
# CPU per request of corecache vs memcached under memaslap, as the core
# issue defines it: every server on CPU 1 with one thread, the load on CPU 0,
# alternating rounds, CPU time read from /proc/PID/stat (utime + stime).
#
#   scripts/bench-memaslap.sh                       # 10 rounds per workload
#   ROUNDS=5 scripts/bench-memaslap.sh
#   CORECACHE_BASELINE=/tmp/corecache-old scripts/bench-memaslap.sh
#
# CORECACHE_BASELINE adds another corecache binary to the same alternating
# rounds (an A/B comparison of two builds, immune to the machine's drift).
# OPS_GET (default 300,000, the issue's -x) and OPS_MGET (default
# 3,000,000: a 10-key multi-get round of 300,000 keys lasts under half a
# second, only ~40 clock ticks of /proc/PID/stat, too coarse) set -x.
#
# WORKLOADS (default "get mget10") picks the workloads; ROUND_TIMEOUT
# (default 120 s) ends the run when a round stalls.
#
# Prints every round and a table of medians with ratios to memcached.
# Needs Debian's memcached and libmemcached-tools (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
OPS_GET=${OPS_GET:-300000}
OPS_MGET=${OPS_MGET:-3000000}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
BASE_PORT=${BASE_PORT:-22120}
ROUND_TIMEOUT=${ROUND_TIMEOUT:-120}
WORKLOADS=${WORKLOADS:-get mget10}

need=()
command -v memcached >/dev/null || need+=(memcached)
command -v memcaslap >/dev/null || need+=(libmemcached-tools)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  $sudo service memcached stop >/dev/null 2>&1 || true
fi

cargo build --release -q --bin corecache

names=() pids=() ports=()
start() { # name port command...
  local name=$1 port=$2; shift 2
  taskset -c "$SERVER_CPU" "$@" >/dev/null &
  names+=("$name") pids+=($!) ports+=("$port")
}
user_flag=()
[ "$(id -u)" -eq 0 ] && user_flag=(-u root)
start memcached "$BASE_PORT" memcached -p "$BASE_PORT" -l 127.0.0.1 -U 0 -t 1 -m 1024 "${user_flag[@]}"
start corecache "$((BASE_PORT + 1))" target/release/corecache --memcache-port "$((BASE_PORT + 1))" --resp-port 0 --threads 1
if [ -n "${CORECACHE_BASELINE:-}" ]; then
  start baseline "$((BASE_PORT + 2))" "$CORECACHE_BASELINE" --memcache-port "$((BASE_PORT + 2))" --resp-port 0 --threads 1
fi
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null' EXIT
sleep 1

ticks_per_sec=$(getconf CLK_TCK)

# CPU time of a process in microseconds (utime + stime).
cpu_us() {
  awk -v hz="$ticks_per_sec" '{ sub(/.*\) /, ""); print ($12 + $13) * 1000000 / hz }' "/proc/$1/stat"
}

# One round: prints "cpu_us_per_op ops_per_sec wall_seconds". A round that
# makes no progress for ROUND_TIMEOUT seconds ends the run: a stalled server
# is a bug, not a data point.
round() {
  local pid=$1 port=$2 division=$3 count=$4
  local before after out ops tps started
  before=$(cpu_us "$pid")
  started=$(date +%s.%N)
  if ! out=$(timeout "$ROUND_TIMEOUT" taskset -c "$LOAD_CPU" memcaslap -s "127.0.0.1:$port" -T 1 -c 50 -X 100 -x "$count" -d "$division" 2>&1); then
    echo "memcaslap against port $port did not finish within ${ROUND_TIMEOUT}s" >&2
    exit 1
  fi
  after=$(cpu_us "$pid")
  ops=$(sed -n 's/.*Ops: \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  tps=$(sed -n 's/.*TPS: \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  awk -v b="$before" -v a="$after" -v o="$ops" -v t="$tps" -v s="$started" -v e="$(date +%s.%N)" \
    'BEGIN { printf "%.3f %d %.1f\n", (a - b) / o, t, e - s }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
least() { sort -g | head -1; }
most() { sort -g | tail -1; }

declare -A cpu tps
n=${#names[@]}
for workload in $WORKLOADS; do
  division=1 count=$OPS_GET
  [ "$workload" = mget10 ] && division=10 count=$OPS_MGET
  # Warm every server (memaslap loads its key window).
  for ((i = 0; i < n; i++)); do round "${pids[i]}" "${ports[i]}" "$division" 100000 >/dev/null; done
  for ((r = 1; r <= ROUNDS; r++)); do
    # Rotate the order each round so no server always runs first.
    for ((k = 0; k < n; k++)); do
      i=$(((k + r) % n))
      read -r c t w < <(round "${pids[i]}" "${ports[i]}" "$division" "$count") || true
      [ -n "${w:-}" ] || { echo "round $r $workload ${names[i]}: no result, stopping" >&2; exit 1; }
      echo "round $r $workload ${names[i]}: ${c} µs CPU/op, ${t} ops/s, ${w} s" >&2
      cpu[$workload.${names[i]}]+="$c "
      tps[$workload.${names[i]}]+="$t "
    done
  done
done

# Medians, and each server's best round: this VM's noise only ever adds
# time (slow stretches hit every server alike), so the best round of each is
# the steadiest comparison.
printf '\n| workload | server | CPU µs/op median | best | ops/s median | CPU vs memcached (median) | (best) | throughput vs memcached (median) |\n|---|---|---|---|---|---|---|---|\n'
for workload in $WORKLOADS; do
  values() { tr ' ' '\n' <<<"$1" | grep .; }
  mc_cpu=$(values "${cpu[$workload.memcached]}" | median)
  mc_best=$(values "${cpu[$workload.memcached]}" | least)
  mc_tps=$(values "${tps[$workload.memcached]}" | median)
  for name in "${names[@]}"; do
    c=$(values "${cpu[$workload.$name]}" | median)
    b=$(values "${cpu[$workload.$name]}" | least)
    t=$(values "${tps[$workload.$name]}" | median)
    awk -v w="$workload" -v s="$name" -v c="$c" -v b="$b" -v t="$t" -v mc="$mc_cpu" -v mb="$mc_best" -v mt="$mc_tps" \
      'BEGIN { printf "| %s | %s | %.3f | %.3f | %.0f | %.2fx | %.2fx | %.2fx |\n", w, s, c, b, t, c / mc, b / mb, t / mt }'
  done
done

# How often the liveness watchdog had to wake corecache (src/server/watchdog.rs).
for ((i = 0; i < n; i++)); do
  [ "${names[i]}" = memcached ] && continue
  wakes=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/${ports[i]}; printf 'stats\r\nquit\r\n' >&3; cat <&3" |
    tr -d '\r' | sed -n 's/^STAT corecache_watchdog_wakes //p')
  echo "${names[i]}: ${wakes:-?} watchdog wakes"
done
