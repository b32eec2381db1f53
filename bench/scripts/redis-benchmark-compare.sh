#!/usr/bin/env bash
# Runs redis-benchmark against walrus and redis-server side by side
# (alternating servers, same machine, same run) and prints requests/s,
# the walrus/redis ratio and each server's CPU per request (from /proc).
#
#   bench/scripts/redis-benchmark-compare.sh [rounds]
#
# Both servers: appendonly yes, appendfsync everysec. Needs redis-server
# and redis-benchmark (apt-get install redis-server redis-tools). N, N1
# and KEYS override the request counts and the key space.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-1}
N=${N:-1000000}   # requests per pipelined (-P 16) test
N1=${N1:-200000}  # requests per -P 1 test
KEYS=${KEYS:-1000000}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/walrus-server" ./cmd/walrus-server)
hz=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

start() { # server -> PORT, PID
  local dir="$work/$1-$RANDOM"; mkdir -p "$dir"; PORT=$(free_port)
  if [ "$1" = walrus ]; then
    "$work/walrus-server" --port "$PORT" --dir "$dir" --appendonly yes --appendfsync everysec --logfile "$dir/log" &
  else
    redis-server --port "$PORT" --dir "$dir" --save "" --appendonly yes --appendfsync everysec --logfile "$dir/log" --daemonize no &
  fi
  PID=$!
  for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "$1 did not start" >&2; exit 1
}

# suite SERVER LABEL TESTS N ARGS...: one server, each test in turn.
suite() {
  local server=$1 label=$2 tests=$3 n=$4; shift 4
  start "$server"
  if [ "$label" = keyspace-P16 ]; then
    redis-benchmark -p "$PORT" -t set -r "$KEYS" -n "$KEYS" -c 50 -P 64 -q >/dev/null 2>&1
  fi
  for t in ${tests//,/ }; do
    local t0 t1 rps
    t0=$(cpu_ticks "$PID")
    rps=$(redis-benchmark -p "$PORT" -t "$t" -n "$n" "$@" --csv 2>/dev/null | tail -n 1 | cut -d, -f2 | tr -d '"')
    t1=$(cpu_ticks "$PID")
    echo "$server $label $t $rps $(( (t1 - t0) * 1000000 / hz )) $n" >>"$work/results"
  done
  kill "$PID"; wait "$PID" 2>/dev/null || true
}

for r in $(seq "$rounds"); do
  order="walrus redis"; [ $((r % 2)) -eq 0 ] && order="redis walrus"
  for s in $order; do suite "$s" P16 set,get,incr "$N" -c 50 -P 16; done
  for s in $order; do suite "$s" P1 set,get,incr "$N1" -c 50 -P 1; done
  for s in $order; do suite "$s" keyspace-P16 set,get "$N" -r "$KEYS" -c 50 -P 16; done
  for s in $order; do suite "$s" types-P16 lpush,lpop,sadd,hset,spop,zadd,lrange_100 "$N" -c 50 -P 16; done
done

python3 - "$work/results" "$rounds" <<'PY'
import sys, statistics as st, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    server, label, test, rps, cpu_us, n = line.split()
    d = rows.setdefault((label, test), {"walrus": [], "redis": [], "wcpu": [], "rcpu": []})
    d[server].append(float(rps))
    d["wcpu" if server == "walrus" else "rcpu"].append(float(cpu_us) / float(n))
print(f"median of {sys.argv[2]} round(s); cpu = server CPU time per request")
print(f"{'run':13} {'test':11} {'walrus/s':>10} {'redis/s':>10} {'ratio':>6} {'walrus cpu':>11} {'redis cpu':>10}")
for (label, test), d in rows.items():
    w, r = st.median(d["walrus"]), st.median(d["redis"])
    print(f"{label:13} {test:11} {w:10.0f} {r:10.0f} {w/r:6.2f} {st.median(d['wcpu']):9.2f}µs {st.median(d['rcpu']):8.2f}µs")
PY
