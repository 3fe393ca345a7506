#!/usr/bin/env bash
# The project's test command (README, .ci/run). Self-sufficient on a fresh machine; fails on
# the first failing step.
#
#   1. Tools/install-test-deps.sh: apt packages, the Tansu broker, librdkafka peers (skipped
#      when KGO_SKIP_INSTALL=1 and everything is already there)
#   2. a Tansu broker on 127.0.0.1:$KGO_BROKER_PORT (default 19092) for the tests that talk
#      to a real broker, unless KGO_TEST_BROKER already names one; stopped on exit, and the
#      run fails if it died while the tests ran
#   3. Tools/check-generated.sh: the generated protocol code matches what the generator
#      writes from ../shared/kafka-protocol
#   4. swift test (debug build), SWIFT_DETERMINISTIC_HASHING=1; this replays the fuzz
#      corpus and every past crash
#   5. Tests/Fuzz/fuzz.sh: each decoder fuzzed for KGO_FUZZ_SECONDS (default 20) under
#      libFuzzer; a crash fails the run and is saved in Tests/Fuzz/Crashes/ (0 turns this
#      step off, for quick local runs only: CI always fuzzes)
#
# Tests that need a broker read KGO_TEST_BROKER (host:port) and FAIL when it is unset: they
# never skip. Extra arguments go to `swift test` (e.g. Tools/test.sh --filter Records).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
export SWIFT_DETERMINISTIC_HASHING=1
log() { echo "test.sh: $*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

T0=$(now_ms)
if [ "${KGO_SKIP_INSTALL:-0}" != 1 ]; then
  log "step 1: Tools/install-test-deps.sh"
  Tools/install-test-deps.sh
fi
T1=$(now_ms)

if [ -z "${KGO_TEST_BROKER:-}" ]; then
  PORT=${KGO_BROKER_PORT:-19092}
  TANSU_LOG=$(mktemp /tmp/kgo-tansu.XXXXXX.log)
  TANSU_PID=$(TANSU_BIN="$ROOT/.tansu/bin/tansu" TANSU_LOG="$TANSU_LOG" \
              "$SHARED_DIR/broker/start-tansu.sh" "$PORT")
  alive() {   # running and not a zombie (the broker is not our child, so nobody reaps it)
    local st; st=$(ps -o stat= -p "$1" 2>/dev/null || true)
    [ -n "$st" ] && [ "${st#Z}" = "$st" ]
  }
  stop_broker() {
    local rc=$?
    if alive "$TANSU_PID"; then
      kill "$TANSU_PID" 2>/dev/null || true
    else
      log "FAIL: Tansu (pid $TANSU_PID) died while the tests ran; last log lines:"
      tail -n 20 "$TANSU_LOG" >&2 || true
      [ "$rc" -ne 0 ] || rc=1
    fi
    exit "$rc"
  }
  trap stop_broker EXIT
  export KGO_TEST_BROKER=127.0.0.1:$PORT
  log "step 2: Tansu on $KGO_TEST_BROKER (pid $TANSU_PID, log $TANSU_LOG)"
fi
T2=$(now_ms)
log "install: $((T1 - T0)) ms; broker: $((T2 - T1)) ms"

if [ -f Tools/check-generated.sh ]; then
  log "step 3: Tools/check-generated.sh"
  bash Tools/check-generated.sh
fi

log "step 4: swift test (debug)"
swift test "$@"

FUZZ_SECONDS=${KGO_FUZZ_SECONDS:-20}
if [ "${CI:-}" = true ] && [ "$FUZZ_SECONDS" -lt 1 ]; then FUZZ_SECONDS=20; fi
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  log "step 5: fuzz each decoder for ${FUZZ_SECONDS}s"
  Tests/Fuzz/fuzz.sh "$FUZZ_SECONDS"
else
  log "step 5: fuzzing turned off by KGO_FUZZ_SECONDS=0"
fi
