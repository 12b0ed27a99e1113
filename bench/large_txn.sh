#!/usr/bin/env bash
# One large transaction, published with and without pgoutput streaming, in
# the same run on this machine.
#
#   bash bench/large_txn.sh [ROWS]        # default 5000000
#   PGCDC_BIN=/path/to/pgcdc bash bench/large_txn.sh ...   # another build,
#                                         for A/B comparisons in one session
#
# For each mode it starts a fresh PostgreSQL 15 (server defaults, so
# logical_decoding_work_mem is 64MB) and uses one `pgcdc dev-broker`, runs
# `pgcdc run` on table items (id int primary key, note text, qty int), then
# one INSERT ... SELECT generate_series(1, ROWS) in one transaction, and
# measures: the INSERT's own time; the time from its commit until the slot
# confirmed it (every event acknowledged by the broker); pgcdc's peak
# resident memory (VmHWM) and CPU seconds; and what the server spilled or
# streamed (pg_stat_replication_slots). Prints a markdown table and writes it
# with the machine's description to bench/results/large_txn-<date>.md, which
# git ignores; then prints the run's row for bench/history.md.
#
# Without streaming the server decodes the whole transaction into its own
# spill files and sends it only after the commit; with streaming it sends it
# in chunks while it runs, pgcdc keeps them (spilling to its own files) and
# publishes them at the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${1:-5000000}

source scripts/lib/throwaway.sh
source scripts/lib/measure.sh
pgcdc_binary

workdir_start pgcdc-bench

broker_start "$PGCDC" "$WORK"
PIDS+=("$BROKER_PID")

RESULTS=()
for mode in off on; do
  pg_stop "$WORK"
  rm -rf "$WORK/pg"
  PORT=$(free_port)
  pg_start "$WORK" "$PORT"
  PSQL=(psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tA)
  "${PSQL[@]}" -c "CREATE TABLE items (id int PRIMARY KEY, note text, qty int);
                   CREATE TABLE flush (x int)"
  streaming=$([[ $mode == on ]] && echo true || echo false)
  cat >"$WORK/pgcdc.yaml" <<YAML
source:
  dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
  slot: bench
  publication: bench
  tables: [public.items]
  streaming: $streaming
  spill_directory: $WORK
kafka:
  bootstrap_servers: "$BOOTSTRAP"
  topic_prefix: bench_$mode
YAML
  "$PGCDC" run --config "$WORK/pgcdc.yaml" >"$WORK/pgcdc-$mode.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 200); do
    [[ $("${PSQL[@]}" -c "SELECT count(*) FROM pg_replication_slots WHERE active") == 1 ]] && break
    sleep 0.1
  done

  broker_cpu0=$(cpu_secs "$BROKER_PID")
  t0=$(now)
  "${PSQL[@]}" -c "INSERT INTO items SELECT g, 'row ' || g, g FROM generate_series(1, $ROWS) g"
  t1=$(now)
  # A committed write flushes the WAL; the slot must confirm past it.
  "${PSQL[@]}" -c "INSERT INTO flush VALUES (1)"
  target=$("${PSQL[@]}" -c "SELECT pg_current_wal_lsn()")
  until [[ $("${PSQL[@]}" -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'bench'") == t ]]; do
    sleep 0.2
  done
  t2=$(now)
  rss=$(peak_rss_mib "$pid")
  cpu=$(cpu_secs "$pid")
  broker_cpu=$(awk -v a="$broker_cpu0" -v b="$(cpu_secs "$BROKER_PID")" 'BEGIN { printf "%.1f", b - a }')
  stats=$("${PSQL[@]}" -F' ' -c "SELECT pg_size_pretty(spill_bytes), pg_size_pretty(stream_bytes) FROM pg_stat_replication_slots WHERE slot_name = 'bench'")
  kill -TERM "$pid"
  wait "$pid" || true
  read -r spill_value spill_unit stream_value stream_unit <<<"$stats"
  total=$(secs "$t0" "$t2")
  rate=$(awk -v n="$ROWS" -v a="$t0" -v b="$t2" 'BEGIN { printf "%d", n / (b - a) }')
  RESULTS+=("| $mode | $(secs "$t0" "$t1") | $(secs "$t1" "$t2") | $total | $rate | $cpu | $broker_cpu | $rss | $spill_value $spill_unit | $stream_value $stream_unit |")
  eval "TOTAL_$mode=$total RSS_$mode=$rss"
done

mkdir -p bench/results
OUT=${PGCDC_BENCH_OUT:-bench/results/large_txn-$(date -u +%Y-%m-%d).md}
{
  echo "# One $ROWS-row transaction, streaming off vs on"
  echo
  machine_line "$PGCDC"
  echo
  echo "| streaming | INSERT (s) | commit → confirmed (s) | total (s) | events/s overall | pgcdc CPU (s) | dev broker CPU (s) | pgcdc peak RSS (MiB) | server spilled | server streamed |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${RESULTS[@]}"
  echo
  echo "total with streaming ÷ total without: $(awk -v a="$TOTAL_on" -v b="$TOTAL_off" 'BEGIN { printf "%.2f", a / b }')"
} | tee "$OUT"
echo "written to $OUT"
echo
echo "Append to the large-transaction table of bench/history.md:"
echo "| $(date -u '+%Y-%m-%d %H:%M') | $(bench_commit) | $ROWS | $TOTAL_off s, $RSS_off MiB | $TOTAL_on s, $RSS_on MiB | $(awk -v a="$TOTAL_on" -v b="$TOTAL_off" 'BEGIN { printf "%.2f", a / b }') | ${PGCDC_BIN:+PGCDC_BIN=$PGCDC_BIN} |"
