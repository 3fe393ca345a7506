#!/usr/bin/env bash
# Producer benchmark (issue 5), not part of CI: kgo bench produce and librdkafka's rdprod
# (idempotent, and without idempotence: its fastest acks=all setting) side by side against
# one Tansu, 1,000,000 x 100 B, acks=all: one partition uncompressed,
# one partition zstd, and 12 partitions keyed (kgo bench --partitions 12 against our own
# Tools/bench/rdprod-keyed.c, since the peers' rdprod writes only partition 0).
# Prints each RESULT line with the client's CPU seconds (user+sys, /usr/bin/time).
# Usage: Tools/bench-produce.sh [PORT]   (starts its own Tansu on PORT, default 29192)
# BENCH_ROUNDS=N repeats every case N times (alternating clients, a fresh broker per round)
# and ends with each case's medians: on a shared 2-core VM one run swings by a third.
# Tools/bench-produce.sh --plot [PORT] instead runs the chart matrix (record sizes 1 partition,
# partition counts keyed at 100 B, codecs at 100 B; each point the same byte budget), writes
# docs/benchmarks/produce.csv and its SVG charts (Tools/bench-plot.py). env: BENCH_PLOT_BYTES
# (100000000 per point), BENCH_PLOT_SIZES, BENCH_PLOT_PARTITIONS, BENCH_PLOT_CODECS, BENCH_ROUNDS.
set -euo pipefail
PLOT=0
if [ "${1:-}" = --plot ]; then PLOT=1; shift; fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
cd "$ROOT"
PORT=${1:-29192}
N=${BENCH_RECORDS:-1000000}
KGO=${KGO_BIN:-.build/release/kgo}
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PID=
trap 'kill $PID 2>/dev/null || true' EXIT
B=127.0.0.1:$PORT
KEYED=$(mktemp -d)/rdprod-keyed
gcc -O2 -o "$KEYED" Tools/bench/rdprod-keyed.c -L"$ROOT/.peers/lib" -lrdkafka -Wl,-rpath,"$ROOT/.peers/lib"
RUN=$(date +%s)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() {   # LABEL COMMAND...
  local label=$1; shift
  local tf; tf=$(mktemp)
  local out; out=$(/usr/bin/time -f '%U %S' -o "$tf" "$@" 2>/dev/null | grep RESULT || true)
  local cpu; cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$tf"); rm -f "$tf"
  echo "$label | $out | cpu_s=$cpu"
}
# Both clients buffer up to 1,000,000 records and 1 GiB (rdprod's queue.buffering settings).
BUF="--buffered-records 1000000 --buffered-bytes 1073741824"
ROUNDS=${BENCH_ROUNDS:-1}
if [ "$PLOT" = 1 ]; then
  . Tools/bench/plot-point.sh
  OUT=docs/benchmarks; mkdir -p "$OUT"; CSV=$OUT/produce.csv
  echo "$PLOT_HEADER" > "$CSV"
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  mktopic() {   # TOPIC PARTITIONS: librdkafka does not create topics.
    .peers/venv/bin/python - "$B" "$1" "$2" <<'PY'
import sys
from kafka.admin import KafkaAdminClient, NewTopic
KafkaAdminClient(bootstrap_servers=sys.argv[1]).create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1)])
PY
  }
  fresh_broker() {   # Tansu keeps every record in memory: a fresh one per sweep and round.
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; while kill -0 "$PID" 2>/dev/null; do sleep 0.1; done; fi
    PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  }
  for round in $(seq 1 "$ROUNDS"); do
    T="$RUN-$round"
    fresh_broker
    for s in ${BENCH_PLOT_SIZES:-10 100 1000 10000 100000}; do
      n=$(plot_records "$s")
      plot_point "$CSV" produce size "$s" kgo "$n" "$KGO" bench produce -b "$B" -t "p-kgo-s$s-$T" --records "$n" --size "$s" --linger 5 $BUF
      plot_point "$CSV" produce size "$s" librdkafka "$n" .peers/bin/rdprod "$B" "p-rd-s$s-$T" "$n" "$s" acks=all enable.idempotence=true
      plot_point "$CSV" produce size "$s" librdkafka-noidem "$n" .peers/bin/rdprod "$B" "p-rdf-s$s-$T" "$n" "$s" acks=all enable.idempotence=false
    done
    fresh_broker
    n=$(plot_records 100)
    for p in ${BENCH_PLOT_PARTITIONS:-1 10 100 1000}; do
      plot_point "$CSV" produce partitions "$p" kgo "$n" "$KGO" bench produce -b "$B" -t "p-kgo-p$p-$T" --records "$n" --size 100 --partitions "$p" --linger 5 $BUF
      mktopic "p-rd-p$p-$T" "$p"
      plot_point "$CSV" produce partitions "$p" librdkafka "$n" "$KEYED" "$B" "p-rd-p$p-$T" "$n" 100 acks=all enable.idempotence=true
      mktopic "p-rdf-p$p-$T" "$p"
      plot_point "$CSV" produce partitions "$p" librdkafka-noidem "$n" "$KEYED" "$B" "p-rdf-p$p-$T" "$n" 100 acks=all enable.idempotence=false
    done
    fresh_broker
    for c in ${BENCH_PLOT_CODECS:-none gzip snappy lz4 zstd}; do
      plot_point "$CSV" produce codec "$c" kgo "$n" "$KGO" bench produce -b "$B" -t "p-kgo-c$c-$T" --records "$n" --size 100 -z "$c" --linger 5 $BUF
      plot_point "$CSV" produce codec "$c" librdkafka "$n" .peers/bin/rdprod "$B" "p-rd-c$c-$T" "$n" 100 acks=all enable.idempotence=true compression.codec="$c"
      plot_point "$CSV" produce codec "$c" librdkafka-noidem "$n" .peers/bin/rdprod "$B" "p-rdf-c$c-$T" "$n" 100 acks=all enable.idempotence=false compression.codec="$c"
    done
  done
  CAPTION="$(nproc) cores; load $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after; $(date -u +%Y-%m-%d); kgo $(git log -1 --format=%h -- Sources Package.swift 2>/dev/null || echo '?'); librdkafka $(.peers/venv/bin/python -c 'import confluent_kafka; print(confluent_kafka.libversion()[0])' 2>/dev/null || echo '?'); Tansu (memory) on loopback; $ROUNDS round(s), medians; $(( ${BENCH_PLOT_BYTES:-100000000} / 1000000 )) MB per point (at most ${BENCH_PLOT_MAX_RECORDS:-1000000} records)"
  echo "$CAPTION" > "$OUT/produce-machine.txt"
  python3 Tools/bench-plot.py "$CSV" "$OUT" --caption "$CAPTION"
  exit 0
fi
LINES=$(mktemp)
for round in $(seq 1 "$ROUNDS"); do
  T="$RUN-$round"
  # A fresh broker each round: Tansu keeps every record in memory and slows as it fills.
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; while kill -0 "$PID" 2>/dev/null; do sleep 0.1; done; fi
  PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  {
  for linger in ${BENCH_LINGERS:-5}; do
    run "kgo linger=${linger}ms 1p none" "$KGO" bench produce -b "$B" -t "b-kgo-none-$linger-$T" --records "$N" --size 100 --linger "$linger" $BUF
    run "kgo linger=${linger}ms 1p zstd" "$KGO" bench produce -b "$B" -t "b-kgo-zstd-$linger-$T" --records "$N" --size 100 -z zstd --linger "$linger" $BUF
    run "kgo linger=${linger}ms 12p keyed" "$KGO" bench produce -b "$B" -t "b-kgo-12-$linger-$T" --records "$N" --size 100 --partitions 12 --linger "$linger" $BUF
  done
  run "rdprod 1p none" .peers/bin/rdprod "$B" "b-rd-none-$T" "$N" 100 acks=all enable.idempotence=true
  run "rdprod 1p zstd" .peers/bin/rdprod "$B" "b-rd-zstd-$T" "$N" 100 acks=all enable.idempotence=true compression.codec=zstd
  # librdkafka does not create topics: make the keyed one with 12 partitions first.
  .peers/venv/bin/python - "$B" "b-rd-12-$T" <<'PY'
import sys
from kafka.admin import KafkaAdminClient, NewTopic
KafkaAdminClient(bootstrap_servers=sys.argv[1]).create_topics([NewTopic(sys.argv[2], 12, 1)])
PY
  run "rdprod 12p keyed" "$KEYED" "$B" "b-rd-12-$T" "$N" 100 acks=all enable.idempotence=true
  # librdkafka's fastest acks=all setting: no idempotence (what a throughput-minded user picks).
  run "rdprod-fast 1p none" .peers/bin/rdprod "$B" "b-rdf-none-$T" "$N" 100 acks=all enable.idempotence=false
  run "rdprod-fast 1p zstd" .peers/bin/rdprod "$B" "b-rdf-zstd-$T" "$N" 100 acks=all enable.idempotence=false compression.codec=zstd
  .peers/venv/bin/python - "$B" "b-rdf-12-$T" <<'PY'
import sys
from kafka.admin import KafkaAdminClient, NewTopic
KafkaAdminClient(bootstrap_servers=sys.argv[1]).create_topics([NewTopic(sys.argv[2], 12, 1)])
PY
  run "rdprod-fast 12p keyed" "$KEYED" "$B" "b-rdf-12-$T" "$N" 100 acks=all enable.idempotence=false
  } | tee -a "$LINES"
done
if [ "$ROUNDS" -gt 1 ]; then
  echo "medians of $ROUNDS rounds:"
  python3 - "$LINES" <<'PY'
import re, statistics, sys
cases = {}
for line in open(sys.argv[1]):
    m = re.search(r"rec_per_s=(\d+) MB_per_s=([\d.]+) \| cpu_s=([\d.]+)", line)
    if not m: continue
    cases.setdefault(line.split("|")[0].strip(), []).append(tuple(float(x) for x in m.groups()))
med = {}
for label, runs in cases.items():
    rps, mb, cpu = (statistics.median(r[i] for r in runs) for i in range(3))
    med[label] = (rps, cpu)
    print(f"{label:28s} rec_per_s={rps:,.0f} MB_per_s={mb:.1f} cpu_s={cpu:.2f} "
          f"(cpu {min(r[2] for r in runs):.2f}-{max(r[2] for r in runs):.2f}, {len(runs)} runs)")
# Ratios: kgo (idempotent, the default) against librdkafka idempotent and at its fastest.
for case in ("1p none", "1p zstd", "12p keyed"):
    k = next((v for l, v in med.items() if l.startswith("kgo") and l.endswith(case)), None)
    for peer in ("rdprod", "rdprod-fast"):
        r = med.get(f"{peer} {case}")
        if k and r:
            print(f"ratio kgo/{peer:11s} {case:9s}: throughput {k[0] / r[0]:.2f}x, CPU per record {k[1] / r[1]:.2f}x")
PY
fi
rm -f "$LINES"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
