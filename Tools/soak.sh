#!/usr/bin/env bash
# The soak (issue 22): `kgo soak` produces and consumes through the chaos proxy in front of
# an in-process FakeCluster, checking every record, with resident memory sampled every
# second; then the same loop, shorter and slower, under valgrind's memcheck for leaks.
#
#   Tools/soak.sh            both parts: SOAK_SECONDS (default 60) of the release build's RSS
#                            soak, then SOAK_LEAK_SECONDS (default 60) under memcheck
#   Tools/soak.sh rss        the RSS soak only (what Tools/test.sh runs in CI)
#   Tools/soak.sh leaks      the leak check only
#   SOAK_SECONDS=600 Tools/soak.sh   the optional 10-minute form
#
# Uses .build/release/kgo as built (Tools/test.sh step 5 builds it); builds it only if absent.
# The RSS series goes to .build/soak-rss.csv (seconds,bytes); memcheck's report to
# .build/soak-memcheck.log. Fails on a lost, duplicated or reordered record, on resident
# memory growing more than 10% after the warm-up, or on a leak memcheck calls definite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MODE=${1:-all}
SECONDS_RSS=${SOAK_SECONDS:-60}
SECONDS_LEAK=${SOAK_LEAK_SECONDS:-60}
KGO=.build/release/kgo
log() { echo "soak.sh: $*" >&2; }

[ -x "$KGO" ] || swift build -c release --product kgo -j 2

if [ "$MODE" = all ] || [ "$MODE" = rss ]; then
  log "RSS soak: ${SECONDS_RSS}s through the chaos proxy (release build)"
  "$KGO" soak --seconds "$SECONDS_RSS" --rss-csv .build/soak-rss.csv --max-growth-percent "${SOAK_MAX_GROWTH:-10}"
fi

if [ "$MODE" = all ] || [ "$MODE" = leaks ]; then
  command -v valgrind >/dev/null || { log "valgrind is not installed (Tools/install-test-deps.sh installs it)"; exit 1; }
  log "leak check: ${SECONDS_LEAK}s under valgrind memcheck (release build, 200 records/s)"
  # Valgrind 3.19 (Debian 12) gives up on the DWARF 5 that Swift 6.3's clang writes
  # ("unhandled dwarf2 abbrev form code 0x25 ... I can't recover"), so memcheck runs a copy
  # without debug sections; the symbol table stays, so leak stacks still name functions.
  cp "$KGO" .build/soak-kgo-nodebug
  strip --strip-debug .build/soak-kgo-nodebug
  # Only definite leaks fail: "possibly lost" and "still reachable" blocks are the Swift
  # runtime's metadata and conformance caches and the threads' stacks, alive (and
  # reachable, possibly through interior pointers) until exit by design.
  # --fair-sched: NIO's event loops and the Swift concurrency pool spin on futexes; the
  # fair scheduler keeps one thread from starving the rest under valgrind's big lock.
  # --undef-value-errors=no: this is a leak check. Optimised Swift branches on
  # uninitialised bytes memcheck cannot see are harmless (swift_initStructMetadata in the
  # runtime, and EngineDriver.drain in release code: 8 contexts in a 45 s run, no invalid
  # read or write); they would fail the run without saying anything about leaks.
  rc=0
  valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --error-exitcode=99 --undef-value-errors=no --fair-sched=yes --num-callers=30 --log-file=.build/soak-memcheck.log \
    .build/soak-kgo-nodebug soak --seconds "$SECONDS_LEAK" --rate 200 --no-memory-check || rc=$?
  grep -E "definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY" .build/soak-memcheck.log | sed 's/^==[0-9]*== */memcheck: /' >&2
  [ "$rc" = 0 ] || { log "leak check failed (status $rc; 99: memcheck found a definite leak), see .build/soak-memcheck.log"; exit "$rc"; }
fi
