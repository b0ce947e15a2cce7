#!/usr/bin/env bash
# Liveness under CPU contention: memaslap rounds against one corecache shard
# while a hog that runs and sleeps in 3 ms steps shares its CPU. The
# contention deschedules the shard at random points, which is what exposes
# lost wake-ups (see src/server/watchdog.rs: without the watchdog, a round of
# 1.5 million multi-gets stalled within 4 to 50 rounds).
#
#   scripts/stress-liveness.sh                # 40 rounds of 50,000 requests
#   ROUNDS=100 MULTIGET=10 OPS=1500000 scripts/stress-liveness.sh
#   ROUNDS=300 OPS=5000 scripts/stress-liveness.sh  # many idle-to-busy turns
#   CORECACHE=/tmp/other-build scripts/stress-liveness.sh
#
# Exits non-zero at the first round that does not finish within 60 s.
# Needs memcaslap (Debian's libmemcached-tools; installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-40}
MULTIGET=${MULTIGET:-1}
OPS=${OPS:-50000}
PORT=${PORT:-22170}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}

if ! command -v memcaslap >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq libmemcached-tools >/dev/null
fi
if [ -z "${CORECACHE:-}" ]; then
  cargo build --release -q --bin corecache
  CORECACHE=target/release/corecache
fi

taskset -c "$SERVER_CPU" "$CORECACHE" --memcache-port "$PORT" --resp-port 0 --threads 1 >/dev/null &
server=$!
taskset -c "$SERVER_CPU" bash -c 'while :; do sleep 0.003; for i in $(seq 300); do :; done; done' &
hog=$!
trap 'kill "$hog" 2>/dev/null; kill -9 "$server" 2>/dev/null; wait 2>/dev/null' EXIT
sleep 1

for ((round = 1; round <= ROUNDS; round++)); do
  if ! out=$(timeout 60 taskset -c "$LOAD_CPU" memcaslap -s "127.0.0.1:$PORT" -T 1 -c 50 -X 100 \
    -x "$OPS" -d "$MULTIGET" 2>&1); then
    echo "round $round: STALLED (no progress for 60 s)"
    exit 1
  fi
  wakes=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'stats\r\nquit\r\n' >&3; cat <&3" |
    tr -d '\r' | sed -n 's/^STAT corecache_watchdog_wakes //p')
  echo "round $round: ok, $(sed -n 's/.*TPS: \([0-9]*\).*/\1/p' <<<"$out" | tail -1) ops/s, watchdog wakes so far: $wakes"
done
echo "all $ROUNDS rounds finished"
