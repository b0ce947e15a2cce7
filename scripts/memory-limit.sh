#!/usr/bin/env bash
# RSS against the memory limit: fills corecache, memcached 1.6 and Redis 7
# (each limited to LIMIT_MB, default 256) with KEYS keys (default 30,000)
# of mixed sizes, 10 bytes to 1 MiB log-uniform (about 91 KB on average,
# so about ten times the limit), then overwrites them all CHURN times
# (default 10) with new random sizes. Prints each server's RSS after the
# fill and after each churn round, and the largest RSS seen over the limit.
# corecache runs its default policy (allkeys-s3fifo), memcached its LRU,
# Redis allkeys-lru.
#
#   scripts/memory-limit.sh
#   LIMIT_MB=64 KEYS=10000 CHURN=3 scripts/memory-limit.sh
#   LIMIT_MB=64 SIZE=100 KEYS=2000000 CHURN=2 scripts/memory-limit.sh   # small items
#
# SIZE (default "mixed") sets one value size for every key instead.
set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT_MB=${LIMIT_MB:-256}
KEYS=${KEYS:-30000}
CHURN=${CHURN:-10}
SIZE=${SIZE:-mixed}
BASE_PORT=${BASE_PORT:-23220}
THREADS=${THREADS:-2}

cargo build --release -q --bin corecache

rss() { awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$1/status"; }

port=$BASE_PORT
# shellcheck source=scripts/limited-peers.sh
source scripts/limited-peers.sh
limit=$((LIMIT_MB << 20))
declare -A peak
printf '%-10s %-8s %14s %8s\n' server phase rss rss/limit
for round in $(seq 0 "$CHURN"); do
  phase=fill; [ "$round" -gt 0 ] && phase="churn$round"
  for i in 0 1 2; do
    python3 scripts/memload.py "${protocols[$i]}" "$((port + i))" "$KEYS" "$SIZE" 0 "$((round + 1))"
    sleep 0.5
    r=$(rss "${pids[$i]}")
    [ "${peak[$i]:-0}" -lt "$r" ] && peak[$i]=$r
    printf '%-10s %-8s %14s %8.3f\n' "${names[$i]}" "$phase" "$r" "$(echo "$r / $limit" | bc -l)"
  done
done
for i in 0 1 2; do
  over=$((peak[$i] - limit))
  printf '%s: limit %d, peak RSS %d (%+.1f MiB over)\n' "${names[$i]}" "$limit" "${peak[$i]}" \
    "$(echo "$over / 1048576" | bc -l)"
done
