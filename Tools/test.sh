#!/usr/bin/env bash
# The project's test command (README, .ci/run). Runs from anywhere; fails on the first failing step.
#
# Steps, in order:
#   1. generated-code check: Tools/check-generated.sh, when that file exists (the generated
#      protocol messages must match what the generator makes from shared/kafka-protocol)
#   2. swift test, debug build, SWIFT_DETERMINISTIC_HASHING=1
#   3. (later) release build for the simulation sweeps: add it below step 2
#
# Tests that need a real broker read KGO_TEST_BROKER (host:port) and FAIL with a clear
# message when it is unset: they never skip. .ci/run starts Tansu and sets it; by hand:
#   Tools/install-test-deps.sh
#   PID=$(TANSU_BIN=.tansu/bin/tansu ../shared/broker/start-tansu.sh 19092)
#   KGO_TEST_BROKER=127.0.0.1:19092 Tools/test.sh; kill $PID
# Extra arguments go to `swift test` (e.g. Tools/test.sh --filter KafkaProtocolTests).
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$ROOT"
log() { echo "test.sh: $*" >&2; }
export SWIFT_DETERMINISTIC_HASHING=1

if [ -z "${KGO_TEST_BROKER:-}" ]; then
  log "KGO_TEST_BROKER is not set: tests that need a broker will fail (see the header of this script)"
fi

# 1. generated code is up to date
if [ -f Tools/check-generated.sh ]; then
  log "step 1: Tools/check-generated.sh"
  bash Tools/check-generated.sh
else
  log "step 1: no Tools/check-generated.sh yet, nothing to check"
fi

# 2. unit, fixture, deterministic and broker tests (debug build)
log "step 2: swift test (debug, SWIFT_DETERMINISTIC_HASHING=1)"
swift test "$@"

# 3. release build + simulation sweeps: not yet
