#!/usr/bin/env bash
# CPU per request of corecache vs memcached under memaslap, as the core
# issue defines it: both servers on CPU 1 with one thread, the load on CPU 0,
# alternating rounds, CPU time read from /proc/PID/stat (utime + stime).
#
#   scripts/bench-memaslap.sh            # 10 rounds each
#   ROUNDS=5 OPS_GET=100000 scripts/bench-memaslap.sh
#
# OPS_GET (default 300,000, the issue's -x) and OPS_MGET (default 3,000,000:
# a 10-key multi-get round of 300,000 keys lasts under half a second, only
# ~40 clock ticks of /proc/PID/stat, too coarse) set memaslap's -x.
#
# Prints every round and a table of medians with the corecache/memcached
# ratios. Needs Debian's memcached and libmemcached-tools (installed if
# missing) and taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
OPS_GET=${OPS_GET:-300000}
OPS_MGET=${OPS_MGET:-3000000}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
MC_PORT=${MC_PORT:-22122}
CC_PORT=${CC_PORT:-22123}

need=()
command -v memcached >/dev/null || need+=(memcached)
command -v memcaslap >/dev/null || need+=(libmemcached-tools)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  $sudo service memcached stop >/dev/null 2>&1 || true
fi

cargo build --release -q --bin corecache

user_flag=()
[ "$(id -u)" -eq 0 ] && user_flag=(-u root)
taskset -c "$SERVER_CPU" memcached -p "$MC_PORT" -l 127.0.0.1 -U 0 -t 1 -m 1024 "${user_flag[@]}" &
mc_pid=$!
taskset -c "$SERVER_CPU" target/release/corecache --memcache-port "$CC_PORT" --resp-port 0 --threads 1 &
cc_pid=$!
trap 'kill $mc_pid $cc_pid 2>/dev/null; wait 2>/dev/null' EXIT
sleep 1

ticks_per_sec=$(getconf CLK_TCK)

# CPU time of a process in microseconds (utime + stime).
cpu_us() {
  awk -v hz="$ticks_per_sec" '{ sub(/.*\) /, ""); print ($12 + $13) * 1000000 / hz }' "/proc/$1/stat"
}

# One round: prints "cpu_us_per_op ops_per_sec".
round() {
  local pid=$1 port=$2 division=$3 count=$4
  local before after out ops tps
  before=$(cpu_us "$pid")
  out=$(taskset -c "$LOAD_CPU" memcaslap -s "127.0.0.1:$port" -T 1 -c 50 -X 100 -x "$count" -d "$division" 2>&1)
  after=$(cpu_us "$pid")
  ops=$(sed -n 's/.*Ops: \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  tps=$(sed -n 's/.*TPS: \([0-9]*\).*/\1/p' <<<"$out" | tail -1)
  awk -v b="$before" -v a="$after" -v o="$ops" -v t="$tps" 'BEGIN { printf "%.3f %d\n", (a - b) / o, t }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A cpu tps
for workload in get mget10; do
  division=1 count=$OPS_GET
  [ "$workload" = mget10 ] && division=10 count=$OPS_MGET
  # Warm both (memaslap loads its key window).
  round "$mc_pid" "$MC_PORT" "$division" 100000 >/dev/null
  round "$cc_pid" "$CC_PORT" "$division" 100000 >/dev/null
  for ((r = 1; r <= ROUNDS; r++)); do
    order=(memcached corecache)
    ((r % 2 == 0)) && order=(corecache memcached)
    for server in "${order[@]}"; do
      if [ "$server" = memcached ]; then pid=$mc_pid port=$MC_PORT; else pid=$cc_pid port=$CC_PORT; fi
      read -r c t < <(round "$pid" "$port" "$division" "$count")
      echo "round $r $workload $server: ${c} µs CPU/op, ${t} ops/s" >&2
      cpu[$workload.$server]+="$c "
      tps[$workload.$server]+="$t "
    done
  done
done

printf '\n| workload | server | CPU µs per op (median) | ops/s (median) |\n|---|---|---|---|\n'
for workload in get mget10; do
  for server in memcached corecache; do
    c=$(tr ' ' '\n' <<<"${cpu[$workload.$server]}" | grep . | median)
    t=$(tr ' ' '\n' <<<"${tps[$workload.$server]}" | grep . | median)
    printf '| %s | %s | %.3f | %.0f |\n' "$workload" "$server" "$c" "$t"
    eval "med_${server}_cpu=$c med_${server}_tps=$t"
  done
  awk -v cc="$med_corecache_cpu" -v mc="$med_memcached_cpu" -v ct="$med_corecache_tps" -v mt="$med_memcached_tps" -v w="$workload" \
    'BEGIN { printf "| %s | corecache/memcached | %.2fx CPU per op | %.2fx throughput |\n", w, cc / mc, ct / mt }'
done
