#!/usr/bin/env bash
# What hooks cost (not in CI): our producer and consumer with no hook, one hook doing
# nothing, and KafkaMetricsHook on kgo's in-process recording backend (atomic counters and
# gauges, locked histograms: the work a real backend does), in alternating rounds inside one
# kgo process per benchmark, against one Tansu (or a broker given). Produce COUNT x 100 B
# (acks=all, idempotent, one partition, a fresh topic per run), then consume COUNT records
# of a topic filled once. kgo prints each run and, per setting, the min/median records/s,
# MB/s, CPU-seconds (getrusage, user+sys, over the run) and the cost against no hook.
# Usage: Tools/bench-hooks.sh [HOST:PORT]   (default: starts Tansu on 19310)
# env: KGO_BENCH_RECORDS (1000000), KGO_BENCH_ROUNDS (6, keep it even), KGO_BENCH_HOOKS (none,empty,metrics)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
KGO=${KGO_BIN:-$ROOT/.build/release/kgo}
COUNT=${KGO_BENCH_RECORDS:-1000000}
ROUNDS=${KGO_BENCH_ROUNDS:-6}
HOOKS=${KGO_BENCH_HOOKS:-none,empty,metrics}
[ -x "$KGO" ] || swift build -c release --product kgo
BROKER=${1:-}
PID=
if [ -z "$BROKER" ]; then
  PORT=${KGO_BENCH_PORT:-19310}
  PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  BROKER=127.0.0.1:$PORT
fi
trap '[ -n "$PID" ] && kill $PID 2>/dev/null || true' EXIT
T=hooks-$(date +%s)
BUF="--buffered-records 1000000 --buffered-bytes 1073741824"
echo "kgo=$KGO broker=$BROKER records=$COUNT rounds=$ROUNDS hooks=$HOOKS load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$KGO" bench produce -b "$BROKER" -t "$T-p" --records "$COUNT" --size 100 $BUF --hooks "$HOOKS" --rounds "$ROUNDS"
"$KGO" bench produce -b "$BROKER" -t "$T-c" --records "$COUNT" --size 100 $BUF >/dev/null
"$KGO" bench consume -b "$BROKER" -t "$T-c" --records "$COUNT" --hooks "$HOOKS" --rounds "$ROUNDS"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
