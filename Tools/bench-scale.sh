#!/usr/bin/env bash
# Scale benchmark (not in CI): `kgo fake-cluster` with 3 brokers over TCP, then for 1, 100
# and 1,000 partitions `kgo bench produce` of COUNT x 100 B keyed records (idempotent,
# acks=all) and `kgo bench consume --all` of all of them. Prints records/s, client
# CPU-seconds (user+sys) and peak RSS per step, so a per-partition cost shows as CPU
# growing with the partition count.
# Usage: Tools/bench-scale.sh   env: KGO_BENCH_RECORDS (1000000), KGO_SCALE_PARTITIONS ("1 100 1000"), KGO_SCALE_PORT (29392)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KGO=${KGO_BIN:-$ROOT/.build/release/kgo}
COUNT=${KGO_BENCH_RECORDS:-1000000}
PORT=${KGO_SCALE_PORT:-29392}
[ -x "$KGO" ] || swift build -c release --product kgo
"$KGO" fake-cluster --brokers 3 --port "$PORT" > /dev/null 2>&1 &
FAKE=$!
trap 'kill $FAKE 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
B=127.0.0.1:$PORT,127.0.0.1:$((PORT + 1)),127.0.0.1:$((PORT + 2))
row() {   # LABEL COMMAND...: one line with the RESULT's rate, CPU-seconds and peak RSS
  local label=$1; shift
  local out
  out=$( { /usr/bin/time -f 'TIME %U %S %M' "$@" ; } 2>&1 ) || { echo "$out" >&2; return 1; }
  echo "$out" | awk -v label="$label" '
    /^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^rec_per_s=/) { split($i, a, "="); rps = a[2] } }
    /^TIME/ { cpu = $2 + $3; rss = $4 / 1024 }
    END { printf "%-26s rec/s %10s  CPU-s %5.2f  peak %6.1f MB\n", label, rps, cpu, rss }'
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $COUNT x 100 B; FakeCluster, 3 brokers over TCP"
for P in ${KGO_SCALE_PARTITIONS:-1 100 1000}; do
  T=scale-$P-$(date +%s%N)
  row "produce $P partitions" "$KGO" bench produce -b "$B" -t "$T" --records "$COUNT" --size 100 --partitions "$P"
  row "consume $P partitions" "$KGO" bench consume -b "$B" -t "$T" --records "$COUNT" --all
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
