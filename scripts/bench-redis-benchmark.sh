#!/usr/bin/env bash
# A first RESP comparison: CPU per request of corecache vs redis-server
# under redis-benchmark, both with one thread on CPU 1 (SERVER_CPU), the
# load on CPU 0 (LOAD_CPU), alternating rounds, CPU time from
# /proc/PID/stat. Indicative only; the loadgen issue brings the full suite.
#
#   scripts/bench-redis-benchmark.sh            # 3 rounds of GET and SET
#   ROUNDS=10 REQUESTS=500000 scripts/bench-redis-benchmark.sh
#   COMMANDS="hset sadd lpush lpop lrange_100" scripts/bench-redis-benchmark.sh
#     (any of redis-benchmark's -t tests, in that order each round)
#
# Needs Debian's redis-server and redis-tools (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-300000}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
BASE_PORT=${BASE_PORT:-26380}
COMMANDS=${COMMANDS:-get set}

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq redis-server redis-tools >/dev/null
  $sudo service redis-server stop >/dev/null 2>&1 || true
fi
cargo build --release -q --bin corecache

taskset -c "$SERVER_CPU" target/release/corecache --threads 1 --memcache-port 0 \
  --resp-port "$BASE_PORT" >/dev/null &
corecache=$!
taskset -c "$SERVER_CPU" redis-server --port "$((BASE_PORT + 1))" --save '' --appendonly no >/dev/null &
redis=$!
trap 'kill "$corecache" "$redis" 2>/dev/null; wait 2>/dev/null' EXIT
sleep 1
# Warm both (connections, allocator, the benchmark's keys).
for port in "$BASE_PORT" "$((BASE_PORT + 1))"; do
  taskset -c "$LOAD_CPU" redis-benchmark -p "$port" -t set,get -n 50000 -c 50 -q >/dev/null 2>&1
done

ticks_per_sec=$(getconf CLK_TCK)
cpu_us() { awk -v hz="$ticks_per_sec" '{ sub(/.*\) /, ""); print ($12 + $13) * 1000000 / hz }' "/proc/$1/stat"; }

for ((r = 1; r <= ROUNDS; r++)); do
  for server in "corecache $corecache $BASE_PORT" "redis $redis $((BASE_PORT + 1))"; do
    read -r name pid port <<<"$server"
    for command in $COMMANDS; do
      before=$(cpu_us "$pid")
      rate=$(taskset -c "$LOAD_CPU" redis-benchmark -p "$port" -t "$command" -n "$REQUESTS" -c 50 -q 2>&1 |
        tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
      after=$(cpu_us "$pid")
      awk -v r="$r" -v n="$name" -v c="$command" -v a="$after" -v b="$before" -v q="$REQUESTS" -v t="$rate" \
        'BEGIN { printf "round %d %s %s: %.2f µs CPU/request, %s requests/s\n", r, n, c, (a - b) / q, t }'
    done
  done
done
