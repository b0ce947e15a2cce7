# Sourced by the memory scripts: starts corecache (its default policy),
# memcached (its LRU) and Redis (allkeys-lru), each limited to LIMIT_MB
# MiB with THREADS threads, on ports $port, $port+1 and $port+2; sets
# `pids`, `names` and `protocols` (loadgen's and memload.py's word for
# each), and stops them on exit. CORECACHE names another corecache binary
# (default target/release/corecache), to compare two builds.
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
user_flag=()
[ "$(id -u)" -eq 0 ] && user_flag=(-u root)

"${CORECACHE:-target/release/corecache}" --bind 127.0.0.1 --memcache-port "$port" --resp-port 0 \
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
