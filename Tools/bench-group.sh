#!/usr/bin/env bash
# Consumer-group benchmark against one Tansu (not in CI), alternating rounds, medians.
#
# 1. Group consuming vs the direct consumer: librdkafka writes 1,000,000 x 100 B records once
#    to a 1-partition topic and once to a 6-partition one. Each round reads each topic four
#    ways, the direct ones first in odd rounds and the group ones first in even rounds:
#      kgo bench consume --all            direct (consume the topic), RESULT with the rate
#      kgo bench consume --group G        a fresh group per run, so it starts at the beginning
#        (both print rec_per_s_after_first: the rate from the first record, the join excluded)
#      kgo consume -e -f ''               direct, exits at the end of every partition
#      kgo consume -e -f '' -G G --session-timeout 2s   the same as a group member (the wall
#        time includes the join, which Tansu completes only after session timeout / 2 = 1 s)
#    Client CPU-seconds (user+sys) come from rusage (/usr/bin/time).
# 2. Join-to-refetch: Tools/bench/group_rebalance.py runs two members on a fresh 6-partition
#    topic written to every 10 ms, starts a third once every partition flows, and prints when
#    every partition delivers again after the join (the slowest partition, seconds from the
#    new member's start). Ours (kgo consume -G) against librdkafka (confluent-kafka,
#    Tools/bench/rdkafka_group_member.py), both with a 3 s session timeout, 1 s heartbeat,
#    60 s rebalance timeout; cooperative-sticky and eager range; kgo first in odd rounds.
#    Tansu's join delay (session timeout / 2 per JoinGroup round) dominates these times.
#
# Usage: Tools/bench-group.sh   env: BENCH_ROUNDS (5), BENCH_PARTS ("1 2"), BENCH_RECORDS
#        (1000000), KGO_BENCH_PORT (19392), KGO_BIN, TANSU_BIN, SHARED_DIR (../shared)
# Needs Tools/install-test-deps.sh (Tansu in .tansu, librdkafka peers in .peers); builds the
# release kgo once when KGO_BIN is not given.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SHARED_DIR=${SHARED_DIR:-../shared}
N=${BENCH_RECORDS:-1000000}
ROUNDS=${BENCH_ROUNDS:-5}
PARTS=${BENCH_PARTS:-"1 2"}
PORT=${KGO_BENCH_PORT:-19392}
BR=127.0.0.1:$PORT
PY=.peers/venv/bin/python
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${KGO_BIN:-}" ]; then swift build -c release --product kgo >&2; KGO_BIN=.build/release/kgo; fi
KGO=$KGO_BIN
KEYED=$(mktemp -d)/rdprod-keyed
gcc -O2 -o "$KEYED" Tools/bench/rdprod-keyed.c -L"$ROOT/.peers/lib" -lrdkafka -Wl,-rpath,"$ROOT/.peers/lib"
PID=$(TANSU_BIN=${TANSU_BIN:-$ROOT/.tansu/bin/tansu} TANSU_LOG=${TANSU_LOG:-/tmp/bench-group-tansu.log} "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
trap 'kill $PID 2>/dev/null || true' EXIT
LINES=$(mktemp)
T=$(date +%s)
mktopic() { "$PY" - "$BR" "$1" "$2" <<'PY'
import sys
from kafka.admin import KafkaAdminClient, NewTopic
KafkaAdminClient(bootstrap_servers=sys.argv[1]).create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1)])
PY
}
# LABEL COMMAND...: one line with the RESULT/REBALANCE fields, wall and CPU seconds.
run() {
  local label=$1; shift
  local tf; tf=$(mktemp)
  local out; out=$(/usr/bin/time -f '%e %U %S' -o "$tf" "$@" 2>/dev/null | grep -E 'RESULT|REBALANCE' || true)
  local times; times=$(awk '{ printf "wall_s=%.2f cpu_s=%.2f", $1, $2 + $3 }' "$tf"); rm -f "$tf"
  echo "$label | $out | $times" | tee -a "$LINES"
}
echo "kgo=$KGO rounds=$ROUNDS records=$N load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
if [[ " $PARTS " == *" 1 "* ]]; then
  .peers/bin/rdprod "$BR" "g1-$T" "$N" 100 linger.ms=5 | grep RESULT
  mktopic "g6-$T" 6
  "$KEYED" "$BR" "g6-$T" "$N" 100 linger.ms=5 | grep RESULT
fi
for round in $(seq 1 "$ROUNDS"); do
  echo "-- round $round, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ $((round % 2)) = 1 ]; then ORDER="direct group"; else ORDER="group direct"; fi
  if [[ " $PARTS " == *" 1 "* ]]; then
    for p in 1 6; do
      topic="g$p-$T"
      for how in $ORDER; do
        if [ "$how" = direct ]; then
          run "bench ${p}p direct" "$KGO" bench consume -b "$BR" -t "$topic" --records "$N" --all
          run "consume -e ${p}p direct" "$KGO" consume -b "$BR" -t "$topic" -e -f ''
        else
          run "bench ${p}p group" "$KGO" bench consume -b "$BR" -t "$topic" --records "$N" --group "b$round-$p-$T"
          run "consume -e ${p}p group" "$KGO" consume -b "$BR" -t "$topic" -e -f '' -G "c$round-$p-$T" --session-timeout 2s
        fi
      done
    done
  fi
  if [[ " $PARTS " == *" 2 "* ]]; then
    if [ $((round % 2)) = 1 ]; then IMPLS="kgo rdkafka"; else IMPLS="rdkafka kgo"; fi
    for strategy in cooperative-sticky range; do
      window=10; [ "$strategy" = range ] || window=20
      for impl in $IMPLS; do
        topic="r-$impl-$strategy-$round-$T"
        mktopic "$topic" 6
        run "rebalance $strategy $impl" timeout 180 "$PY" Tools/bench/group_rebalance.py "$impl" "$strategy" "$BR" "$topic" 6 2 3000 "$window" "$KGO" Tools/bench/rdkafka_group_member.py
      done
    done
  fi
done
echo "medians of $ROUNDS rounds (min-max):"
python3 - "$LINES" <<'PY'
import re, statistics, sys
cases = {}
for line in open(sys.argv[1]):
    label, rest = line.split("|", 1)
    vals = {k: float(v) for k, v in re.findall(r"(rec_per_s_after_first|first_msg_after|refetch_s|joiner_assigned_s|wall_s|cpu_s)=([\d.]+)", rest)}
    cases.setdefault(label.strip(), []).append(vals)
for label, runs in cases.items():
    keys = [k for k in ("rec_per_s_after_first", "first_msg_after", "refetch_s", "joiner_assigned_s", "wall_s", "cpu_s") if all(k in r for r in runs)]
    cols = []
    for k in keys:
        xs = [r[k] for r in runs]
        fmt = "{:,.0f}" if k.startswith("rec") else "{:.2f}"
        cols.append(f"{k}={fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}-{fmt.format(max(xs))})")
    print(f"{label:36s} " + " ".join(cols) + f" [{len(runs)} runs]")
PY
rm -f "$LINES"
