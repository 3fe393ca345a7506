#!/usr/bin/env bash
# The project's test command (README, .ci/run). Self-sufficient on a fresh machine; fails on
# the first failing step.
#
#   1. Tools/install-test-deps.sh: apt packages, the Tansu broker, librdkafka peers (skipped
#      when KGO_SKIP_INSTALL=1 and everything is already there)
#   2. a Tansu broker on 127.0.0.1:$KGO_BROKER_PORT (default 19092) for the tests that talk
#      to a real broker, unless KGO_TEST_BROKER already names one; and a second Tansu
#      ($KGO_TLS_BACKEND_PORT, default 19093) behind the stunnel TLS proxy ($KGO_TLS_PORT,
#      default 19094) unless KGO_TEST_TLS_BROKER names one
#      (then KGO_TEST_TLS_CA names its CA file); stopped on exit, and the run fails if a
#      broker died while the tests ran
#   3. Tools/check-generated.sh: the generated protocol code matches what the generator
#      writes from ../shared/kafka-protocol
#   4. one release build serves every later step (issue 22: CI well under 30 minutes):
#      `swift build -c release --build-tests -Xswiftc -enable-testing`, which also writes
#      the symbol graphs the docs need (the test modules themselves at -Onone: Package.swift);
#      then `swift test -c release --skip-build`
#      (SWIFT_DETERMINISTIC_HASHING=1), which replays the fuzz corpus and every past crash.
#      The fuzz harness (step 6) builds at the same time under `nice -n 19`, so it only uses
#      the CPU the build leaves idle (its single-threaded phases); in practice it is done
#      before the build is
#   4b. beside the tests, the DocC documentation of KafkaIO (Sources/KafkaIO/KafkaIO.docc), `docc convert` of
#      the symbol graphs step 4 wrote, warnings as errors (a broken symbol link fails the
#      run). Not swift-docc-plugin: in a release build it recompiles every module for the
#      graphs (3.6 minutes)
#   5. the simulation sweep: kgo (step 4's build) sweeps KGO_SIM_SEEDS (default 200) seeds
#      of scenarios/random-faults.scenario, each run twice with action hashes compared; a
#      failing seed prints its replay command, draws its run as an HTML timeline in
#      .build/sim-timelines/SCENARIO-SEED.html (kgo sim sweep --timelines) and is shrunk into .build/sim-failure.scenario
#      (save it under scenarios/ with its fix); prints seeds/min and virtual s per wall s
#      then KGO_SIM_SEEDS seeds of scenarios/consume-random.scenario (the direct consumer)
#      and half as many of scenarios/consume-random-read-committed.scenario and of
#      scenarios/sweep/consume-cuts-random.scenario (the consumer on paths that cut
#      connections after so many bytes), then
#      KGO_SIM_SEEDS seeds of scenarios/sweep/producer-100k.scenario (the producer: 100,000
#      records under random faults) and of scenarios/sweep/producer-10k.scenario (10,000
#      records under the same 20 faults: denser per record), of
#      scenarios/sweep/producer-cuts-random.scenario, of producer-upgrade-random.scenario and
#      producer-mixed-cluster-random.scenario (a 0.10.2 cluster upgraded to 3.7 under the
#      producer, whole or half: its defaulted idempotence off, then on again), and of the transactional producer's
#      scenarios/sweep/txn-producer-random.scenario, txn-zombie-random.scenario (a second
#      instance fences the first) and txn-timeout-random.scenario (transactions outliving a
#      1 s timeout, recovered at the abort, KIP-588), and the transaction version 2 variants
#      (KIP-890 part 2: txn-producer-v2-random, txn-zombie-v2-random; half as many seeds);
#      then KGO_SIM_SEEDS seeds of each consumer-group family, scenarios/group-{churn,
#      cooperative,static,coordinator-faults,eos,eos-think,eos-v2}-random.scenario (members
#      joining, leaving, crashing, static
#      restarts, slow revocations, coordinator moves and restarts, added partitions,
#      network faults during rebalances; eos: an exactly-once copy pipeline of
#      transactional members; eos-think: the same with a think time between a member's poll
#      and its transaction, so rebalances land in between; scenarios/README.md "Group scenarios"),
#      (eos-think: half as many, it costs four times as much per seed),
#      and half as many of each KIP-848 family, scenarios/group-consumer-{churn,static,
#      coordinator-faults,eos,switch,slow}-random.scenario (consumer-protocol members; switch:
#      the whole group switching protocol across restarts);
#      KGO_SIM_SEEDS seeds of scenarios/admin-groups-random.scenario (admin requests over
#      three groups, split by coordinator and asked of every broker, under random faults);
#      then a fresh window of half as many seeds of each family (a quarter for the KIP-848
#      ones and eos-think), from a seed derived from the
#      commit (KGO_SIM_FRESH_FROM sets it), so each run covers seeds no run covered before;
#      each sweep runs one seed per core (kgo sim sweep --jobs)
#   Steps 5b, 5c, 5d and 6 run side by side (the soak and the fuzzing are bounded by time,
#   so sharing the cores costs them work, not minutes); their logs are printed in order.
#   5b. Tools/interop-consume.sh: the release kgo consumes what librdkafka produced to Tansu
#      (1,000,000 records from rdprod; every codec with headers and timestamps); a mismatch
#      fails the run (KGO_SKIP_INTEROP=1 skips it, for quick local runs only)
#   5c. kgo play --eos: the embedded cluster copies 100,000 records exactly once through two
#      transact-session members under faults; a failed check fails the run
#   5d. Tools/soak.sh: the release kgo (step 4's build, not rebuilt) produces and consumes
#      for 60 s through the chaos proxy (resets, jitter, 1-byte writes) in front of an
#      in-process FakeCluster; every record must come back once and in order, and resident
#      memory must stay flat after the warm-up (docs/soak.md); at the same time the same
#      loop runs for 60 s under valgrind memcheck, failing on any definite leak. The 10-minute form
#      (SOAK_SECONDS=600 Tools/soak.sh rss) is CI-optional: see docs/soak.md
#   6. Tests/Fuzz/fuzz.sh: each decoder, and each parser outside the codec (FakeCluster's
#      request handling, the engine given wrong answers, the flight-recording reader, the
#      scenario parsers), fuzzed for KGO_FUZZ_SECONDS (default 20; 7 targets) under
#      libFuzzer; a crash fails the run and is saved in Tests/Fuzz/Crashes/ (0 turns this
#      step off, for quick local runs only: CI always fuzzes)
#
# Tests that need a broker read KGO_TEST_BROKER / KGO_TEST_TLS_BROKER (host:port) and
# KGO_TEST_TLS_CA, and FAIL when they are unset: they
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

# Processes we started, stopped on exit: "pid:log" for brokers (the run fails if one died),
# "pid:" for the TLS proxy.
STARTED=()
alive() {   # running and not a zombie (the broker is not our child, so nobody reaps it)
  local st; st=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
stop_started() {
  local rc=$? entry pid logf
  for entry in "${STARTED[@]}"; do
    pid=${entry%%:*}; logf=${entry#*:}
    if alive "$pid"; then
      kill "$pid" 2>/dev/null || true
    elif [ -n "$logf" ]; then
      log "FAIL: Tansu (pid $pid) died while the tests ran; last log lines:"
      tail -n 20 "$logf" >&2 || true
      [ "$rc" -ne 0 ] || rc=1
    fi
  done
  exit "$rc"
}
trap stop_started EXIT
start_tansu() {   # PORT [ADVERTISED_URL]: prints nothing, records the broker in STARTED
  local port=$1 adv=${2:-} logf pid
  logf=$(mktemp /tmp/kgo-tansu.XXXXXX.log)
  pid=$(env TANSU_BIN="$ROOT/.tansu/bin/tansu" TANSU_LOG="$logf" ${adv:+TANSU_ADVERTISED=$adv} \
        "$SHARED_DIR/broker/start-tansu.sh" "$port")
  STARTED+=("$pid:$logf")
  log "step 2: Tansu on 127.0.0.1:$port${adv:+ advertising $adv} (pid $pid, log $logf)"
}

if [ -z "${KGO_TEST_BROKER:-}" ]; then
  PORT=${KGO_BROKER_PORT:-19092}
  start_tansu "$PORT"
  export KGO_TEST_BROKER=127.0.0.1:$PORT
fi
# TLS: a second Tansu that advertises the stunnel proxy's port, so clients that follow
# metadata stay on TLS.
if [ -z "${KGO_TEST_TLS_BROKER:-}" ]; then
  TLS_BACKEND_PORT=${KGO_TLS_BACKEND_PORT:-19093}
  TLS_PORT=${KGO_TLS_PORT:-19094}
  start_tansu "$TLS_BACKEND_PORT" "tcp://127.0.0.1:$TLS_PORT"
  PROXY_PID=$("$SHARED_DIR/broker/start-tls-proxy.sh" "$TLS_PORT" "$TLS_BACKEND_PORT")
  STARTED+=("$PROXY_PID:")
  export KGO_TEST_TLS_BROKER=127.0.0.1:$TLS_PORT
  export KGO_TEST_TLS_CA=/tmp/tls-proxy-$TLS_PORT/ca.crt
  log "step 2: stunnel TLS proxy on $KGO_TEST_TLS_BROKER (pid $PROXY_PID, CA $KGO_TEST_TLS_CA)"
fi
T2=$(now_ms)
log "install: $((T1 - T0)) ms; broker: $((T2 - T1)) ms"

if [ -f Tools/check-generated.sh ]; then
  log "step 3: Tools/check-generated.sh"
  bash Tools/check-generated.sh
fi

FUZZ_SECONDS=${KGO_FUZZ_SECONDS:-20}
if [ "${CI:-}" = true ] && [ "$FUZZ_SECONDS" -lt 1 ]; then FUZZ_SECONDS=20; fi
# The fuzz harness's own build (release, -sanitize=fuzzer: every module again, instrumented)
# runs beside everything else at the lowest priority. Resolved first, in the foreground, so
# two package resolutions never race on the shared cache.
FUZZ_BUILD_PID=
FUZZ_BUILD_LOG=$ROOT/.build/fuzz-harness-build.log
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  mkdir -p .build
  (cd Tests/Fuzz/Harness && swift package resolve >/dev/null)
  (cd Tests/Fuzz/Harness && exec nice -n 19 swift build -c release --sanitize=fuzzer) >"$FUZZ_BUILD_LOG" 2>&1 &
  FUZZ_BUILD_PID=$!
  STARTED+=("$FUZZ_BUILD_PID:")
  log "step 4: fuzz harness building in the background at nice 19 (pid $FUZZ_BUILD_PID, log $FUZZ_BUILD_LOG)"
fi

# One release build for the tests, the sweeps, interop, play and the soak. -enable-testing
# lets the tests' @testable imports see internal symbols (SwiftPM adds it only in debug).
# The symbol graphs for step 4b come out of the same compile.
SYMBOL_GRAPHS=$ROOT/.build/symbol-graphs
RELEASE_FLAGS=(-c release -Xswiftc -enable-testing
               -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$SYMBOL_GRAPHS"
               -Xswiftc -symbol-graph-minimum-access-level -Xswiftc public)
mkdir -p "$SYMBOL_GRAPHS"
B0=$(now_ms)
log "step 4: swift build -c release --build-tests (tests, kgo and everything else, once)"
swift build "${RELEASE_FLAGS[@]}" --build-tests
log "release build: $(( $(now_ms) - B0 )) ms"
# Step 4b, the docs, runs beside the tests: docc is one busy thread and the tests spend
# much of their time waiting on brokers and timeouts.
D0=$(now_ms)
log "step 4b: DocC documentation of KafkaIO (warnings are errors), beside the tests"
DOCS_GRAPHS=$ROOT/.build/docs-symbol-graphs
rm -rf "$DOCS_GRAPHS" && mkdir -p "$DOCS_GRAPHS"
cp "$SYMBOL_GRAPHS"/KafkaIO.symbols.json "$DOCS_GRAPHS"/
cp "$SYMBOL_GRAPHS"/KafkaIO@*.symbols.json "$DOCS_GRAPHS"/ 2>/dev/null || true
DOCS_LOG=$ROOT/.build/docs.log
docc convert Sources/KafkaIO/KafkaIO.docc --additional-symbol-graph-dir "$DOCS_GRAPHS" \
  --fallback-display-name KafkaIO --fallback-bundle-identifier KafkaIO \
  --output-path .build/KafkaIO.doccarchive --warnings-as-errors >"$DOCS_LOG" 2>&1 &
DOCS_PID=$!
STARTED+=("$DOCS_PID:")
B0=$(now_ms)
log "step 4: swift test -c release --skip-build"
swift test "${RELEASE_FLAGS[@]}" --skip-build "$@"
log "tests: $(( $(now_ms) - B0 )) ms"
if ! wait "$DOCS_PID"; then
  cat "$DOCS_LOG" >&2
  log "FAIL: the documentation did not build (warnings are errors; log $DOCS_LOG)"; exit 1
fi
log "docs (beside the tests): $(( $(now_ms) - D0 )) ms"

SIM_SEEDS=${KGO_SIM_SEEDS:-200}
if [ "${CI:-}" = true ] && [ "$SIM_SEEDS" -lt 200 ]; then SIM_SEEDS=200; fi
if [ "$SIM_SEEDS" -gt 0 ]; then
  log "step 5: simulation sweep, $SIM_SEEDS seeds (release build)"
  S1=$(now_ms)
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/random-faults.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-failure.scenario | grep -v ' ok$'
  log "sweep: $(( $(now_ms) - S1 )) ms"
  S2=$(now_ms)
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/consume-random.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-consume-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/consume-random-read-committed.scenario --seeds $(( (SIM_SEEDS + 1) / 2 )) \
    --save .build/sim-consume-rc-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/consume-cuts-random.scenario --seeds $(( (SIM_SEEDS + 1) / 2 )) \
    --save .build/sim-consume-cuts-failure.scenario | grep -v ' ok$'
  log "consumer sweeps: $(( $(now_ms) - S2 )) ms"
  S2=$(now_ms)
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/producer-100k.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-producer-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/producer-10k.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-producer-10k-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/producer-cuts-random.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-producer-cuts-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/producer-upgrade-random.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-producer-upgrade-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/producer-mixed-cluster-random.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-producer-mixed-cluster-failure.scenario | grep -v ' ok$'
  log "producer sweep: $(( $(now_ms) - S2 )) ms"
  S2=$(now_ms)
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/txn-producer-random.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-txn-producer-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/txn-zombie-random.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-txn-zombie-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/txn-timeout-random.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-txn-timeout-failure.scenario | grep -v ' ok$'
  V2_SEEDS=$(( (SIM_SEEDS + 1) / 2 ))
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/txn-producer-v2-random.scenario --seeds "$V2_SEEDS" \
    --save .build/sim-txn-producer-v2-failure.scenario | grep -v ' ok$'
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/sweep/txn-zombie-v2-random.scenario --seeds "$V2_SEEDS" \
    --save .build/sim-txn-zombie-v2-failure.scenario | grep -v ' ok$'
  log "transactional producer sweeps: $(( $(now_ms) - S2 )) ms"
  S2=$(now_ms)
  for fam in churn cooperative static coordinator-faults eos eos-v2; do
    .build/release/kgo sim sweep --timelines .build/sim-timelines "scenarios/group-$fam-random.scenario" --seeds "$SIM_SEEDS" | grep -v ' ok$'
  done
  # eos-think costs four times as much per seed as the other group families (80 s of the
  # group sweeps' 311 s in CI): half as many seeds.
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/group-eos-think-random.scenario --seeds "$V2_SEEDS" | grep -v ' ok$'
  # KIP-848 (consumer protocol) families: half as many seeds each, six families.
  KIP848_FAMILIES=(scenarios/group-consumer-churn-random.scenario scenarios/group-consumer-static-random.scenario
                   scenarios/group-consumer-coordinator-faults-random.scenario scenarios/group-consumer-eos-random.scenario
                   scenarios/group-consumer-switch-random.scenario scenarios/group-consumer-slow-random.scenario)
  for f in "${KIP848_FAMILIES[@]}"; do
    .build/release/kgo sim sweep --timelines .build/sim-timelines "$f" --seeds "$V2_SEEDS" | grep -v ' ok$'
  done
  log "group sweeps: $(( $(now_ms) - S2 )) ms"
  S2=$(now_ms)
  .build/release/kgo sim sweep --timelines .build/sim-timelines scenarios/admin-groups-random.scenario --seeds "$SIM_SEEDS" \
    --save .build/sim-admin-failure.scenario | grep -v ' ok$'
  log "admin sweep: $(( $(now_ms) - S2 )) ms"
  # A fresh window too, so coverage grows run by run: half as many seeds of each family,
  # starting at a seed derived from the commit (printed, with every failure's replay line).
  FRESH_SEEDS=$(( (SIM_SEEDS + 1) / 2 ))
  FRESH_FROM=${KGO_SIM_FRESH_FROM:-$(( 0x$(git rev-parse --short=8 HEAD 2>/dev/null || echo 0) * 1000 ))}
  log "step 5: fresh window: $FRESH_SEEDS seeds from $FRESH_FROM of each family (KGO_SIM_FRESH_FROM=$FRESH_FROM repeats it)"
  S2=$(now_ms)
  for f in random-faults consume-random consume-random-read-committed sweep/consume-cuts-random sweep/producer-10k sweep/producer-cuts-random \
           sweep/producer-upgrade-random sweep/producer-mixed-cluster-random sweep/txn-producer-random sweep/txn-zombie-random sweep/txn-timeout-random \
           group-churn-random group-cooperative-random group-static-random group-coordinator-faults-random \
           group-eos-random group-eos-v2-random admin-groups-random; do
    .build/release/kgo sim sweep --timelines .build/sim-timelines "scenarios/$f.scenario" --seeds "$FRESH_SEEDS" --from "$FRESH_FROM" | grep -v ' ok$'
  done
  for f in scenarios/group-eos-think-random.scenario "${KIP848_FAMILIES[@]}"; do
    .build/release/kgo sim sweep --timelines .build/sim-timelines "$f" --seeds "$(( (FRESH_SEEDS + 1) / 2 ))" --from "$FRESH_FROM" | grep -v ' ok$'
  done
  log "fresh window: $(( $(now_ms) - S2 )) ms"
fi

# Steps 5b to 6 run side by side. The soak (60 s) and the fuzzing (20 s a target) are
# bounded by time, not by work: sharing the cores costs them records and executions, not
# minutes, so the interop checks and play (bounded by work) run beside them, and the wall
# time of the whole is about the fuzzing's (issue 22: CI well under 30 minutes).
FUZZ_PID=
FUZZ_LOG=$ROOT/.build/fuzz.log
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  F0=$(now_ms)
  log "step 6: waiting for the fuzz harness build (pid $FUZZ_BUILD_PID)"
  if ! wait "$FUZZ_BUILD_PID"; then
    tail -n 40 "$FUZZ_BUILD_LOG" >&2
    log "FAIL: the fuzz harness did not build (log $FUZZ_BUILD_LOG)"; exit 1
  fi
  log "fuzz harness ready after waiting $(( $(now_ms) - F0 )) ms"
  log "step 6: fuzz each decoder and parser for ${FUZZ_SECONDS}s, two at a time, beside steps 5b-5d (log $FUZZ_LOG)"
  KGO_FUZZ_JOBS=2 Tests/Fuzz/fuzz.sh "$FUZZ_SECONDS" >"$FUZZ_LOG" 2>&1 &
  FUZZ_PID=$!
  STARTED+=("$FUZZ_PID:")
else
  log "step 6: fuzzing turned off by KGO_FUZZ_SECONDS=0"
fi

# The soak (issue 22): a minute through the chaos proxy, every record checked, memory flat.
# 20% in CI, not the tool's 10%: one minute on 2 cores shared with nothing else measured
# +0.8% to +4.7% after warm-up, and a gross leak still shows; the 10-minute form keeps 10%.
# The leak check's minute (200 records/s under memcheck, ~20 connection resets) fails on
# any definite leak. Each half has its own cluster on ephemeral ports.
K0=$(now_ms)
SOAK_LOG=$ROOT/.build/soak.log
log "step 5d: Tools/soak.sh (60 s through the chaos proxy, release kgo; beside it 60 s under valgrind memcheck for leaks; log $SOAK_LOG)"
( SOAK_SECONDS=60 SOAK_MAX_GROWTH=20 Tools/soak.sh rss & rss=$!
  SOAK_LEAK_SECONDS=60 Tools/soak.sh leaks; leaks=$?
  wait "$rss" && exit "$leaks" ) >"$SOAK_LOG" 2>&1 &
SOAK_PID=$!
STARTED+=("$SOAK_PID:")

# Interop: the release kgo reads what librdkafka wrote to Tansu (1M records, every codec).
if [ "${KGO_SKIP_INTEROP:-0}" != 1 ]; then
  I0=$(now_ms)
  log "step 5b: Tools/interop-consume.sh against $KGO_TEST_BROKER"
  Tools/interop-consume.sh "$KGO_TEST_BROKER"
  log "interop-consume: $(( $(now_ms) - I0 )) ms"
  S3=$(now_ms)
  log "step 5b: Tools/interop-produce.sh (1,000,000 records per codec, read back by librdkafka)"
  Tools/interop-produce.sh
  log "interop-produce: $(( $(now_ms) - S3 )) ms"
fi

# The exactly-once copy pipeline on the embedded cluster, checked end to end (release kgo).
P0=$(now_ms)
log "step 5c: kgo play --eos (exactly-once copy while leaders move, a broker restarts and a member is replaced)"
.build/release/kgo play --eos
log "play --eos: $(( $(now_ms) - P0 )) ms"

soak_rc=0; wait "$SOAK_PID" || soak_rc=$?
cat "$SOAK_LOG" >&2
[ "$soak_rc" -eq 0 ] || { log "FAIL: the soak (log $SOAK_LOG)"; exit 1; }
log "soak: $(( $(now_ms) - K0 )) ms"
if [ -n "$FUZZ_PID" ]; then
  fuzz_rc=0; wait "$FUZZ_PID" || fuzz_rc=$?
  cat "$FUZZ_LOG" >&2
  [ "$fuzz_rc" -eq 0 ] || { log "FAIL: fuzzing (log $FUZZ_LOG)"; exit 1; }
  log "fuzz: $(( $(now_ms) - F0 )) ms"
fi
log "total: $(( $(now_ms) - T0 )) ms"
