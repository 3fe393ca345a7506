# Sourced by Tools/bench-produce.sh and Tools/bench-consume.sh for --plot: one measured point
# as one CSV row, and the record count that gives every point the same byte budget (so a
# 10 B point and a 100 KB point take comparable time instead of 10,000x apart).
# env: BENCH_PLOT_BYTES (default 100000000), BENCH_PLOT_MAX_RECORDS (default 1000000)

PLOT_HEADER="bench,axis,x,client,rec_per_s,cpu_s,peak_mb,records,secs"

# plot_records SIZE: min(max records, byte budget / SIZE), at least 100.
plot_records() {
  awk -v s="$1" -v b="${BENCH_PLOT_BYTES:-100000000}" -v m="${BENCH_PLOT_MAX_RECORDS:-1000000}" \
    'BEGIN { n = int(b / s); if (n > m) n = m; if (n < 100) n = 100; print n }'
}

# plot_point CSV BENCH AXIS X CLIENT RECORDS COMMAND...: runs COMMAND under /usr/bin/time and
# appends "BENCH,AXIS,X,CLIENT,rec_per_s,cpu_s,peak_mb,RECORDS,secs" to CSV. rec_per_s comes
# from the client's RESULT line; a run without one (a failure) is reported and leaves no row.
plot_point() {
  local csv=$1 bench=$2 axis=$3 x=$4 client=$5 records=$6; shift 6
  local tf out; tf=$(mktemp)
  out=$(/usr/bin/time -f '%U %S %M %e' -o "$tf" "$@" 2>/dev/null | grep '^RESULT' | tail -1 || true)
  local rps; rps=$(echo "$out" | tr ' ' '\n' | sed -n 's/^rec_per_s=//p')
  if [ -z "$rps" ]; then
    echo "  $bench $axis=$x $client: no RESULT line (failed), skipped" >&2; rm -f "$tf"; return 0
  fi
  local row; row=$(awk -v p="$bench,$axis,$x,$client,$rps" -v n="$records" \
    '{ printf "%s,%.2f,%.1f,%s,%.2f\n", p, $1 + $2, $3 / 1024, n, $4 }' "$tf")
  rm -f "$tf"
  echo "$row" >> "$csv"
  echo "  $row" >&2
}
