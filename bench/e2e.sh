#!/usr/bin/env bash
# End to end: pgcdc against PostgreSQL's own client, pg_recvlogical, on the
# same WAL, in the same run on this machine (issue 6).
#
#   bash bench/e2e.sh            # full: W1 1,000,000 rows, W2 200,000
#                                # transactions, W3 50,000, W4 2 × 60 s
#   bash bench/e2e.sh --quick    # smaller volumes, W4 2 × 15 s: < 3 minutes
#   PGCDC_BIN=/path/to/pgcdc bash bench/e2e.sh ...   # another build
#   ROUNDS=N bash bench/e2e.sh ...   # each catch-up measured N times
#                                # (default 2 full, 1 quick), alternating
#   WORKLOADS="w4" bash bench/e2e.sh ...   # only these (default w1 w2 w3 w4)
#   KAFKA_PROPERTIES='{linger.ms: "1"}' bash bench/e2e.sh ...   # pgcdc's
#                                # kafka.properties, for trying settings
#   PERF=1 bash bench/e2e.sh ...   # also sample each catch-up of pgcdc with
#                                # `perf record` (all its threads) and keep
#                                # the top of `perf report` per workload in
#                                # bench/results/e2e-perf-<date>-<slot>.txt
#
# One PostgreSQL 15 (server defaults but autovacuum off, so that no vacuum
# of the tables just written lands in one consumer's measurement) and one
# `pgcdc dev-broker`. Workloads:
#   W1  one transaction inserting N small rows (int8 key, int4, short text);
#   W2  N single-row INSERT transactions (pgbench, 4 clients);
#   W3  N transactions of INSERT + UPDATE + DELETE on ~1 KB rows, a fifth of
#       them with a ~4 KB incompressible text that goes to TOAST, on a table
#       filled beforehand (UPDATEs leave it alone: unchanged_toast);
#   W4  10-row INSERT transactions at 5,000 and then 20,000 rows/s
#       (pgbench --rate) for D seconds each, while pgcdc streams: latency.
#
# W1–W3 are measured as catch-up on identical data: before the workload
# writes, every consumer's slot is created (ROUNDS pairs: pg_recvlogical's
# and pgcdc's), so each has to decode the same WAL. Then, one consumer at a
# time, alternating which goes first, from process start until its slot's
# confirmed_flush_lsn reaches the WAL end written after the workload:
#   - pg_recvlogical (plugin pgoutput with the options pgcdc negotiates
#     against this server: proto_version 3, publication_names, streaming
#     on; see cdc/pg/pgoutput_options.cc), output to /dev/null, --endpos at
#     the WAL end, so it confirms and exits there;
#   - `pgcdc run` (snapshot.mode never), publishing to the dev broker: its
#     slot moves only once the broker acknowledged, so this is the time to
#     the last acknowledgement (and its confirmations are spaced 200 ms).
# Both are polled the same way (psql every 0.1 s). Events are pgcdc's
# pgcdc_events_total, checked against the workload where it is exact.
# W4 runs pgcdc live on its own slot and reads pgcdc_commit_to_ack_seconds
# (1 ms buckets at the low end) and pgcdc_commit_to_ack_max_seconds from
# its metrics endpoint: p50/p99 interpolated within the bucket, as
# Prometheus' histogram_quantile does. pg_recvlogical then catches up on the
# same WAL for reference (pgcdc's rate there is the offered rate).
#
# Per workload: events/s of both and pgcdc ÷ pg_recvlogical, pgcdc's CPU
# seconds per million events (/proc/PID/stat), its peak RSS (VmHWM) and
# pg_recvlogical's (GNU time). Markdown and CSV with the machine's
# description: bench/results/e2e[-quick]-<date>.{md,csv}.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[[ ${1:-} == --quick ]] && QUICK=1
if ((QUICK)); then
  W1_ROWS=200000 W2_TXNS=100000 W3_TXNS=20000 W3_FILL=20000 W4_SECS=15
  ROUNDS=${ROUNDS:-1}
else
  W1_ROWS=1000000 W2_TXNS=200000 W3_TXNS=50000 W3_FILL=100000 W4_SECS=60
  ROUNDS=${ROUNDS:-2}
fi
W4_RATES=(5000 20000)
WORKLOADS=" ${WORKLOADS:-w1 w2 w3 w4} "
W4_ROWS_PER_TXN=10

# From a fresh Debian 12 machine: what is missing is installed first (the
# same script as the README's, CI's and the Dockerfile's).
bash scripts/install-deps.sh >/dev/null
source scripts/lib/throwaway.sh
source scripts/lib/measure.sh
pgcdc_binary
RECVLOGICAL=$PG_BIN/pg_recvlogical
PGBENCH=$PG_BIN/pgbench

# The machine is shared: what else ran is part of the result.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
workdir_start pgcdc-e2e
broker_start "$PGCDC" "$WORK"
PIDS+=("$BROKER_PID")
PORT=$(free_port)
pg_start "$WORK" "$PORT" -c autovacuum=off -c max_replication_slots=20 \
  -c max_wal_senders=20
PSQL=(psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tA)
METRICS_PORT=$(free_port)

"${PSQL[@]}" <<'SQL'
CREATE TABLE w1 (id int8 PRIMARY KEY, qty int4, note text);
CREATE TABLE w2 (id bigserial PRIMARY KEY, qty int4, note text);
CREATE TABLE w3 (id bigserial PRIMARY KEY, k int4, body text, doc text);
CREATE TABLE w4 (id bigserial PRIMARY KEY, qty int4, note text);
CREATE TABLE flush (x int);
CREATE PUBLICATION bench FOR TABLE w1, w2, w3, w4;
SQL

cat >"$WORK/pgcdc.yaml.in" <<YAML
source:
  dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
  slot: @SLOT@
  publication: bench
  tables: [public.w1, public.w2, public.w3, public.w4]
  spill_directory: $WORK
kafka:
  bootstrap_servers: "$BOOTSTRAP"
  topic_prefix: @SLOT@
  properties: ${KAFKA_PROPERTIES:-{\}}
metrics:
  listen: "127.0.0.1:$METRICS_PORT"
snapshot:
  mode: never
YAML

cat >"$WORK/w2.sql" <<'SQL'
\set r random(1, 1000000)
INSERT INTO w2 (qty, note) VALUES (:r, 'row ' || :r);
SQL
# ~1 KB body; a fifth of the rows also carry 128 md5s (4 KB, which pglz
# cannot shrink by the quarter it wants) stored out of line in TOAST.
W3_DOC="CASE WHEN :r <= 20 THEN (SELECT string_agg(md5(g::text || random()::text), '') FROM generate_series(1, 128) g) END"
cat >"$WORK/w3.sql" <<SQL
\\set r random(1, 100)
\\set id random(1, :maxid)
\\set id2 random(1, :maxid)
BEGIN;
INSERT INTO w3 (k, body, doc) VALUES (:r, repeat(md5(random()::text), 32), $W3_DOC);
UPDATE w3 SET k = k + 1, body = md5(random()::text) || substr(body, 33) WHERE id = :id;
DELETE FROM w3 WHERE id = :id2;
END;
SQL
cat >"$WORK/w4.sql" <<SQL
INSERT INTO w4 (qty, note) SELECT g, 'row ' || g FROM generate_series(1, $W4_ROWS_PER_TXN) g;
SQL

q() { "${PSQL[@]}" -c "$1"; }
new_slot() { q "SELECT pg_create_logical_replication_slot('$1', 'pgoutput')" >/dev/null; }
drop_slot() { q "SELECT pg_drop_replication_slot('$1')" >/dev/null; }
# The WAL end after a workload: a committed write flushes it, and every slot
# must confirm past it.
wal_end() {
  q "INSERT INTO flush VALUES (1)"
  q "SELECT pg_current_wal_lsn()"
}
reached() {
  [[ $(q "SELECT confirmed_flush_lsn >= '$2' FROM pg_replication_slots WHERE slot_name = '$1'") == t ]]
}
metric_sum() {  # sum of every series of metric $1 on pgcdc's endpoint
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" |
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d", s }'
}
start_pgcdc() {  # slot; sets PGCDC_PID
  sed "s/@SLOT@/$1/g" "$WORK/pgcdc.yaml.in" >"$WORK/$1.yaml"
  "$PGCDC" run --config "$WORK/$1.yaml" >"$WORK/$1.log" 2>&1 &
  PGCDC_PID=$!
  PIDS+=("$PGCDC_PID")
}
stop_pgcdc() {
  kill -TERM "$PGCDC_PID"
  wait "$PGCDC_PID" || { echo "pgcdc failed:" >&2; tail -20 "$WORK/$1.log" >&2; exit 1; }
}
until_reached() {  # slot target pid: wait, failing if pid dies first
  until reached "$1" "$2"; do
    kill -0 "$3" 2>/dev/null || reached "$1" "$2" ||
      { echo "$1 stopped before $2:" >&2; tail -20 "$WORK/$1.log" >&2; exit 1; }
    sleep 0.1
  done
}

# Catch-up of pg_recvlogical on slot $1 up to $2: sets RECV_S, RECV_RSS.
run_recv() {
  local t0 pid
  t0=$(now)
  /usr/bin/time -f '%U %S %M' -o "$WORK/$1.time" \
    "$RECVLOGICAL" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -S "$1" \
    --start -E "$2" --no-loop -f /dev/null -s 1 -F 1 \
    -o proto_version=3 -o publication_names=bench -o streaming=on \
    >"$WORK/$1.log" 2>&1 &
  pid=$!
  until_reached "$1" "$2" "$pid"
  RECV_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  wait "$pid" || { echo "pg_recvlogical failed:" >&2; cat "$WORK/$1.log" >&2; exit 1; }
  RECV_RSS=$(awk '{ printf "%d", $3 / 1024 }' "$WORK/$1.time")
}

# Catch-up of pgcdc on slot $1 up to $2: sets PGCDC_S, PGCDC_CPU, PGCDC_RSS,
# EVENTS.
run_pgcdc() {
  local t0 perf_pid=
  t0=$(now)
  start_pgcdc "$1"
  if [[ ${PERF:-0} == 1 ]]; then
    perf record -q -F 1999 -p "$PGCDC_PID" -o "$WORK/$1.perf" 2>/dev/null &
    perf_pid=$!
  fi
  until_reached "$1" "$2" "$PGCDC_PID"
  PGCDC_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    mkdir -p bench/results
    # Threads by name (pgcdc's main thread, librdkafka's rdk:*), then the
    # hottest symbols of all of them.
    for sort in comm,dso comm,dso,symbol; do
      perf report -i "$WORK/$1.perf" --no-children --sort "$sort" \
        --percent-limit 0.5 --stdio 2>/dev/null |
        grep -v -e '^$' -e '^# *$' -e '^# \.' -e 'Tip:' -e 'header info' |
        sed 's/ *$//' | head -50
    done >"bench/results/e2e-perf-$(date -u +%Y-%m-%d-%H%M%S)-$1.txt"
  fi
  PGCDC_CPU=$(cpu_secs_exact "$PGCDC_PID")
  PGCDC_RSS=$(peak_rss_mib "$PGCDC_PID")
  EVENTS=$(metric_sum pgcdc_events_total)
  stop_pgcdc "$1"
}

ROWS_MD=()
ROWS_CSV=()
CSV_HEAD="workload,round,events,recv_s,recv_events_per_s,pgcdc_s,pgcdc_events_per_s,ratio,pgcdc_cpu_s,pgcdc_cpu_s_per_m_events,pgcdc_peak_rss_mib,recv_peak_rss_mib,p50_ms,p99_ms,max_ms"
# workload round events recv_s pgcdc_s cpu rss recv_rss [p50 p99 max]
record() {
  local w=$1 round=$2 events=$3 rs=$4 ps=$5 cpu=$6 rss=$7 rrss=$8
  local p50=${9:-} p99=${10:-} max=${11:-}
  local rrate prate ratio cpm
  rrate=$(awk -v n="$events" -v s="$rs" 'BEGIN { printf "%d", n / s }')
  prate=$(awk -v n="$events" -v s="$ps" 'BEGIN { printf "%d", n / s }')
  if [[ -n $p50 ]]; then
    ratio="—"
  else
    ratio=$(awk -v a="$prate" -v b="$rrate" 'BEGIN { printf "%.2f", a / b }')
  fi
  cpm=$(awk -v c="$cpu" -v n="$events" 'BEGIN { printf "%.2f", c / n * 1e6 }')
  ROWS_MD+=("| $w | $round | $events | $rs | $rrate | $ps | $prate | $ratio | $cpm | $rss | $rrss | ${p50:-—} | ${p99:-—} | ${max:-—} |")
  ROWS_CSV+=("\"$w\",$round,$events,$rs,$rrate,$ps,$prate,${ratio/—/},$cpu,$cpm,$rss,$rrss,$p50,$p99,$max")
  echo "${ROWS_MD[-1]}"
}

# One catch-up workload: name, expected events (0: unknown), then the
# command that writes it.
SEQ=0
catch_up() {
  local name=$1 expected=$2 target r slots=()
  shift 2
  for r in $(seq "$ROUNDS"); do
    SEQ=$((SEQ + 1))
    new_slot "r$SEQ"
    new_slot "p$SEQ"
    slots+=("$SEQ")
  done
  "$@"
  target=$(wal_end)
  r=0
  for s in "${slots[@]}"; do
    r=$((r + 1))
    # Alternate which consumer goes first, round to round and workload to
    # workload, so that neither always meets a warmer or busier machine.
    if (((r + ${#ROWS_MD[@]}) % 2)); then
      run_recv "r$s" "$target"
      run_pgcdc "p$s" "$target"
    else
      run_pgcdc "p$s" "$target"
      run_recv "r$s" "$target"
    fi
    drop_slot "r$s"
    drop_slot "p$s"
    if ((expected > 0 && EVENTS != expected)); then
      echo "$name: pgcdc published $EVENTS events, expected $expected" >&2
      exit 1
    fi
    record "$name" "$r" "$EVENTS" "$RECV_S" "$PGCDC_S" "$PGCDC_CPU" \
      "$PGCDC_RSS" "$RECV_RSS"
  done
}

w1() {
  q "INSERT INTO w1 SELECT g, g % 1000, 'row ' || g FROM generate_series(1, $W1_ROWS) g"
}
w2() {
  "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
    -t $((W2_TXNS / 4)) -f "$WORK/w2.sql" postgres >"$WORK/w2.pgbench" 2>&1
}
w3() {
  "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
    -t $((W3_TXNS / 4)) -D maxid="$W3_FILL" -f "$WORK/w3.sql" postgres \
    >"$WORK/w3.pgbench" 2>&1
}

echo "| workload | round | events | pg_recvlogical (s) | pg_recvlogical events/s | pgcdc (s) | pgcdc events/s | pgcdc ÷ pg_recvlogical | pgcdc CPU s / M events | pgcdc peak RSS (MiB) | pg_recvlogical peak RSS (MiB) | p50 (ms) | p99 (ms) | max (ms) |"
wanted() { [[ $WORKLOADS == *" $1 "* ]]; }
wanted w1 && catch_up "W1: 1 txn × $W1_ROWS rows" "$W1_ROWS" w1
wanted w2 && catch_up "W2: $W2_TXNS 1-row txns" "$W2_TXNS" w2
if wanted w3; then
  # W3's table is filled before its slots exist: not part of the measured
  # WAL. (The doc's subquery refers to s.r so that it runs, randomly, per row.)
  q "INSERT INTO w3 (k, body, doc) SELECT r, repeat(md5(random()::text), 32),
       CASE WHEN r <= 20 THEN (SELECT string_agg(md5(g::text || random()::text), '')
                               FROM generate_series(1, 128) g WHERE s.r > 0) END
     FROM (SELECT (random() * 99)::int + 1 AS r FROM generate_series(1, $W3_FILL)) s"
  catch_up "W3: $W3_TXNS mixed txns, ~1 KB rows + TOAST" 0 w3
fi

# Histogram quantile $1 (0..1) of pgcdc_commit_to_ack_seconds in ms, from
# a scrape in file $2, interpolated linearly within the bucket.
quantile_ms() {
  awk -v q="$1" '
    /^pgcdc_commit_to_ack_seconds_bucket/ {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
      n++; bound[n] = (le == "+Inf") ? -1 : le; count[n] = $NF
    }
    END {
      total = count[n]; if (total == 0) { print "—"; exit }
      rank = q * total; prev_b = 0; prev_c = 0
      for (i = 1; i <= n; i++) {
        if (count[i] >= rank) {
          if (bound[i] < 0) { printf "%.1f", prev_b * 1000; exit }
          f = (count[i] == prev_c) ? 0 : (rank - prev_c) / (count[i] - prev_c)
          printf "%.1f", (prev_b + (bound[i] - prev_b) * f) * 1000; exit
        }
        prev_b = bound[i]; prev_c = count[i]
      }
    }' "$2"
}

wanted w4 || W4_RATES=()
for rate in "${W4_RATES[@]}"; do
  SEQ=$((SEQ + 1))
  new_slot "r$SEQ"
  new_slot "p$SEQ"
  start_pgcdc "p$SEQ"
  until [[ $(q "SELECT active FROM pg_replication_slots WHERE slot_name = 'p$SEQ'") == t ]]; do
    sleep 0.1
  done
  sleep 1
  cpu0=$(cpu_secs_exact "$PGCDC_PID")
  t0=$(now)
  "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
    --rate=$((rate / W4_ROWS_PER_TXN)) -T "$W4_SECS" -f "$WORK/w4.sql" postgres \
    >"$WORK/w4-$rate.pgbench" 2>&1
  target=$(wal_end)
  until_reached "p$SEQ" "$target" "$PGCDC_PID"
  PGCDC_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  PGCDC_CPU=$(awk -v a="$cpu0" -v b="$(cpu_secs_exact "$PGCDC_PID")" 'BEGIN { printf "%.2f", b - a }')
  PGCDC_RSS=$(peak_rss_mib "$PGCDC_PID")
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/w4-$rate.metrics"
  EVENTS=$(awk '$1 ~ /^pgcdc_events_total/ { s += $NF } END { printf "%d", s }' "$WORK/w4-$rate.metrics")
  p50=$(quantile_ms 0.5 "$WORK/w4-$rate.metrics")
  p99=$(quantile_ms 0.99 "$WORK/w4-$rate.metrics")
  max=$(awk '$1 == "pgcdc_commit_to_ack_max_seconds" { printf "%.1f", $2 * 1000 }' "$WORK/w4-$rate.metrics")
  stop_pgcdc "p$SEQ"
  offered=$(awk '/^tps/ { printf "%d", $3 * '"$W4_ROWS_PER_TXN"' }' "$WORK/w4-$rate.pgbench")
  run_recv "r$SEQ" "$target"
  drop_slot "r$SEQ"
  drop_slot "p$SEQ"
  record "W4: $rate rows/s (achieved $offered) × ${W4_SECS} s" 1 "$EVENTS" \
    "$RECV_S" "$PGCDC_S" "$PGCDC_CPU" "$PGCDC_RSS" "$RECV_RSS" "$p50" "$p99" "$max"
done

mkdir -p bench/results
OUT=bench/results/e2e$( ((QUICK)) && echo -quick || true)-$(date -u +%Y-%m-%d-%H%M%S)
{
  echo "# pgcdc vs pg_recvlogical, end to end$( ((QUICK)) && echo ' (--quick)' || true)"
  echo
  machine_line "$PGCDC"
  echo "Load average (1, 5, 15 min) before the run: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| workload | round | events | pg_recvlogical (s) | pg_recvlogical events/s | pgcdc (s) | pgcdc events/s | pgcdc ÷ pg_recvlogical | pgcdc CPU s / M events | pgcdc peak RSS (MiB) | pg_recvlogical peak RSS (MiB) | p50 (ms) | p99 (ms) | max (ms) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS_MD[@]}"
  echo
  echo "W1–W3: catch-up on the same WAL, each consumer on its own slot created before the workload, from process start until the slot confirmed the WAL end (pgcdc: every event acknowledged by the dev broker). W4: pgcdc streaming live while pgbench writes at the rate (its time and CPU are the run's, so events/s is the offered rate), latency from the commit timestamp to the broker's acknowledgement of the transaction's last event (pgcdc_commit_to_ack_seconds, p50/p99 interpolated in 1 ms buckets); pg_recvlogical's figures are its catch-up on that WAL afterwards."
} | tee "$OUT.md"
{
  echo "# $(machine_line "$PGCDC") Load average before: $LOAD_BEFORE."
  echo "$CSV_HEAD"
  printf '%s\n' "${ROWS_CSV[@]}"
} >"$OUT.csv"
echo "written to $OUT.md and $OUT.csv"
