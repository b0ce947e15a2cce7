#!/usr/bin/env bash
# Hit ratio under a memory limit: corecache (its default allkeys-s3fifo),
# memcached 1.6 (its LRU) and Redis 7 (allkeys-lru), each limited to
# LIMIT_MB (default 64) and loaded by the same loadgen workload: gets and
# sets 9:1 of Zipf(ZIPF, default 0.99) keys over a key space whose values
# take WORKING_SET times the limit (default 4), VALUE bytes each (default
# 1000). Every server is first filled (loadgen's --prefill: every key
# set once, so it starts full and evicting), then gets WARMUP requests of
# the workload (default 2,000,000, unmeasured); REQUESTS more (default
# 2,000,000) are
# measured — counts, not seconds, so a slower server sees the same
# requests. The table shows each one's hits, misses and hit ratio from
# loadgen's report, and the items it holds and its RSS at the end. ROUNDS (default 1)
# repeats the measured part, alternating the servers.
#
#   scripts/hit-ratio.sh
#   LIMIT_MB=32 ZIPF=0.8 ROUNDS=3 REQUESTS=500000 scripts/hit-ratio.sh
set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT_MB=${LIMIT_MB:-64}
WORKING_SET=${WORKING_SET:-4}
VALUE=${VALUE:-1000}
ZIPF=${ZIPF:-0.99}
WARMUP=${WARMUP:-2000000}
REQUESTS=${REQUESTS:-2000000}
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
keys=$(((LIMIT_MB << 20) * WORKING_SET / (VALUE + 16)))

port=$BASE_PORT
# shellcheck source=scripts/limited-peers.sh
source scripts/limited-peers.sh
out=$(mktemp -d)

# run SERVER_INDEX REQUESTS JSON_FILE|"" SEED [loadgen flags…]
run() {
  target/release/loadgen --protocol "${protocols[$1]}" --server "127.0.0.1:$((port + $1))" \
    --threads 1 --connections 8 --ratio 9:1 --keys "$keys" --value-size "$VALUE" \
    --distribution "zipf:$ZIPF" --requests "$2" --seed "$4" --quiet ${3:+--json "$3"} \
    "${@:5}" >/dev/null
}

# items SERVER_INDEX: the items it holds now.
items() {
  python3 scripts/held-items.py "${protocols[$1]}" "$((port + $1))"
}

echo "limit ${LIMIT_MB} MiB, ${keys} keys of ${VALUE} B (${WORKING_SET}x the limit)," \
  "zipf:${ZIPF}, get:set 9:1, ${WARMUP} requests of warmup, ${REQUESTS} measured"
for i in 0 1 2; do run "$i" "$WARMUP" "" 0 --prefill; done
for round in $(seq 1 "$ROUNDS"); do
  order=(0 1 2)
  [ $((round % 2)) -eq 0 ] && order=(2 1 0)
  for i in "${order[@]}"; do run "$i" "$REQUESTS" "$out/${names[$i]}.$round.json" "$round"; done
done

printf '%-10s %6s %12s %12s %10s %10s %10s\n' server round hits misses hit_ratio items rss_mb
for i in 0 1 2; do
  held=$(items "$i")
  rss_mb=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/${pids[$i]}/status")
  for round in $(seq 1 "$ROUNDS"); do
    python3 -c '
import json, sys
report = json.load(open(sys.argv[1]))
hits, misses = report["hits"], report["misses"]
ratio = hits / max(1, hits + misses)
print(f"{sys.argv[2]:<10} {sys.argv[3]:>6} {hits:>12} {misses:>12} {ratio:>10.4f} {sys.argv[4]:>10} {sys.argv[5]:>10}")
' "$out/${names[$i]}.$round.json" "${names[$i]}" "$round" "$held" "$rss_mb"
  done
done
