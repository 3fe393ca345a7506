#!/usr/bin/env bash
# Re-record the peer-capture fixtures: real wire bytes between librdkafka 2.16 (and kafka-python)
# and the Tansu broker, through the recording proxy Tools/capture/kafka_capture_proxy.py.
#
# usage: Tools/capture/record-peer-fixtures.sh [OUT_DIR]
#   OUT_DIR  default Tests/KafkaProtocolTests/Fixtures/peer-captures (its *.jsonl and
#            expected-records.json are replaced; README.md is left alone)
# env: SHARED_DIR (default <repo>/../shared), CAPTURE_BROKER_PORT (default 19192),
#      CAPTURE_PROXY_PORT (default 19193), SKIP_INSTALL=1 to not run Tools/install-test-deps.sh,
#      KAFKA_PYTHON=0 to record librdkafka only.
# For each client (librdkafka, then kafka-python): a fresh Tansu advertising the proxy's port,
# the proxy in front of it, Tools/capture/peer_driver.py doing the scenarios; then
# Tools/capture/check_captures.py checks the result. Any failure exits non-zero and leaves
# OUT_DIR untouched.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
cd "$ROOT"
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
OUT=${1:-$ROOT/Tests/KafkaProtocolTests/Fixtures/peer-captures}
BPORT=${CAPTURE_BROKER_PORT:-19192}
PPORT=${CAPTURE_PROXY_PORT:-19193}
log() { echo "record-peer-fixtures: $*" >&2; }

[ "${SKIP_INSTALL:-0}" = 1 ] || SHARED_DIR=$SHARED_DIR "$ROOT/Tools/install-test-deps.sh"
TANSU_BIN=$ROOT/.tansu/bin/tansu
PEERS_PY=$ROOT/.peers/venv/bin/python
[ -x "$TANSU_BIN" ] || { log "no $TANSU_BIN (run Tools/install-test-deps.sh)"; exit 1; }
[ -x "$PEERS_PY" ] || { log "no $PEERS_PY (run Tools/install-test-deps.sh)"; exit 1; }

WORK=$(mktemp -d /tmp/peer-capture.XXXXXX)
TANSU_PID= PROXY_PID=
stop_all() {
  if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; fi
  if [ -n "$TANSU_PID" ]; then
    kill "$TANSU_PID" 2>/dev/null || true
    for _ in $(seq 100); do   # the next run_client needs the port free again
      (exec 3<>"/dev/tcp/127.0.0.1/$BPORT") 2>/dev/null || break; sleep 0.05
    done
  fi
  PROXY_PID= TANSU_PID=
}
trap 'stop_all; rm -rf "$WORK"' EXIT

run_client() {   # run_client MODE LABEL
  local mode=$1 label=$2
  log "=== $mode: fresh Tansu on $BPORT advertising the proxy on $PPORT"
  TANSU_PID=$(TANSU_BIN=$TANSU_BIN TANSU_ADVERTISED=tcp://127.0.0.1:$PPORT TANSU_LOG=$WORK/tansu-$mode.log \
              "$SHARED_DIR/broker/start-tansu.sh" "$BPORT")
  rm -f "$WORK/ready"
  python3 "$ROOT/Tools/capture/kafka_capture_proxy.py" --listen "127.0.0.1:$PPORT" \
      --upstream "127.0.0.1:$BPORT" --out-dir "$WORK/out" --client "$label" --ready-file "$WORK/ready" &
  PROXY_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/ready" ] && break; kill -0 "$PROXY_PID" || { log "proxy died"; exit 1; }; sleep 0.05; done
  [ -s "$WORK/ready" ] || { log "proxy not listening after 5 s"; exit 1; }
  timeout 300 "$PEERS_PY" "$ROOT/Tools/capture/peer_driver.py" "$mode" \
      --bootstrap "127.0.0.1:$PPORT" --expected "$WORK/expected-records.json"
  stop_all
}

START=$(date +%s)
LIBRD=$("$PEERS_PY" -c 'import confluent_kafka as c; v = c.libversion()[0]; print("librdkafka-" + ".".join(v.split(".")[:2]))')
run_client librdkafka "$LIBRD"
if [ "${KAFKA_PYTHON:-1}" = 1 ]; then
  KP=$("$PEERS_PY" -c 'import kafka; print("kafka-python-" + kafka.__version__)')
  run_client kafka-python "$KP"
fi

python3 "$ROOT/Tools/capture/check_captures.py" "$WORK/out" >&2
mkdir -p "$OUT"
rm -f "$OUT"/*.jsonl
cp "$WORK"/out/*.jsonl "$WORK/expected-records.json" "$OUT/"
log "wrote $(ls "$OUT"/*.jsonl | wc -l) capture files ($(du -ch "$OUT"/*.jsonl | tail -n1 | cut -f1)) and expected-records.json to $OUT in $(( $(date +%s) - START ))s"
