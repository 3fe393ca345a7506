#!/usr/bin/env bash
# Interop proof for the producer (issue 5): for each codec, the release kgo produces N
# records (default 1,000,000 x 100 B, acks=all, idempotent) to partition 0 of a fresh topic
# on the Tansu at $KGO_TEST_BROKER, and librdkafka reads them back: rdcons must count all
# N, and kcat must print offsets 0..N-1 with record i's value starting with the digits of i
# (complete and in produce order). kcat is the apt one run on .peers/lib (librdkafka 2.16).
# Any mismatch fails. Called by Tools/test.sh after step 5.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
: "${KGO_TEST_BROKER:?set KGO_TEST_BROKER=HOST:PORT (Tools/test.sh starts Tansu)}"
N=${KGO_INTEROP_RECORDS:-1000000}
KGO=${KGO_BIN:-.build/release/kgo}
KCAT=$(command -v kcat || true)
for tool in "$KGO" "$KCAT" .peers/bin/rdcons; do
  [ -x "$tool" ] || { echo "interop-produce: missing $tool (Tools/install-test-deps.sh, swift build -c release)" >&2; exit 1; }
done
export LD_LIBRARY_PATH="$ROOT/.peers/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
RUN=$(date +%s)
for codec in none gzip snappy lz4 zstd; do
  topic="kgo-interop-$codec-$RUN"
  t0=$(date +%s%N)
  out=$("$KGO" bench produce -b "$KGO_TEST_BROKER" -t "$topic" --records "$N" --size 100 -z "$codec")
  echo "$out"
  echo "$out" | grep -q "delivered=$N failed=0" || { echo "interop-produce: $codec: kgo did not deliver $N records" >&2; exit 1; }
  t1=$(date +%s%N)
  got=$(timeout 120 .peers/bin/rdcons "$KGO_TEST_BROKER" "$topic" "$N" fetch.queue.backoff.ms=10 | sed -n 's/.* count=\([0-9]*\).*/\1/p')
  [ "$got" = "$N" ] || { echo "interop-produce: $codec: rdcons read ${got:-nothing}, want $N" >&2; exit 1; }
  # Order and completeness: line n is offset n and its value starts with n.
  bad=$(timeout 120 "$KCAT" -C -b "$KGO_TEST_BROKER" -t "$topic" -p 0 -o beginning -e -q -f '%o %s\n' |
        awk -v n="$N" '{ match($2, /^[0-9]+/); v = substr($2, 1, RLENGTH) + 0
                         if ($1 != NR - 1 || v != NR - 1) { print "line " NR ": offset " $1 " value " substr($2, 1, 12); exit }
                       } END { if (NR != n) print "read " NR " records, want " n }')
  [ -z "$bad" ] || { echo "interop-produce: $codec: $bad" >&2; exit 1; }
  t2=$(date +%s%N)
  echo "interop-produce: $codec: $N records produced by kgo, read back complete and in order by librdkafka (produce $(( (t1 - t0) / 1000000 )) ms, read $(( (t2 - t1) / 1000000 )) ms)"
done
