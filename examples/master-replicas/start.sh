#!/usr/bin/env bash
# Starts a walrus master on 6379 and replicas on 63791 and 63792, writes
# key1 on the master and reads it back from both replicas.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
server=${WALRUS_SERVER:-$root/bin/walrus-server}
cli=${WALRUS_CLI:-$root/bin/walrus-cli}
[ -x "$server" ] || (cd "$root" && go build -o bin/walrus-server ./cmd/walrus-server)
[ -x "$cli" ] || (cd "$root" && go build -o bin/walrus-cli ./examples/walrus-cli)
cd "$here"
mkdir -p data/master data/replica1 data/replica2

wait_ready() {
  for _ in $(seq 1 100); do
    if "$cli" -p "$1" PING >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "walrus on port $1 did not start; see $here/data/*.log" >&2
  exit 1
}

for n in master replica1 replica2; do
  if [ -f "data/$n.pid" ] && kill -0 "$(cat "data/$n.pid")" 2>/dev/null; then
    echo "$n is already running (pid $(cat "data/$n.pid"))"
  else
    nohup "$server" "$n.conf" >/dev/null 2>&1 &
  fi
done
for port in 6379 63791 63792; do wait_ready "$port"; done

echo "master   127.0.0.1:6379   SET key1 val1 -> $("$cli" -p 6379 SET key1 val1)"
for port in 63791 63792; do
  got=""
  for _ in $(seq 1 100); do
    got=$("$cli" -p "$port" GET key1 || true)
    [ "$got" = "val1" ] && break
    sleep 0.1
  done
  echo "replica  127.0.0.1:$port  GET key1      -> \"$got\""
  [ "$got" = "val1" ] || { echo "replica on $port did not get key1" >&2; exit 1; }
done
echo
echo "The three servers keep running (logs in $here/data/)."
echo "Stop them with: make demo-stop   (or $here/stop.sh)"
