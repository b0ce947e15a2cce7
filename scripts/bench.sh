#!/usr/bin/env bash
# corecache against memcached and Redis under the same loadgen workloads:
# every server pinned to the same CPU set (SERVER_CPU) with one thread, the
# load on LOAD_CPU, alternating rounds (the order rotates each round), CPU
# time per request from /proc/PID/stat (utime + stime) and RSS from
# /proc/PID/status. Prints every round and a table of medians with the
# ratios corecache/peer.
#
#   scripts/bench.sh                          # 5 rounds of 5 s per workload
#   ROUNDS=3 DURATION=3 WORKLOADS="get90 zipf" scripts/bench.sh
#   OUT=bench-out scripts/bench.sh            # keep JSON reports and plots
#   scripts/bench.sh honesty                  # loadgen vs memcaslap and redis-benchmark
#
# Workloads (memcached protocol against memcached and corecache, RESP
# against Redis and corecache; 100,000 keys, prefilled; 50 connections):
#   get90        90/10 get/set, 100-byte values
#   get90-pipe16 the same, 16 requests in flight per connection
#   mget10       multi-gets of 10 keys
#   value1k      90/10 get/set, 1 KiB values
#   zipf         90/10 get/set, 100-byte values, keys Zipf(0.99)
# PROTOCOLS (default "memcache resp") picks the families.
#
# `honesty` instead checks loadgen itself: against memcached, loadgen and
# memcaslap on memcaslap's default workload (9:1 get/set, 64-byte keys,
# 100-byte values, 50 connections, one thread); against Redis, loadgen and
# redis-benchmark on GET and SET (16-byte keys of 100,000, 100-byte values,
# 50 connections). Alternating rounds; the table gives both tools' ops/s,
# mean (and for redis-benchmark p50/p99) latency, and the client's own CPU
# time per request. PIPELINE (default 1) sets both RESP tools' requests in
# flight per connection (`-P`, `--pipeline`); memcaslap has no such knob.
#
# Needs Debian's memcached, redis-server, redis-tools and
# libmemcached-tools (installed if missing) and python3 for the tables.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
BASE_PORT=${BASE_PORT:-23400}
CONNECTIONS=${CONNECTIONS:-50}
KEYS=${KEYS:-100000}
PIPELINE=${PIPELINE:-1}
WORKLOADS=${WORKLOADS:-get90 get90-pipe16 mget10 value1k zipf}
PROTOCOLS=${PROTOCOLS:-memcache resp}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

need=()
command -v memcached >/dev/null || need+=(memcached)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v memcaslap >/dev/null || need+=(libmemcached-tools)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  $sudo service memcached stop >/dev/null 2>&1 || true
  $sudo service redis-server stop >/dev/null 2>&1 || true
fi

cargo build --release -q --bin corecache -p corecache
cargo build --release -q --bin loadgen -p loadgen
loadgen=target/release/loadgen

workload_args() {
  case $1 in
    get90) echo "--ratio 9:1 --value-size 100" ;;
    get90-pipe16) echo "--ratio 9:1 --value-size 100 --pipeline 16" ;;
    mget10) echo "--ratio 1:0 --multiget 10 --value-size 100" ;;
    value1k) echo "--ratio 9:1 --value-size 1024" ;;
    zipf) echo "--ratio 9:1 --value-size 100 --distribution zipf:0.99" ;;
    *) echo "unknown workload $1" >&2; exit 1 ;;
  esac
}

mc_port=$BASE_PORT redis_port=$((BASE_PORT + 1)) cc_mc_port=$((BASE_PORT + 2)) cc_resp_port=$((BASE_PORT + 3))
user_flag=()
[ "$(id -u)" -eq 0 ] && user_flag=(-u root)
taskset -c "$SERVER_CPU" memcached -p "$mc_port" -l 127.0.0.1 -U 0 -t 1 -m 1024 "${user_flag[@]}" >/dev/null &
memcached_pid=$!
taskset -c "$SERVER_CPU" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!
taskset -c "$SERVER_CPU" target/release/corecache --bind 127.0.0.1 --threads 1 \
  --memcache-port "$cc_mc_port" --resp-port "$cc_resp_port" >/dev/null &
corecache_pid=$!
trap 'kill "$memcached_pid" "$redis_pid" "$corecache_pid" 2>/dev/null; wait 2>/dev/null' EXIT
sleep 1

ticks_per_sec=$(getconf CLK_TCK)
cpu_us() { awk -v hz="$ticks_per_sec" '{ sub(/.*\) /, ""); print ($12 + $13) * 1000000 / hz }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Runs a client pinned to LOAD_CPU; prints its output, then a last line
# with the client's own CPU time in microseconds (user + system).
client() {
  python3 - "$LOAD_CPU" "$@" <<'PY'
import resource, subprocess, sys
out = subprocess.run(["taskset", "-c", sys.argv[1], *sys.argv[2:]], capture_output=True, text=True)
sys.stdout.write(out.stdout + out.stderr)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"CLIENT_CPU_US {(usage.ru_utime + usage.ru_stime) * 1e6:.0f}")
PY
}

# loadgen against memcaslap and redis-benchmark on the same workloads.
honesty() {
  local rows="$OUT/honesty" r out ops
  : >"$rows"
  local mc=(memcaslap -s "127.0.0.1:$mc_port" -T 1 -c 50 -X 100 -t "${DURATION}s" -S "${DURATION}s")
  local lg_mc=("$loadgen" --quiet --protocol memcache --server "127.0.0.1:$mc_port" --connections 50
    --ratio 9:1 --key-size 64 --value-size 100 --keys 100000 --duration "$DURATION" --json "$OUT/h.json")
  local requests=$((DURATION * 40000 * PIPELINE))
  "$loadgen" --quiet --protocol memcache --server "127.0.0.1:$mc_port" --key-size 64 --keys 100000 \
    --prefill --requests 1 >/dev/null
  "$loadgen" --quiet --protocol resp --server "127.0.0.1:$redis_port" --keys 100000 --prefill \
    --requests 1 >/dev/null
  for ((r = 1; r <= ROUNDS; r++)); do
    for k in 0 1; do
      if (((k + r) % 2)); then
        out=$(client "${mc[@]}")
        # "Run time: 3.0s Ops: 170454 TPS: 56806", then the "Total Statistics" block's Avg.
        python3 -c '
import re, sys
t = sys.stdin.read()
ops = int(re.findall(r"Ops: (\d+)", t)[-1]); tps = int(re.findall(r"TPS: (\d+)", t)[-1])
avg = float(re.search(r"Total Statistics.*?Avg:\s+(\d+)", t, re.S).group(1))
cpu = int(re.search(r"CLIENT_CPU_US (\d+)", t).group(1))
print(f"memcached-9:1 memcaslap {tps} {avg:.1f} - - {cpu / ops:.2f}")' <<<"$out" | tee -a "$rows" >&2
      else
        out=$(client "${lg_mc[@]}")
        lg_row memcached-9:1 <<<"$out" | tee -a "$rows" >&2
      fi
    done
    for test in get set; do
      local ratio=1:0; [ "$test" = set ] && ratio=0:1
      for k in 0 1; do
        if (((k + r) % 2)); then
          out=$(client redis-benchmark -p "$redis_port" -t "$test" -n "$requests" -c 50 -d 100 -r 100000 \
            -P "$PIPELINE" --csv)
          python3 -c '
import csv, io, re, sys
t = sys.stdin.read()
row = next(r for r in csv.reader(io.StringIO(t)) if r and r[0] in ("GET", "SET"))
cpu = int(re.search(r"CLIENT_CPU_US (\d+)", t).group(1))
rps, avg, p50, p99 = float(row[1]), float(row[2]) * 1000, float(row[4]) * 1000, float(row[6]) * 1000
print(f"redis-{sys.argv[1]} redis-benchmark {rps:.0f} {avg:.1f} {p50:.1f} {p99:.1f} {cpu / int(sys.argv[2]):.2f}")' \
            "$test" "$requests" <<<"$out" | tee -a "$rows" >&2
        else
          out=$(client "$loadgen" --quiet --protocol resp --server "127.0.0.1:$redis_port" --connections 50 \
            --ratio "$ratio" --value-size 100 --keys 100000 --requests "$requests" --pipeline "$PIPELINE" \
            --json "$OUT/h.json")
          lg_row "redis-$test" <<<"$out" | tee -a "$rows" >&2
        fi
      done
    done
  done
  python3 - "$rows" <<'PY'
import statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for line in open(sys.argv[1]):
    w, tool, *v = line.split()
    rows[(w, tool)].append(v)
def med(values):
    values = [float(x) for x in values if x != "-"]
    return statistics.median(values) if values else float("nan")
print("\n| workload | tool | ops/s | mean µs | p50 µs | p99 µs | client CPU µs/req | ops/s loadgen/other | mean loadgen/other |")
print("|---|---|---|---|---|---|---|---|---|")
med_rows = {k: [med(col) for col in zip(*v)] for k, v in rows.items()}
for (w, tool), m in sorted(med_rows.items()):
    ratio = ["", ""]
    if tool == "loadgen":
        other = next((v for (w2, t2), v in med_rows.items() if w2 == w and t2 != "loadgen"), None)
        if other:
            ratio = [f"{m[0] / other[0]:.2f}x", f"{m[1] / other[1]:.2f}x"]
    print(f"| {w} | {tool} | {m[0]:.0f} | {m[1]:.1f} | {m[2]:.1f} | {m[3]:.1f} | {m[4]:.2f} | " + " | ".join(ratio) + " |")
PY
}

# Reads a client() run of loadgen (its JSON in $OUT/h.json) and prints a
# honesty row for workload $1.
lg_row() {
  python3 -c '
import json, re, sys
t = sys.stdin.read()
rep = json.load(open(sys.argv[2]))
lat = rep["latency_us"]["all"]
cpu = int(re.search(r"CLIENT_CPU_US (\d+)", t).group(1)) / max(rep["sent"], 1)
ops, mean, p50, p99 = rep["ops_per_sec"], lat["mean"], lat["p50"], lat["p99"]
print(f"{sys.argv[1]} loadgen {ops:.0f} {mean:.1f} {p50:.1f} {p99:.1f} {cpu:.2f}")' "$1" "$OUT/h.json"
}

# One loadgen run against a server; appends a result line to $OUT/rounds.
# round NAME PID PORT PROTOCOL WORKLOAD ROUND EXTRA...
round() {
  local name=$1 pid=$2 port=$3 protocol=$4 workload=$5 r=$6; shift 6
  local json="$OUT/$workload.$protocol.$name.json" before after
  before=$(cpu_us "$pid")
  # shellcheck disable=SC2046
  taskset -c "$LOAD_CPU" "$loadgen" --quiet --protocol "$protocol" --server "127.0.0.1:$port" \
    --connections "$CONNECTIONS" --keys "$KEYS" $(workload_args "$workload") \
    --label "$name" --json "$json" "$@" >/dev/null
  after=$(cpu_us "$pid")
  python3 - "$json" "$workload" "$protocol" "$name" "$r" "$before" "$after" "$(rss_kib "$pid")" <<'PY' | tee -a "$OUT/rounds" >&2
import json, sys
path, workload, protocol, name, r, before, after, rss = sys.argv[1:]
rep = json.load(open(path))
lat = rep["latency_us"]["all"]
cpu = (float(after) - float(before)) / max(rep["requests"], 1)
bad = rep["errors"] + rep["timeouts"] + rep["dropped"]
print(f"{workload} {protocol} {name} {r} {rep['ops_per_sec']:.0f} {lat['p50']:.1f} {lat['p99']:.1f} "
      f"{lat['p999']:.1f} {cpu:.3f} {int(rss) / 1024:.1f} {bad}")
PY
}

if [ "${1:-}" = honesty ]; then
  honesty
  exit
fi

: >"$OUT/rounds"
echo "# workload protocol server round ops/s p50 p99 p99.9 cpu_us/req rss_mib errors" >&2
for protocol in $PROTOCOLS; do
  if [ "$protocol" = memcache ]; then
    servers=("memcached $memcached_pid $mc_port" "corecache $corecache_pid $cc_mc_port")
  else
    servers=("redis $redis_pid $redis_port" "corecache $corecache_pid $cc_resp_port")
  fi
  for workload in $WORKLOADS; do
    # Load each server's key space with this workload's values (round 0,
    # not in the table).
    for server in "${servers[@]}"; do
      read -r name pid port <<<"$server"
      round "$name" "$pid" "$port" "$protocol" "$workload" 0 --prefill --duration 1 2>/dev/null
    done
    for ((r = 1; r <= ROUNDS; r++)); do
      for ((k = 0; k < ${#servers[@]}; k++)); do
        read -r name pid port <<<"${servers[(k + r) % ${#servers[@]}]}"
        round "$name" "$pid" "$port" "$protocol" "$workload" "$r" --warmup "$WARMUP" --duration "$DURATION"
      done
    done
    # The last round's reports, side by side.
    "$loadgen" plot "$OUT/$workload.$protocol".*.json -o "$OUT/$workload.$protocol.svg"
  done
done

python3 - "$OUT/rounds" <<'PY'
import statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for line in open(sys.argv[1]):
    w, p, s, r, *values = line.split()
    if r != "0":
        rows[(w, p, s)].append([float(v) for v in values])
med = {k: [statistics.median(col) for col in zip(*v)] for k, v in rows.items()}
print("\n| workload | protocol | server | ops/s | p50 µs | p99 µs | p99.9 µs | CPU µs/req | RSS MiB | errors "
      "| ops/s vs peer | p99 vs peer | CPU vs peer |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for (w, p, s), m in med.items():
    peer = next((v for (w2, p2, s2), v in med.items() if (w2, p2) == (w, p) and s2 != "corecache"), None)
    ratios = ["", "", ""]
    if s == "corecache" and peer:
        ratios = [f"{m[0] / peer[0]:.2f}x", f"{m[2] / peer[2]:.2f}x", f"{m[4] / peer[4]:.2f}x"]
    print(f"| {w} | {p} | {s} | {m[0]:.0f} | {m[1]:.1f} | {m[2]:.1f} | {m[3]:.1f} | {m[4]:.2f} | {m[5]:.1f} "
          f"| {m[6]:.0f} | " + " | ".join(ratios) + " |")
PY
echo "reports and plots: $OUT" >&2
