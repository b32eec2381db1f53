#!/usr/bin/env bash
# Stops the servers start.sh started, by their pidfiles (SIGTERM: a clean
# stop that syncs the log and flushes the data).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
for n in replica2 replica1 master; do
  pidfile="data/$n.pid"
  if [ ! -f "$pidfile" ]; then
    echo "$n: not running (no $pidfile)"
    continue
  fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || { echo "$n: stale pidfile"; rm -f "$pidfile"; continue; }
  for _ in $(seq 1 100); do
    [ -f "$pidfile" ] || break
    sleep 0.1
  done
  echo "$n: stopped (pid $pid)"
done
