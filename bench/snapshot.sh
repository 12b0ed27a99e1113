#!/usr/bin/env bash
# A snapshot of one table of small rows against psql's own COPY of it, at two
# table sizes, in the same run on this machine.
#
#   bash bench/snapshot.sh [ROWS]          # default 1000000: ROWS and 4×ROWS
#   PGCDC_BIN=/path/to/pgcdc bash bench/snapshot.sh ...   # another build
#   PGCDC_BIN_B=/path/to/other/pgcdc bash bench/snapshot.sh ...
#                                          # A/B: both builds, alternating
#   ROUNDS=2 bash bench/snapshot.sh ...    # every measurement this often
#
# One PostgreSQL 15 (server defaults) and one `pgcdc dev-broker`. For each
# size a table of the hot path bench's 6-column row (int8 key, int4, numeric,
# text, bool, varchar) is filled, VACUUM FREEZE ANALYZEd (so that no reader
# pays for setting hint bits and the catalog's estimate is exact), and read
# once to warm the cache. Then, alternating per round:
#   - `psql -c "COPY t TO STDOUT" > /dev/null`: wall time, the floor;
#   - `pgcdc run` with snapshot.mode initial_only (temporary slot, snapshot
#     by sequential scan, wait for every acknowledgement, exit 0), then with
#     initial (the default: a new slot's journaled snapshot, read in primary
#     key order so that it can resume; until the slot streams, i.e. every
#     record acknowledged): wall time, CPU seconds and peak RSS (ru_maxrss,
#     the kernel's own accounting, via GNU time).
# It checks that the broker really holds one record per row (the sum of the
# topic's high watermarks, via kcat) and that pgcdc's log says it read them,
# and prints rows/s, pgcdc ÷ psql COPY and the dev broker's CPU. The markdown
# table, with the machine's description, goes to
# bench/results/snapshot-<date>.md, which git ignores; then the run's rows
# for bench/history.md are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=${1:-1000000}
ROUNDS=${ROUNDS:-1}

source scripts/lib/throwaway.sh
source scripts/lib/measure.sh
pgcdc_binary
BINS=("$PGCDC")
[[ -n ${PGCDC_BIN_B:-} ]] && BINS+=("$PGCDC_BIN_B")

workdir_start pgcdc-bench
broker_start "$PGCDC" "$WORK"
PIDS+=("$BROKER_PID")
PORT=$(free_port)
pg_start "$WORK" "$PORT"
PSQL=(psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tA)

# Records in a topic: the sum of its partitions' high watermarks. The dev
# broker drops old records past ~5 MB a partition but keeps the offsets.
topic_records() {
  local parts p sum=0 off
  parts=$(kcat -b "$BOOTSTRAP" -L -t "$1" -J 2>/dev/null |
    grep -o '"partition":[0-9]*' | cut -d: -f2)
  for p in $parts; do
    off=$(kcat -b "$BOOTSTRAP" -Q -t "$1:$p:-1" 2>/dev/null | awk '{ print $NF }')
    sum=$((sum + off))
  done
  echo "$sum"
}

RESULTS=()
RUN=0
for rows in "$ROWS" $((4 * ROWS)); do
  table=t_$rows
  "${PSQL[@]}" -c "CREATE TABLE $table (id int8 PRIMARY KEY, customer_id int4,
                     total numeric(12,2), status text, paid bool, note varchar(68));
                   INSERT INTO $table SELECT g, g % 100000, (g % 100000) / 7.0,
                     'shipped', g % 2 = 0, 'leave at the door ' || g
                   FROM generate_series(1, $rows) g" \
    -c "VACUUM (FREEZE, ANALYZE) $table"
  size=$("${PSQL[@]}" -c "SELECT pg_size_pretty(pg_table_size('$table'))")
  "${PSQL[@]}" -c "COPY $table TO STDOUT" >/dev/null  # warm the cache
  for round in $(seq "$ROUNDS"); do
    t0=$(now)
    "${PSQL[@]}" -c "COPY $table TO STDOUT" >/dev/null
    t1=$(now)
    copy_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    for b in "${!BINS[@]}"; do
     for smode in initial_only initial; do
      bin=${BINS[$b]}
      label=$([[ ${#BINS[@]} -gt 1 ]] && echo "$([[ $b == 0 ]] && echo A || echo B) " || true)
      RUN=$((RUN + 1))
      prefix=bench$RUN
      cat >"$WORK/pgcdc.yaml" <<YAML
source:
  dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
  slot: bench$RUN
  publication: bench$RUN
  tables: [public.$table]
kafka:
  bootstrap_servers: "$BOOTSTRAP"
  topic_prefix: $prefix
snapshot:
  mode: $smode
YAML
      broker_cpu0=$(cpu_secs "$BROKER_PID")
      t0=$(now)
      if [[ $smode == initial_only ]]; then
        /usr/bin/time -f '%U %S %M' -o "$WORK/time" \
          "$bin" run --config "$WORK/pgcdc.yaml" >"$WORK/pgcdc-$RUN.log" 2>&1 ||
          { echo "pgcdc run failed:"; cat "$WORK/pgcdc-$RUN.log"; exit 1; }
        t1=$(now)
      else
        # initial: the new slot's journaled snapshot, read in key order; done
        # when every record is acknowledged, which is when the slot streams.
        /usr/bin/time -f '%U %S %M' -o "$WORK/time" \
          "$bin" run --config "$WORK/pgcdc.yaml" >"$WORK/pgcdc-$RUN.log" 2>&1 &
        tpid=$!
        until [[ $("${PSQL[@]}" -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'bench$RUN' AND active") == 1 ]]; do
          kill -0 "$tpid" 2>/dev/null || { echo "pgcdc run failed:"; cat "$WORK/pgcdc-$RUN.log"; exit 1; }
          sleep 0.02
        done
        t1=$(now)
        pkill -TERM -P "$tpid"
        wait "$tpid"
        "${PSQL[@]}" -c "SELECT pg_drop_replication_slot('bench$RUN')" >/dev/null
      fi
      broker_cpu=$(awk -v a="$broker_cpu0" -v b="$(cpu_secs "$BROKER_PID")" 'BEGIN { printf "%.1f", b - a }')
      read -r user sys maxrss_kb < <(tail -1 "$WORK/time")
      wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
      # The real thing: every row read, and a record for each at the broker.
      read_rows=$(grep -o 'snapshot done: [0-9]*' "$WORK/pgcdc-$RUN.log" | awk '{ print $3 }')
      records=$(topic_records "$prefix.public.$table")
      if [[ $read_rows != "$rows" || $records != "$rows" ]]; then
        echo "expected $rows rows: pgcdc read ${read_rows:-?}, the broker holds $records records" >&2
        exit 1
      fi
      snap_s=$(grep -o 'snapshot done: .* in .*' "$WORK/pgcdc-$RUN.log" | sed 's/.* in //')
      RESULTS+=("| $label$rows | $smode | $size | $copy_s | $wall | $snap_s | $(awk -v n="$rows" -v w="$wall" 'BEGIN { printf "%d", n / w }') | $(awk -v w="$wall" -v c="$copy_s" 'BEGIN { printf "%.2f", w / c }') | $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }') | $broker_cpu | $((maxrss_kb / 1024)) |")
      echo "${RESULTS[-1]}"
     done
    done
  done
  "${PSQL[@]}" -c "DROP TABLE $table"
done

mkdir -p bench/results
OUT=${PGCDC_BENCH_OUT:-bench/results/snapshot-$(date -u +%Y-%m-%d).md}
{
  echo "# Snapshot of one table of small rows (snapshot.mode initial_only and initial) vs psql COPY"
  echo
  machine_line "$PGCDC"
  [[ ${#BINS[@]} -gt 1 ]] && echo && echo "A: $PGCDC; B: $PGCDC_BIN_B (alternating)."
  echo
  echo "| rows | snapshot.mode | table size | psql COPY (s) | pgcdc run (s) | of which snapshot | rows/s | pgcdc ÷ COPY | pgcdc CPU (s) | dev broker CPU (s) | pgcdc peak RSS (MiB) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${RESULTS[@]}"
  echo
  echo "pgcdc run: process start to exit (initial_only: connect, temporary slot, snapshot, every record acknowledged) or to the slot streaming (initial: the same, plus the journal and the slot copy); \"of which snapshot\": pgcdc's own \"snapshot done\" figure. Each row's records were counted at the broker (sum of high watermarks)."
} | tee "$OUT"
echo "written to $OUT"
echo
echo "Append to the snapshot table of bench/history.md:"
# From each row above: rows (with A/B), mode, rows/s, pgcdc ÷ COPY, peak RSS.
printf '%s\n' "${RESULTS[@]}" |
  awk -F' [|] ' -v head="| $(date -u '+%Y-%m-%d %H:%M') | $(bench_commit) |" \
    -v note="${PGCDC_BIN:+PGCDC_BIN=$PGCDC_BIN }${PGCDC_BIN_B:+PGCDC_BIN_B=$PGCDC_BIN_B}" '
    { sub(/^[|] /, "", $1); printf "%s %s | %s | %s | %s | %s | %s |\n", head, $1, $2, $7, $8, $11 + 0, note }'
