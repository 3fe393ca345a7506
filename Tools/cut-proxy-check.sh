#!/usr/bin/env bash
# Manual check of issue 22 on real sockets: `kgo produce` (idempotent, one partition) of
# RECORDS ~15-byte records to Tansu through Tools/cut-proxy.py, which resets each
# connection after MIN..MAX bytes (both directions counted). Prints the wall time and the
# proxy's connection count; with RDPROD set (librdkafka's rdprod from
# /work/shared/peers/install-peers.sh) the same through a fresh broker and proxy.
#
# usage: Tools/cut-proxy-check.sh [RECORDS] [MIN] [MAX] [TIMEOUT_S]
#        (200000, 30000, 1500000, 180); ports BROKER_PORT (19492) and BROKER_PORT+1
# env:   TANSU_BIN (the broker), KGO (default .build/release/kgo), RDPROD, SEED (1)
set -uo pipefail
RECORDS=${1:-200000}
MIN=${2:-30000}
MAX=${3:-1500000}
LIMIT=${4:-180}
PORT=${BROKER_PORT:-19492}
PROXY=$((PORT + 1))
KGO=${KGO:-.build/release/kgo}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
START=/work/shared/broker/start-tansu.sh

run() {  # run NAME COMMAND...: fresh broker advertising the proxy, fresh proxy, timed
  local name=$1; shift
  local broker proxy t0 t1 rc
  broker=$(TANSU_ADVERTISED=tcp://127.0.0.1:$PROXY TANSU_LOG=/tmp/cut-proxy-tansu-$name.log "$START" "$PORT") || exit 1
  python3 "$HERE/cut-proxy.py" "$PROXY" "$PORT" "$MIN" "$MAX" "${SEED:-1}" 2>/tmp/cut-proxy-$name.log &
  proxy=$!
  sleep 0.3
  t0=$(date +%s.%N)
  seq -f "record-%08.0f" "$RECORDS" | timeout "$LIMIT" "$@"
  rc=$?
  t1=$(date +%s.%N)
  kill "$proxy"; wait "$proxy" 2>/dev/null
  kill "$broker"
  while kill -0 "$broker" 2>/dev/null; do sleep 0.1; done  # the next run reuses the port
  echo "$name: exit $rc after $(echo "$t1 - $t0" | bc) s; $(tail -1 /tmp/cut-proxy-$name.log)"
}

run kgo "$KGO" produce -b "127.0.0.1:$PROXY" -t cuts -p 0 --create-partitions 1
if [ -n "${RDPROD:-}" ]; then
  run rdprod "$RDPROD" "127.0.0.1:$PROXY" cuts "$RECORDS" 15 enable.idempotence=true
fi
