#!/usr/bin/env bash
# Interop of the consumer against a real broker (Tools/test.sh step 5b): the release kgo
# reads what librdkafka wrote and must decode exactly the values it sent.
#   1. rdprod writes 1,000,000 x 100 B records to a fresh topic; `kgo consume` reads them
#      all and every offset and value is checked (rdprod's value for record i starts with
#      the digits of i and a NUL, then a fixed pattern).
#   2. confluent-kafka (librdkafka 2.16) writes records with keys, headers and timestamps
#      under each codec (none, gzip, snappy, lz4, zstd); kgo must print the same.
# Usage: Tools/interop-consume.sh HOST:PORT   (needs .build/release/kgo and .peers)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BROKER=${1:?usage: interop-consume.sh HOST:PORT}
KGO=${KGO_BIN:-$ROOT/.build/release/kgo}
PY=$ROOT/.peers/venv/bin/python
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log() { echo "interop-consume: $*" >&2; }
[ -x "$KGO" ] || { log "FAIL: no $KGO (swift build -c release --product kgo)"; exit 1; }
[ -x "$ROOT/.peers/bin/rdprod" ] && [ -x "$PY" ] || { log "FAIL: .peers missing (Tools/install-test-deps.sh)"; exit 1; }
RUN=$(date +%s%N)
COUNT=${KGO_INTEROP_RECORDS:-1000000}

# 1. a million records from rdprod.
TOPIC=interop-rdprod-$RUN
"$ROOT/.peers/bin/rdprod" "$BROKER" "$TOPIC" "$COUNT" 100 linger.ms=5 >&2
T0=$(date +%s%N)
"$KGO" consume -b "$BROKER" -t "$TOPIC" -p 0 -o beginning -c "$COUNT" -e -f '%o %v\n' | "$PY" -c '
import sys
count = int(sys.argv[1])
pattern = bytes(ord("a") + (i * 7 + i // 13) % 26 for i in range(100))
n = 0
for line in sys.stdin.buffer:
    off, _, value = line.rstrip(b"\n").partition(b" ")
    digits = str(n).encode()
    want = digits + b"\0" + pattern[len(digits) + 1:]
    if int(off) != n or value != want:
        sys.exit(f"record {n}: offset {off.decode()} value {value[:20]!r}..., want offset {n} value {want[:20]!r}...")
    n += 1
if n != count:
    sys.exit(f"read {n} records, want {count}")
print(f"interop-consume: {n} rdprod records read back exactly", file=sys.stderr)
' "$COUNT"
log "rdprod topic read in $(( ($(date +%s%N) - T0) / 1000000 )) ms"

# 2. every codec, with keys, headers and timestamps, from confluent-kafka.
for CODEC in none gzip snappy lz4 zstd; do
  TOPIC=interop-$CODEC-$RUN
  N=3000
  "$PY" - "$BROKER" "$TOPIC" "$CODEC" "$N" <<'PYEOF'
import sys
from confluent_kafka import Producer
broker, topic, codec, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
p = Producer({"bootstrap.servers": broker, "compression.type": codec, "linger.ms": 20, "batch.num.messages": 500})
errors = []
for i in range(n):
    headers = [("h1", f"v{i}".encode()), ("codec", codec.encode())] if i % 3 else []
    p.produce(topic, partition=0, key=f"k{i}".encode(), value=(f"value-{codec}-{i}-" + "x" * (i % 200)).encode(),
              headers=headers, timestamp=1_700_000_000_000 + i, on_delivery=lambda e, m: e and errors.append(e))
    if i % 500 == 0:
        p.poll(0)
p.flush(60)
if errors:
    sys.exit(f"produce failed: {errors[:3]}")
PYEOF
  "$KGO" consume -b "$BROKER" -t "$TOPIC" -p 0 -o beginning -c "$N" -e -f '%o|%k|%v|%T|%h\n' | "$PY" -c '
import sys
codec, n = sys.argv[1], int(sys.argv[2])
got = sys.stdin.buffer.read().decode().splitlines()
want = []
for i in range(n):
    h = f"h1=v{i},codec={codec}" if i % 3 else ""
    want.append(f"{i}|k{i}|value-{codec}-{i}-" + "x" * (i % 200) + f"|{1_700_000_000_000 + i}|{h}")
if got != want:
    first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    sys.exit(f"{codec}: {len(got)} lines, want {n}; first difference at {first}: {got[first:first+1]} vs {want[first:first+1]}")
print(f"interop-consume: {codec}: {n} records with keys, headers and timestamps decoded exactly", file=sys.stderr)
' "$CODEC" "$N"
done
log "ok"
