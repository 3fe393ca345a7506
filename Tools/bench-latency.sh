#!/usr/bin/env bash
# Produce-to-ack latency at a steady rate (not in CI), side by side against one Tansu:
# `kgo bench produce --rate` and Tools/bench/rdprod-rate.c (librdkafka), COUNT x 100 B to
# partition 0 of a fresh topic at RATE records/s, acks=all, idempotent, the same linger,
# in ROUNDS alternating rounds. Prints each RESULT (p50/p99/max of produce call -> ack, after
# the first second: steady state) and
# the medians per client.
# Usage: Tools/bench-latency.sh [HOST:PORT]   (default: starts Tansu on 29492)
# env: KGO_BENCH_RATE (10000), KGO_BENCH_RECORDS (100000), KGO_BENCH_LINGER_MS (5), KGO_BENCH_ROUNDS (3)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
KGO=${KGO_BIN:-$ROOT/.build/release/kgo}
RATE=${KGO_BENCH_RATE:-10000}
COUNT=${KGO_BENCH_RECORDS:-100000}
LINGER=${KGO_BENCH_LINGER_MS:-5}
ROUNDS=${KGO_BENCH_ROUNDS:-3}
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -x "$KGO" ] || swift build -c release --product kgo
TMP=$(mktemp -d)
gcc -O2 -o "$TMP/rdprod-rate" "$ROOT/Tools/bench/rdprod-rate.c" -L"$ROOT/.peers/lib" -lrdkafka -Wl,-rpath,"$ROOT/.peers/lib"
BROKER=${1:-}
PID=
if [ -z "$BROKER" ]; then
  PORT=${KGO_BENCH_PORT:-29492}
  PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  BROKER=127.0.0.1:$PORT
fi
trap 'rm -rf "$TMP"; [ -n "$PID" ] && kill $PID 2>/dev/null || true' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $COUNT x 100 B at $RATE/s, linger $LINGER ms, $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
  T=latency-$(date +%s%N)
  "$KGO" bench produce -b "$BROKER" -t "$T-kgo" --records "$COUNT" --size 100 --rate "$RATE" --linger "$LINGER" | grep RESULT | tee -a "$TMP/kgo"
  "$ROOT/.peers/venv/bin/python" - "$BROKER" "$T-rd" <<'PY'
import sys
from kafka.admin import KafkaAdminClient, NewTopic
KafkaAdminClient(bootstrap_servers=sys.argv[1]).create_topics([NewTopic(sys.argv[2], 1, 1)])
PY
  "$TMP/rdprod-rate" "$BROKER" "$T-rd" "$COUNT" 100 "$RATE" enable.idempotence=true linger.ms="$LINGER" | tee -a "$TMP/rd"
done
for c in kgo rd; do
  python3 - "$TMP/$c" "$c" <<'PY'
import re, statistics, sys
rows = [dict(re.findall(r"(\w+)=([\d.]+)", l)) for l in open(sys.argv[1]) if l.startswith("RESULT")]
med = lambda k: statistics.median(float(r[k]) for r in rows)
print(f"median {sys.argv[2]:4s} rec/s {med('rec_per_s'):8.0f}  p50 {med('p50_ms'):6.2f} ms  p99 {med('p99_ms'):6.2f} ms  max {med('max_ms'):7.2f} ms  ({len(rows)} rounds)")
PY
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
