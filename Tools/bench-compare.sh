#!/usr/bin/env bash
# Compares two kgo builds side by side with librdkafka, in alternating rounds against one
# Tansu per round (not in CI): produce 1,000,000 x 100 B (1 partition none, 1 partition
# zstd, 12 partitions keyed; idempotent, acks=all, both clients buffering every record)
# and consume 1,000,000 x 100 B written by rdprod (none, zstd). Within a round the order
# alternates A, B, librdkafka. Prints every run, then each case's medians (rec/s and
# client CPU-seconds from rusage).
# Usage: Tools/bench-compare.sh KGO_A KGO_B   (BENCH_ROUNDS, default 5; KGO_BENCH_PORT)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
A=$1 B=$2
N=${BENCH_RECORDS:-1000000}
ROUNDS=${BENCH_ROUNDS:-5}
PORT=${KGO_BENCH_PORT:-29393}
BR=127.0.0.1:$PORT
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
KEYED=$(mktemp -d)/rdprod-keyed
gcc -O2 -o "$KEYED" Tools/bench/rdprod-keyed.c -L"$ROOT/.peers/lib" -lrdkafka -Wl,-rpath,"$ROOT/.peers/lib"
PID=
trap 'kill $PID 2>/dev/null || true' EXIT
LINES=$(mktemp)
run() {   # LABEL COMMAND...
  local label=$1; shift
  local tf; tf=$(mktemp)
  local out; out=$(/usr/bin/time -f '%U %S' -o "$tf" "$@" 2>/dev/null | grep RESULT || true)
  local cpu; cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$tf"); rm -f "$tf"
  echo "$label | $out | cpu_s=$cpu" | tee -a "$LINES"
}
mktopic() { .peers/venv/bin/python - "$BR" "$1" "$2" <<'PY'
import sys
from kafka.admin import KafkaAdminClient, NewTopic
KafkaAdminClient(bootstrap_servers=sys.argv[1]).create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1)])
PY
}
BUF="--buffered-records 1000000 --buffered-bytes 1073741824"
echo "A=$A B=$B rounds=$ROUNDS load: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  T="$(date +%s)-$round"
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; while kill -0 "$PID" 2>/dev/null; do sleep 0.1; done; fi
  PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  # Alternate which build goes first.
  if [ $((round % 2)) = 1 ]; then ORDER="A B"; else ORDER="B A"; fi
  for who in $ORDER; do
    bin=$A; [ "$who" = B ] && bin=$B
    run "produce none  $who" "$bin" bench produce -b "$BR" -t "p-none-$who-$T" --records "$N" --size 100 $BUF
  done
  run "produce none  rdkafka" .peers/bin/rdprod "$BR" "p-none-rd-$T" "$N" 100 acks=all enable.idempotence=true
  for who in $ORDER; do
    bin=$A; [ "$who" = B ] && bin=$B
    run "produce zstd  $who" "$bin" bench produce -b "$BR" -t "p-zstd-$who-$T" --records "$N" --size 100 -z zstd $BUF
  done
  run "produce zstd  rdkafka" .peers/bin/rdprod "$BR" "p-zstd-rd-$T" "$N" 100 acks=all enable.idempotence=true compression.codec=zstd
  for who in $ORDER; do
    bin=$A; [ "$who" = B ] && bin=$B
    run "produce keyed $who" "$bin" bench produce -b "$BR" -t "p-keyed-$who-$T" --records "$N" --size 100 --partitions 12 $BUF
  done
  mktopic "p-keyed-rd-$T" 12
  run "produce keyed rdkafka" "$KEYED" "$BR" "p-keyed-rd-$T" "$N" 100 acks=all enable.idempotence=true
  for codec in none zstd; do
    topic="c-$codec-$T"
    .peers/bin/rdprod "$BR" "$topic" "$N" 100 compression.type=$codec linger.ms=5 >/dev/null
    for who in $ORDER; do
      bin=$A; [ "$who" = B ] && bin=$B
      run "consume $codec  $who" "$bin" bench consume -b "$BR" -t "$topic" --records "$N"
    done
    run "consume $codec  rdkafka" .peers/bin/rdcons "$BR" "$topic" "$N" fetch.queue.backoff.ms=10
  done
done
echo "medians of $ROUNDS rounds:"
python3 - "$LINES" <<'PY'
import re, statistics, sys
cases = {}
for line in open(sys.argv[1]):
    m = re.search(r"rec_per_s=(\d+).*cpu_s=([\d.]+)", line)
    if not m: continue
    cases.setdefault(line.split("|")[0].strip(), []).append((float(m.group(1)), float(m.group(2))))
for label, runs in cases.items():
    print(f"{label:22s} rec_per_s={statistics.median(r[0] for r in runs):>12,.0f} cpu_s={statistics.median(r[1] for r in runs):.2f} "
          f"(cpu {min(r[1] for r in runs):.2f}-{max(r[1] for r in runs):.2f}, {len(runs)} runs)")
PY
rm -f "$LINES"
