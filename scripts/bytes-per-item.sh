#!/usr/bin/env bash
# Bytes per item: RSS growth of corecache, memcached 1.6 and Redis 7 after
# loading ITEMS items (default 1,000,000) with 16-byte keys and VALUE-byte
# values (default "32 1024": one run per size), in the same run, on the
# same machine. corecache and memcached are loaded through the memcached
# port, Redis through RESP (scripts/memload.py, pipelined). RSS is VmRSS
# of /proc/PID/status before the load and after it, with no memory limit
# in the way (memcached -m 4096, Redis maxmemory 0, corecache --maxmemory 0).
#
#   scripts/bytes-per-item.sh
#   ITEMS=200000 VALUES="32" scripts/bytes-per-item.sh
#
# Prints one line per server and value size: bytes/item = ΔRSS / ITEMS.
set -euo pipefail
cd "$(dirname "$0")/.."

ITEMS=${ITEMS:-1000000}
VALUES=${VALUES:-32 1024}
BASE_PORT=${BASE_PORT:-23120}
THREADS=${THREADS:-2}

cargo build --release -q --bin corecache

rss() { awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$1/status"; }

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

user_flag=()
[ "$(id -u)" -eq 0 ] && user_flag=(-u root)

printf '%-10s %8s %10s %14s %10s\n' server value items rss_growth bytes/item
for value in $VALUES; do
  port=$BASE_PORT
  target/release/corecache --bind 127.0.0.1 --memcache-port "$port" --resp-port 0 \
    --threads "$THREADS" --maxmemory 0 >/dev/null &
  cc=$!; pids+=("$cc")
  memcached -l 127.0.0.1 -p "$((port + 1))" -U 0 -t "$THREADS" -m 4096 "${user_flag[@]}" >/dev/null &
  mc=$!; pids+=("$mc")
  redis-server --port "$((port + 2))" --bind 127.0.0.1 --save '' --appendonly no \
    --maxmemory 0 --daemonize no >/dev/null &
  rd=$!; pids+=("$rd")
  sleep 1
  for entry in "corecache $cc memcache $port" "memcached $mc memcache $((port + 1))" \
               "redis $rd resp $((port + 2))"; do
    read -r name pid protocol p <<<"$entry"
    before=$(rss "$pid")
    python3 scripts/memload.py "$protocol" "$p" "$ITEMS" "$value"
    sleep 1
    after=$(rss "$pid")
    growth=$((after - before))
    printf '%-10s %8s %10s %14s %10.1f\n' "$name" "$value" "$ITEMS" "$growth" \
      "$(echo "$growth / $ITEMS" | bc -l)"
  done
  kill "$cc" "$mc" "$rd"; wait "$cc" "$mc" "$rd" 2>/dev/null || true
  pids=()
  BASE_PORT=$((BASE_PORT + 10))
done
