#!/usr/bin/env bash
# Transactional producer benchmark (issue 16), not part of CI: kgo bench produce
# --transactional-id and librdkafka's transactional producer (our Tools/bench/rdtxnprod.c:
# init_transactions, then begin / produce / commit) side by side against one Tansu:
# 1,000,000 x 100 B to one partition, uncompressed, acks=all, in transactions of 10,000
# records; each timed from its first transactional call (InitProducerId) to the last commit.
# With BENCH_BASELINE=1 (the default) the same records without transactions too (kgo bench
# produce and the peers' rdprod, idempotent), to show what the transactions cost.
# Prints each RESULT line with the client's CPU seconds (user+sys, /usr/bin/time), then each
# case's medians.
# Usage: Tools/bench-txn.sh [PORT]   (starts its own Tansu on PORT, default 29192)
# BENCH_ROUNDS=N (default 3) rounds, each on a fresh broker, the clients' order alternating;
# BENCH_RECORDS, BENCH_TXN_RECORDS (records per transaction) change the sizes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
cd "$ROOT"
PORT=${1:-29192}
N=${BENCH_RECORDS:-1000000}
PER=${BENCH_TXN_RECORDS:-10000}
ROUNDS=${BENCH_ROUNDS:-3}
KGO=${KGO_BIN:-.build/release/kgo}
[ -x "$KGO" ] || { echo "no $KGO: swift build -c release --product kgo" >&2; exit 1; }
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PID=
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
B=127.0.0.1:$PORT
RDTXN=$WORK/rdtxnprod
gcc -O2 -o "$RDTXN" Tools/bench/rdtxnprod.c -L"$ROOT/.peers/lib" -lrdkafka -Wl,-rpath,"$ROOT/.peers/lib"
RUN=$(date +%s)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() {   # LABEL COMMAND...
  local label=$1; shift
  local tf; tf=$(mktemp)
  local out; out=$(/usr/bin/time -f '%U %S' -o "$tf" "$@" 2>/dev/null | grep RESULT || true)
  local cpu; cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$tf"); rm -f "$tf"
  echo "$label | $out | cpu_s=$cpu"
}
topic() {   # librdkafka does not create topics: make it with one partition first
  .peers/venv/bin/python - "$B" "$1" <<'PY'
import sys
from kafka.admin import KafkaAdminClient, NewTopic
KafkaAdminClient(bootstrap_servers=sys.argv[1]).create_topics([NewTopic(sys.argv[2], 1, 1)])
PY
}
# Both clients buffer up to 1,000,000 records and 1 GiB (rdprod's queue.buffering settings).
BUF="--buffered-records 1000000 --buffered-bytes 1073741824"
ours() {
  run "kgo txn/$PER" "$KGO" bench produce -b "$B" -t "b-kgo-txn-$T" --records "$N" --size 100 \
    --transactional-id "kgo-txn-$T" --transaction-records "$PER" $BUF
}
theirs() {
  topic "b-rd-txn-$T"
  run "librdkafka txn/$PER" "$RDTXN" "$B" "b-rd-txn-$T" "$N" 100 "$PER" "rd-txn-$T"
}
baseline() {
  [ "${BENCH_BASELINE:-1}" = 1 ] || return 0
  run "kgo idempotent" "$KGO" bench produce -b "$B" -t "b-kgo-none-$T" --records "$N" --size 100 $BUF
  run "rdprod idempotent" .peers/bin/rdprod "$B" "b-rd-none-$T" "$N" 100 acks=all enable.idempotence=true
}
LINES=$(mktemp)
for round in $(seq 1 "$ROUNDS"); do
  T="$RUN-$round"
  # A fresh broker each round: Tansu keeps every record in memory and slows as it fills.
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; while kill -0 "$PID" 2>/dev/null; do sleep 0.1; done; fi
  PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  {
  if [ $((round % 2)) = 1 ]; then ours; theirs; else theirs; ours; fi
  baseline
  } | tee -a "$LINES"
done
echo "medians of $ROUNDS rounds ($N x 100 B, $PER records per transaction):"
python3 - "$LINES" <<'PY'
import re, statistics, sys
cases = {}
for line in open(sys.argv[1]):
    m = re.search(r"rec_per_s=(\d+) MB_per_s=([\d.]+) \| cpu_s=([\d.]+)", line)
    if not m: continue
    cases.setdefault(line.split("|")[0].strip(), []).append(tuple(float(x) for x in m.groups()))
for label, runs in cases.items():
    rps, mb, cpu = (statistics.median(r[i] for r in runs) for i in range(3))
    print(f"{label:22s} rec_per_s={rps:,.0f} MB_per_s={mb:.1f} cpu_s={cpu:.2f} "
          f"(rec/s {min(r[0] for r in runs):,.0f}-{max(r[0] for r in runs):,.0f}, "
          f"cpu {min(r[2] for r in runs):.2f}-{max(r[2] for r in runs):.2f}, {len(runs)} runs)")
PY
rm -f "$LINES"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
