#!/usr/bin/env bash
# Consumer benchmark, side by side in one run against one Tansu (not in CI). For each codec
# (none gzip snappy lz4 zstd) rdprod writes COUNT x 100 B records to partition 0 of a fresh
# topic; then, in ROUNDS alternating rounds, `kgo bench consume` (library defaults),
# librdkafka's rdcons (fetch.queue.backoff.ms=10) and `kgo consume -e` writing every record
# to /dev/null each read them all. Per client and codec it prints the median records/s,
# client CPU-seconds (user+sys), peak RSS and time to the first record, and our ratios.
# Usage: Tools/bench-consume.sh [HOST:PORT]   (default: starts Tansu on 29292)
# env: KGO_BENCH_RECORDS (1000000), KGO_BENCH_ROUNDS (3), KGO_BENCH_CODECS ("none gzip snappy lz4 zstd")
# Tools/bench-consume.sh --plot [HOST:PORT] instead runs the chart matrix (record sizes
# uncompressed and codecs at 100 B from partition 0; partition counts at 100 B, every
# partition, `kgo bench consume --all` against Tools/bench/rdcons-all.c; each point the same
# byte budget), writes docs/benchmarks/consume.csv and its SVG charts (Tools/bench-plot.py).
# env: BENCH_PLOT_BYTES (100000000 per point), BENCH_PLOT_SIZES, BENCH_PLOT_PARTITIONS,
# KGO_BENCH_CODECS, KGO_BENCH_ROUNDS.
set -euo pipefail
PLOT=0
if [ "${1:-}" = --plot ]; then PLOT=1; shift; fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
KGO=${KGO_BIN:-$ROOT/.build/release/kgo}
COUNT=${KGO_BENCH_RECORDS:-1000000}
ROUNDS=${KGO_BENCH_ROUNDS:-3}
CODECS=${KGO_BENCH_CODECS:-none gzip snappy lz4 zstd}
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -x "$KGO" ] || swift build -c release --product kgo
BROKER=${1:-}
if [ -z "$BROKER" ]; then
  PORT=${KGO_BENCH_PORT:-29292}
  PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  trap 'kill $PID 2>/dev/null || true' EXIT
  BROKER=127.0.0.1:$PORT
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; [ -n "${PID:-}" ] && kill $PID 2>/dev/null || true' EXIT

# Runs a client; appends "rec_per_s cpu_s rss_mb first_s" to $TMP/$1.
measure() {
  local key=$1; shift
  local out
  out=$( { /usr/bin/time -f 'TIME %U %S %M %e' "$@" ; } 2>&1 ) || { echo "$out" >&2; return 1; }
  local result time
  result=$(echo "$out" | grep '^RESULT' | tail -1 || true)
  time=$(echo "$out" | grep '^TIME' | tail -1)
  echo "$result $time" | awk -v count="$COUNT" '
    { rps = ""; first = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^rec_per_s=/) { split($i, a, "="); rps = a[2] }
        if ($i ~ /^first_msg_after=/) { split($i, a, "="); first = a[2] }
        if ($i == "TIME") { u = $(i+1); s = $(i+2); m = $(i+3); e = $(i+4) }
      }
      if (rps == "") rps = count / e            # kgo consume -e prints no RESULT line
      if (first == "") first = "-"
      printf "%.0f %.2f %.1f %s\n", rps, u + s, m / 1024, first }' >> "$TMP/$key"
}

if [ "$PLOT" = 1 ]; then
  . "$ROOT/Tools/bench/plot-point.sh"
  OUT=$ROOT/docs/benchmarks; mkdir -p "$OUT"; CSV=$OUT/consume.csv
  echo "$PLOT_HEADER" > "$CSV"
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  consume_point() {   # AXIS X RECORDS SIZE CODEC: fill a fresh topic, then alternate the clients.
    local topic=bench-plot-$4-$5-$(date +%s%N)
    "$ROOT/.peers/bin/rdprod" "$BROKER" "$topic" "$3" "$4" compression.type="$5" linger.ms=5 | grep RESULT >&2
    for r in $(seq "$ROUNDS"); do
      plot_point "$CSV" consume "$1" "$2" kgo "$3" "$KGO" bench consume -b "$BROKER" -t "$topic" --records "$3"
      plot_point "$CSV" consume "$1" "$2" librdkafka "$3" "$ROOT/.peers/bin/rdcons" "$BROKER" "$topic" "$3" fetch.queue.backoff.ms=10
    done
  }
  for s in ${BENCH_PLOT_SIZES:-10 100 1000 10000 100000}; do consume_point size "$s" "$(plot_records "$s")" "$s" none; done
  # Partition counts: kgo fills a topic of P partitions with keyed records; both clients read
  # every partition (rdcons reads partition 0 only, hence our rdcons-all).
  gcc -O2 -o "$TMP/rdcons-all" "$ROOT/Tools/bench/rdcons-all.c" -L"$ROOT/.peers/lib" -lrdkafka -Wl,-rpath,"$ROOT/.peers/lib"
  n=$(plot_records 100)
  for p in ${BENCH_PLOT_PARTITIONS:-1 10 100 1000}; do
    topic=bench-plot-p$p-$(date +%s%N)
    "$KGO" bench produce -b "$BROKER" -t "$topic" --records "$n" --size 100 --partitions "$p" --linger 5 | grep RESULT >&2
    for r in $(seq "$ROUNDS"); do
      plot_point "$CSV" consume partitions "$p" kgo "$n" "$KGO" bench consume -b "$BROKER" -t "$topic" --records "$n" --all
      plot_point "$CSV" consume partitions "$p" librdkafka "$n" "$TMP/rdcons-all" "$BROKER" "$topic" "$n" fetch.queue.backoff.ms=10
    done
  done
  for c in $CODECS; do consume_point codec "$c" "$(plot_records 100)" 100 "$c"; done
  CAPTION="$(nproc) cores; load $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after; $(date -u +%Y-%m-%d); kgo $(git -C "$ROOT" log -1 --format=%h -- Sources Package.swift 2>/dev/null || echo '?'); librdkafka $("$ROOT/.peers/venv/bin/python" -c 'import confluent_kafka; print(confluent_kafka.libversion()[0])' 2>/dev/null || echo '?'); Tansu (memory) on loopback; $ROUNDS round(s), medians; $(( ${BENCH_PLOT_BYTES:-100000000} / 1000000 )) MB per point (at most ${BENCH_PLOT_MAX_RECORDS:-1000000} records)"
  echo "$CAPTION" > "$OUT/consume-machine.txt"
  python3 "$ROOT/Tools/bench-plot.py" "$CSV" "$OUT" --caption "$CAPTION"
  exit 0
fi

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$2" '{ print $c }' "$TMP/$1" | median; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $COUNT x 100 B; $ROUNDS rounds"
for CODEC in $CODECS; do
  TOPIC=bench-consume-$CODEC-$(date +%s%N)
  "$ROOT/.peers/bin/rdprod" "$BROKER" "$TOPIC" "$COUNT" 100 compression.type=$CODEC linger.ms=5 | grep RESULT >&2
  for r in $(seq "$ROUNDS"); do
    measure "kgo-$CODEC" "$KGO" bench consume -b "$BROKER" -t "$TOPIC" --records "$COUNT"
    measure "rd-$CODEC" "$ROOT/.peers/bin/rdcons" "$BROKER" "$TOPIC" "$COUNT" fetch.queue.backoff.ms=10
    measure "cli-$CODEC" sh -c '"$0" consume -b "$1" -t "$2" -p 0 -o beginning -e > /dev/null' "$KGO" "$BROKER" "$TOPIC"
  done
done
printf '\n%-7s %-10s %12s %8s %9s %8s\n' codec client rec/s CPU-s peakMB first-s
for CODEC in $CODECS; do
  for c in kgo rd cli; do
    printf '%-7s %-10s %12s %8s %9s %8s\n' "$CODEC" "$c" "$(col $c-$CODEC 1)" "$(col $c-$CODEC 2)" "$(col $c-$CODEC 3)" "$(col $c-$CODEC 4)"
  done
  awk -v a="$(col kgo-$CODEC 1)" -v b="$(col rd-$CODEC 1)" -v ca="$(col kgo-$CODEC 2)" -v cb="$(col rd-$CODEC 2)" -v codec="$CODEC" \
    'BEGIN { printf "%-7s ratio kgo/librdkafka: throughput %.2fx, CPU %.2fx\n", codec, a / b, ca / cb }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
