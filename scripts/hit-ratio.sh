#!/usr/bin/env bash
# Hit ratio under a memory limit: corecache (its default allkeys-s3fifo),
# memcached 1.6 (its LRU) and Redis 7 (allkeys-lru), each limited to
# LIMIT_MB (default 64) and loaded by the same loadgen workload: gets and
# sets 9:1 of Zipf(ZIPF, default 0.99) keys over a key space whose values
# take WORKING_SET times the limit (default 4), VALUE bytes each (default
# 1000). Every server first gets WARMUP seconds of the workload (default
# 20, unmeasured), then DURATION seconds (default 30) are measured; the
# table shows each one's hits, misses and hit ratio from loadgen's report.
# ROUNDS (default 1) repeats it, alternating the servers.
#
#   scripts/hit-ratio.sh
#   LIMIT_MB=32 ZIPF=0.8 ROUNDS=3 scripts/hit-ratio.sh
set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT_MB=${LIMIT_MB:-64}
WORKING_SET=${WORKING_SET:-4}
VALUE=${VALUE:-1000}
ZIPF=${ZIPF:-0.99}
WARMUP=${WARMUP:-20}
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-1}
THREADS=${THREADS:-2}
BASE_PORT=${BASE_PORT:-23240}

command -v memcached >/dev/null && command -v redis-server >/dev/null || {
  apt-get install -y -q memcached redis-server >/dev/null
  service memcached stop >/dev/null 2>&1 || true
  service redis-server stop >/dev/null 2>&1 || true
}
cargo build --release -q --bin corecache -p corecache
cargo build --release -q -p loadgen

# Keys whose values (with 16-byte keys) add up to WORKING_SET limits.
keys=$(( (LIMIT_MB << 20) * WORKING_SET / (VALUE + 16) ))

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
user_flag=()
[ "$(id -u)" -eq 0 ] && user_flag=(-u root)

port=$BASE_PORT
target/release/corecache --bind 127.0.0.1 --memcache-port "$port" --resp-port 0 \
  --threads "$THREADS" --maxmemory "${LIMIT_MB}m" >/dev/null &
pids+=($!)
memcached -l 127.0.0.1 -p "$((port + 1))" -U 0 -t "$THREADS" -m "$LIMIT_MB" "${user_flag[@]}" >/dev/null &
pids+=($!)
redis-server --port "$((port + 2))" --bind 127.0.0.1 --save '' --appendonly no \
  --maxmemory "${LIMIT_MB}mb" --maxmemory-policy allkeys-lru --daemonize no >/dev/null &
pids+=($!)
sleep 1
names=(corecache memcached redis)
protocols=(memcache memcache resp)
out=$(mktemp -d)

echo "limit ${LIMIT_MB} MiB, ${keys} keys of ${VALUE} B (${WORKING_SET}x the limit), zipf:${ZIPF}, get:set 9:1"
for round in $(seq 1 "$ROUNDS"); do
  order=(0 1 2)
  [ $((round % 2)) -eq 0 ] && order=(2 1 0)
  for i in "${order[@]}"; do
    target/release/loadgen --protocol "${protocols[$i]}" --server "127.0.0.1:$((port + i))" \
      --threads 1 --connections 8 --ratio 9:1 --keys "$keys" --value-size "$VALUE" \
      --distribution "zipf:$ZIPF" --warmup "$WARMUP" --duration "$DURATION" \
      --seed "$round" --quiet --json "$out/${names[$i]}.$round.json" >/dev/null
  done
done

printf '%-10s %6s %12s %12s %10s\n' server round hits misses hit_ratio
for round in $(seq 1 "$ROUNDS"); do
  for i in 0 1 2; do
    python3 - "$out/${names[$i]}.$round.json" "${names[$i]}" "$round" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
hits, misses = report["hits"], report["misses"]
print(f"{sys.argv[2]:<10} {sys.argv[3]:>6} {hits:>12} {misses:>12} {hits / max(1, hits + misses):>10.4f}")
EOF
  done
done
