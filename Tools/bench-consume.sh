#!/usr/bin/env bash
# Consumer benchmark, side by side in one run against one Tansu (not in CI): rdprod writes
# 1,000,000 x 100 B records (uncompressed, then zstd) to partition 0 of a fresh topic; then
# `kgo bench consume` and librdkafka's rdcons (fetch.queue.backoff.ms=10) each read them
# all. Prints each RESULT line with the client's CPU seconds (user+sys) and the machine's
# load average.
# Usage: Tools/bench-consume.sh [HOST:PORT]   (default: starts Tansu on 29292)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
KGO=${KGO_BIN:-$ROOT/.build/release/kgo}
COUNT=${KGO_BENCH_RECORDS:-1000000}
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -x "$KGO" ] || swift build -c release --product kgo
BROKER=${1:-}
if [ -z "$BROKER" ]; then
  PORT=${KGO_BENCH_PORT:-29292}
  PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  trap 'kill $PID 2>/dev/null || true' EXIT
  BROKER=127.0.0.1:$PORT
fi
# CPU seconds (user+sys) of a command, printed after its output.
timed() {
  local out
  out=$( { /usr/bin/time -f 'CPU %U %S' "$@" ; } 2>&1 ) || { echo "$out" >&2; return 1; }
  echo "$out" | grep RESULT
  echo "$out" | awk '/^CPU/ { printf "  client CPU-seconds: %.2f (user %s, sys %s)\n", $2 + $3, $2, $3 }'
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
for CODEC in none zstd; do
  TOPIC=bench-consume-$CODEC-$(date +%s%N)
  "$ROOT/.peers/bin/rdprod" "$BROKER" "$TOPIC" "$COUNT" 100 compression.type=$CODEC linger.ms=5 | grep RESULT
  echo "== $CODEC, $COUNT x 100 B"
  timed "$KGO" bench consume -b "$BROKER" -t "$TOPIC" --records "$COUNT"
  timed "$ROOT/.peers/bin/rdcons" "$BROKER" "$TOPIC" "$COUNT" fetch.queue.backoff.ms=10
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
