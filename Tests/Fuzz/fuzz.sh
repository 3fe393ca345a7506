#!/usr/bin/env bash
# Fuzz each decoder target for N seconds with libFuzzer.
#
# usage: [KGO_FUZZ_JOBS=N] Tests/Fuzz/fuzz.sh [SECONDS] [TARGET...]     (default 60 s; targets: the codec's requests
#        responses records, and the parsers outside it: cluster engine recording scenario)
# A crash is copied to Tests/Fuzz/Crashes/TARGET (replayed by `swift test` from then on) and
# the script fails. With KGO_FUZZ_MERGE=1, inputs that add coverage are merged into
# Tests/Fuzz/Corpus/TARGET (do that deliberately: the committed corpus should stay small).
# It also fails when libFuzzer registered no coverage: a blind fuzzer reports success while
# testing nothing (seen with some sanitizer combinations on this toolchain).
set -euo pipefail
SECS=${1:-60}; [ $# -gt 0 ] && shift
# engine, cluster and scenario are back in the default set: their findings are fixed
# (Tests/Fuzz/Crashes; the cluster's stall presumed to be unbounded CreateTopics/CreatePartitions
# counts) and each ran 120 s clean (Tests/Fuzz/Open/README.md).
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(requests responses records recording cluster engine scenario)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE/Harness"
product() { case "$1" in requests) echo FuzzRequests;; responses) echo FuzzResponses;; records) echo FuzzRecords;;
  cluster) echo FuzzCluster;; engine) echo FuzzEngine;; recording) echo FuzzRecording;; scenario) echo FuzzScenario;; *) echo "unknown target $1" >&2; exit 2;; esac; }
# Every product first (swift build holds a lock on the package, so not side by side).
for t in "${TARGETS[@]}"; do
  swift build -c release --sanitize=fuzzer --product "$(product "$t")" >&2
done
BINDIR=$(swift build -c release --sanitize=fuzzer --show-bin-path)

# One target: fuzz it, save a crash, report coverage. Returns non-zero on any failure.
fuzz_one() {
  local t=$1 p BIN WORK LOG rc start final
  p=$(product "$t")
  BIN=$BINDIR/$p
  WORK=$(mktemp -d); mkdir -p "$WORK/new" "$WORK/artifacts"
  LOG="$WORK/log"
  rc=0
  # SWIFT_BACKTRACE off: Swift's crash backtracer otherwise takes the trap's signal first and
  # libFuzzer never writes the crashing input.
  SWIFT_BACKTRACE=enable=no "$BIN" -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$WORK/artifacts/" "$WORK/new" "$HERE/Corpus/$t" >"$LOG" 2>&1 || rc=$?
  if ! grep -q 'Loaded [0-9]* modules' "$LOG"; then
    echo "fuzz $t: libFuzzer registered no coverage counters (blind build); log: $LOG" >&2; return 1
  fi
  start=$(grep -m1 -o 'INITED cov: [0-9]*' "$LOG" | grep -o '[0-9]*$' || echo 0)
  final=$(grep -o 'cov: [0-9]*' "$LOG" | tail -n1 | grep -o '[0-9]*$' || echo 0)
  if [ "$rc" -ne 0 ]; then
    mkdir -p "$HERE/Crashes/$t"
    for f in "$WORK"/artifacts/*; do [ -f "$f" ] && cp "$f" "$HERE/Crashes/$t/$(basename "$f")"; done
    tail -n 40 "$LOG" >&2
    echo "fuzz $t: FAILED (exit $rc); inputs saved under Tests/Fuzz/Crashes/$t" >&2; return 1
  fi
  if [ "${final:-0}" -le 0 ]; then echo "fuzz $t: coverage never grew (cov=$final); log: $LOG" >&2; return 1; fi
  if [ "${KGO_FUZZ_MERGE:-0}" = 1 ] && [ -n "$(ls -A "$WORK/new")" ]; then
    "$BIN" -merge=1 "$HERE/Corpus/$t" "$WORK/new" >>"$LOG" 2>&1 || true
  fi
  echo "fuzz $t: ok ${SECS}s, coverage $start -> $final, corpus $(ls "$HERE/Corpus/$t" | wc -l) files" >&2
  rm -rf "$WORK"
}

# KGO_FUZZ_JOBS targets at a time (a libFuzzer run is one thread; CI sets 2 for its 2 cores).
# Each target has its own corpus directory and work directory, so runs never share a file.
JOBS=${KGO_FUZZ_JOBS:-1}
failed=0
running=()
for t in "${TARGETS[@]}"; do
  if [ "${#running[@]}" -ge "$JOBS" ]; then
    wait "${running[0]}" || failed=1
    running=("${running[@]:1}")
  fi
  fuzz_one "$t" &
  running+=($!)
done
for pid in "${running[@]}"; do wait "$pid" || failed=1; done
exit "$failed"
