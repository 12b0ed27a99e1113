#!/usr/bin/env bash
# pgcdc against Debezium's PostgreSQL connector (issue 17): the same
# machine, the same PostgreSQL, the same workloads and the same real Kafka,
# in one run.
#
#   bash bench/vs_debezium.sh            # full: W1 1,000,000 rows, W2
#                                        # 200,000 transactions, W4 2 × 60 s
#   bash bench/vs_debezium.sh --quick    # W1 200,000, W2 50,000, W4 2 × 15 s:
#                                        # ~9 minutes on a busy machine
#                                        # (full: ~20)
#   PGCDC_FORMAT=debezium-json bash bench/vs_debezium.sh ...   # pgcdc's
#                                        # kafka.format (default protobuf,
#                                        # pgcdc's default, then not written)
#   PGCDC_BIN=/path/to/pgcdc bash bench/vs_debezium.sh ...     # another build
#   WORKLOADS="w1 w4" ...                # only these (default w1 w2 w4)
#   W4_SECS=N / W4_RATES="5000 20000" / WARMUP_SECS=N (default 10) ...
#   W1_ROWS=N / W2_TXNS=N ...            # other volumes
#   DEBEZIUM_HEAP="-Xms256M -Xmx2G" ...  # Connect's JVM heap (its script's
#                                        # default); peak RSS follows it
#   KAFKA_PROPERTIES='{linger.ms: "5"}'  # pgcdc's kafka.properties
#
# One PostgreSQL 15 (as bench/e2e.sh's: server defaults, autovacuum off) and
# one real Apache Kafka node (scripts/kafka.sh, 4 partitions per
# auto-created topic, message.timestamp.type LogAppendTime: every record
# carries the time the broker appended it). Both contenders write to it,
# each with its own publication, slot and topic prefix (pgcdc.*, dbz.*):
#   pgcdc     `pgcdc run` (snapshot.mode never), kafka.format PGCDC_FORMAT;
#   Debezium  3.6.1.Final's PostgresConnector under Kafka Connect 4.3.0
#             standalone (bench/debezium.sh: JsonConverter with schemas,
#             file offsets flushed every second, the documented throughput
#             settings, heap DEBEZIUM_HEAP).
# Workloads (bench/e2e.sh's, on tables of their own here):
#   W1  one transaction inserting N small rows (int8 key, int4, short text);
#   W2  N single-row INSERT transactions (pgbench, 4 clients);
#   W4  10-row INSERT transactions at 5,000 and then 20,000 rows/s (pgbench
#       --rate) for D seconds each, while the contender streams: latency.
#
# A warm-up first: both contenders stream W4's transactions at 10,000 rows/s
# for WARMUP_SECS (the broker's JIT, the topics created), then stop.
# W1 and W2 are catch-up on the same WAL: the backlog is written while
# neither runs (pgcdc's slot is made before the workload, Debezium's slot
# and offsets are those of its last run), then one contender at a time,
# rotating which goes first, from process start until the broker holds all
# N records it published. Both are timed alike, from the records: a consumer
# (bench/TopicWatch.java) polls the topic's end offsets every 20 ms and then
# reads the broker's append time of the newest record, so the time is
# start → last append, to the millisecond. "start → first" is the first
# record's append (process and JVM start, connection, slot), and "events/s
# first → last" the rate once records flow, start-up left out; the
# throughput target is judged on both. CPU and peak
# RSS are the contender's process's over its whole life (Connect's JVM;
# pgcdc), read when the last record arrived.
# W4, Debezium first: one worker for both rates, warmed for WARMUP_SECS
# more (its JIT) before them; then pgcdc, a fresh process and slot per rate
# as in e2e.sh. Latency per transaction, from its commit:
#   pgcdc     commit → the broker's acknowledgement of its last event
#             (pgcdc_commit_to_ack_seconds, 1 ms buckets, interpolated);
#   Debezium  commit (source.ts_us, the transaction's commit time as
#             pgoutput sends it, in microseconds) → the broker's append time
#             of its last record (LogAppendTime: milliseconds, so ± 1 ms),
#             read back from the topic after the run.
# An acknowledgement comes back after the append, so pgcdc's figure is the
# longer path by a loopback round trip. With PGCDC_FORMAT=debezium-json
# pgcdc's records are read back the same way too (column "read-back").
#
# Markdown with the machine's description goes to
# bench/results/vs-debezium[-quick]-<date>.md (git ignores it); the run
# ends with the targets (pgcdc ≥ 3 × Debezium's throughput, ≤ 1/20 of its
# peak RSS, p99 ≤ 1/5 of its p99), each said met or not, and its rows for
# bench/history.md.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[[ ${1:-} == --quick ]] && QUICK=1
if ((QUICK)); then
  W1_ROWS=${W1_ROWS:-200000} W2_TXNS=${W2_TXNS:-50000} W4_DEFAULT=15
else
  W1_ROWS=${W1_ROWS:-1000000} W2_TXNS=${W2_TXNS:-200000} W4_DEFAULT=60
fi
W4_SECS=${W4_SECS:-$W4_DEFAULT}
read -ra W4_RATES <<<"${W4_RATES:-5000 20000}"
WARMUP_SECS=${WARMUP_SECS:-10}
WORKLOADS=" ${WORKLOADS:-w1 w2 w4} "
W4_ROWS_PER_TXN=10
PGCDC_FORMAT=${PGCDC_FORMAT:-protobuf}
PARTITIONS=4
# Seconds a catch-up may take before the run fails.
TIMEOUT=1800

bash scripts/install-deps.sh >/dev/null
source scripts/lib/throwaway.sh
source scripts/lib/measure.sh
source bench/lib.sh
pgcdc_binary
PGBENCH=$PG_BIN/pgbench

LOAD_BEFORE=$(load_average)
workdir_start pgcdc-vs-debezium
DBZ_DIR=$WORK/debezium
cleanup() {
  # Connect's log is kept, the last run's, for what went wrong or slow.
  if [[ -f $DBZ_DIR/connect.log ]]; then
    mkdir -p bench/results
    cp "$DBZ_DIR/connect.log" bench/results/vs-debezium-last-connect.log
  fi
  bash bench/debezium.sh stop --dir "$DBZ_DIR" >/dev/null 2>&1 || true
  bash scripts/kafka.sh stop --dir "$WORK/kafka" >/dev/null 2>&1 || true
  workdir_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "resolving Debezium and Kafka Connect" >&2
bash bench/debezium.sh jars >/dev/null
KAFKA_JARS=$(bash scripts/kafka.sh jars)
javac -nowarn -cp "$KAFKA_JARS/*" -d "$WORK/tw" bench/TopicWatch.java
# The watcher is a small JVM of its own: C1 only and a serial collector, so
# that it starts fast and stays out of the way.
tw() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -cp "$WORK/tw:$KAFKA_JARS/*" TopicWatch "$1" "$BOOT" "${@:2}"
}

echo "starting Kafka (1 node)" >&2
sets=(--set log.message.timestamp.type=LogAppendTime)
for s in ${KAFKA_BROKER_SETTINGS:-}; do sets+=(--set "$s"); done
bash scripts/kafka.sh start --dir "$WORK/kafka" --nodes 1 \
  --partitions "$PARTITIONS" "${sets[@]}" >/dev/null
BOOT=$(cat "$WORK/kafka/bootstrap")
broker_cpu() { cpu_secs_exact "$(cat "$WORK/kafka/node1/pid")"; }

PORT=$(free_port)
pg_start "$WORK" "$PORT" -c autovacuum=off -c max_replication_slots=40 \
  -c max_wal_senders=40
PSQL=(psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tA)
METRICS_PORT=$(free_port)
q() { "${PSQL[@]}" -c "$1"; }

q "CREATE TABLE w1 (id int8 PRIMARY KEY, qty int4, note text);
   CREATE TABLE w2 (id bigserial PRIMARY KEY, qty int4, note text);
   CREATE TABLE w4 (id bigserial PRIMARY KEY, qty int4, note text);
   CREATE TABLE flush (x int);
   CREATE PUBLICATION pgcdc_pub FOR TABLE w1, w2, w4;
   CREATE PUBLICATION dbz_pub FOR TABLE w1, w2, w4;"

format_line=
[[ $PGCDC_FORMAT != protobuf ]] && format_line="  format: $PGCDC_FORMAT"
cat >"$WORK/pgcdc.yaml.in" <<YAML
source:
  dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
  slot: @SLOT@
  publication: pgcdc_pub
  tables: [public.w1, public.w2, public.w4]
  spill_directory: $WORK
kafka:
  bootstrap_servers: "$BOOT"
  topic_prefix: pgcdc
$format_line
  properties: ${KAFKA_PROPERTIES:-{\}}
metrics:
  listen: "127.0.0.1:@METRICS_PORT@"
snapshot:
  mode: never
YAML
cat >"$WORK/w2.sql" <<'SQL'
\set r random(1, 1000000)
INSERT INTO w2 (qty, note) VALUES (:r, 'row ' || :r);
SQL
cat >"$WORK/w4.sql" <<SQL
INSERT INTO w4 (qty, note) SELECT g, 'row ' || g FROM generate_series(1, $W4_ROWS_PER_TXN) g;
SQL

new_slot() { q "SELECT pg_create_logical_replication_slot('$1', 'pgoutput')" >/dev/null; }
drop_slot() { q "SELECT pg_drop_replication_slot('$1')" >/dev/null; }
new_slot dbz
slot_active() { # slot pid log: wait until the slot streams, failing if pid dies
  until [[ $(q "SELECT active FROM pg_replication_slots WHERE slot_name = '$1'") == t ]]; do
    kill -0 "$2" 2>/dev/null || { echo "$1 stopped:" >&2; tail -20 "$3" >&2; exit 1; }
    sleep 0.1
  done
}
w4_max_id() { q "SELECT coalesce(max(id), 0) FROM w4"; }

# slot [metrics port]; sets CPID, CLOG, and METRICS_PORT when that port was
# taken (start_serving).
start_pgcdc() {
  start_serving "$PGCDC" "$WORK/pgcdc.yaml.in" "$1" "${2:-$METRICS_PORT}" \
    "s/@SLOT@/$1/g"
  CPID=$SERVED_PID
  CLOG=$WORK/$1.log
  [[ -n ${2:-} ]] || METRICS_PORT=$SERVED_PORT
}
stop_pgcdc() {
  kill -TERM "$CPID"
  wait "$CPID" || { echo "pgcdc failed:" >&2; tail -20 "$CLOG" >&2; exit 1; }
}
start_debezium() { # sets CPID, CLOG
  CPID=$(bash bench/debezium.sh start --dir "$DBZ_DIR" --bootstrap "$BOOT" \
    --pg-port "$PORT" --slot dbz --publication dbz_pub \
    --tables public.w1,public.w2,public.w4 --topic-prefix dbz)
  CLOG=$DBZ_DIR/connect.log
  PIDS+=("$CPID")
}
stop_debezium() { bash bench/debezium.sh stop --dir "$DBZ_DIR"; }
start_contender() { # contender [slot]
  if [[ $1 == pgcdc ]]; then start_pgcdc "$2"; else start_debezium; fi
}
stop_contender() { if [[ $1 == pgcdc ]]; then stop_pgcdc; else stop_debezium; fi; }
topic() { if [[ $1 == pgcdc ]]; then echo "pgcdc.public.$2"; else echo "dbz.public.$2"; fi; }

# Waits until topic $2 holds $1 records more than base file $3, while the
# contender (CPID) lives: sets ARRIVED ("count first_ms last_ms").
arrived() {
  local n=$1 t=$2 base=$3 out=$WORK/watch.out wpid
  tw wait "$base" "$n" "$TIMEOUT" "$t" >"$out" 2>"$WORK/watch.err" &
  wpid=$!
  while kill -0 "$wpid" 2>/dev/null; do
    if ! kill -0 "$CPID" 2>/dev/null; then
      kill "$wpid" 2>/dev/null || true
      echo "the contender stopped before $n records reached $t:" >&2
      tail -20 "$CLOG" >&2
      exit 1
    fi
    sleep 0.05
  done
  wait "$wpid" || { echo "waiting for $t failed:" >&2; cat "$out" "$WORK/watch.err" >&2; exit 1; }
  ARRIVED=$(tail -n 1 "$out")
}
# The same, but starting the watcher first and calling "$@" once it is
# ready (the contender's start, timed from there).
arrived_after() {
  local n=$1 t=$2 base=$3 out=$WORK/watch.out wpid
  shift 3
  tw wait "$base" "$n" "$TIMEOUT" "$t" >"$out" 2>"$WORK/watch.err" &
  wpid=$!
  until grep -q ready "$out" 2>/dev/null; do
    kill -0 "$wpid" 2>/dev/null || { cat "$out" "$WORK/watch.err" >&2; exit 1; }
    sleep 0.02
  done
  T0_MS=$(date +%s%3N)
  "$@"
  while kill -0 "$wpid" 2>/dev/null; do
    if ! kill -0 "$CPID" 2>/dev/null; then
      kill "$wpid" 2>/dev/null || true
      echo "the contender stopped before $n records reached $t:" >&2
      tail -20 "$CLOG" >&2
      exit 1
    fi
    sleep 0.05
  done
  wait "$wpid" || { echo "waiting for $t failed:" >&2; cat "$out" "$WORK/watch.err" >&2; exit 1; }
  ARRIVED=$(tail -n 1 "$out")
}

RESULTS=$WORK/results.tsv
: >"$RESULTS"
ROWS_MD=()
TABLE_HEAD="| contender | workload | events | start → last (s) | start → first (s) | events/s | events/s first → last | CPU s / M events | peak RSS (MiB) | broker CPU s / M events | p50 (ms) | p99 (ms) | max (ms) | read-back p50 / p99 / max (ms) |"
# contender key workload events secs first rate steady-rate cpu rss bcpu
# [p50 p99 max readback]
record() {
  local c=$1 key=$2 w=$3 n=$4 s=$5 first=$6 rate=$7 steady=$8 cpu=$9 rss=${10}
  local bcpu=${11} p50=${12:-—} p99=${13:-—} max=${14:-—} rb=${15:-—} cpm bcpm
  cpm=$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.2f", c / n * 1e6 }')
  bcpm=$(awk -v c="$bcpu" -v n="$n" 'BEGIN { printf "%.2f", c / n * 1e6 }')
  ROWS_MD+=("| $c | $w | $n | $s | $first | $rate | $steady | $cpm | $rss | $bcpm | $p50 | $p99 | $max | $rb |")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$key" "$n" "$rate" \
    "$cpu" "$rss" "$p50" "$p99" "$max" "$bcpu" "$s" "$steady" >>"$RESULTS"
  echo "${ROWS_MD[-1]}"
}

# Warm-up, not measured: both contenders stream W4's transactions at 10,000
# rows/s for WARMUP_SECS, the topics of all three tables get created (a row
# inserted and deleted in w1 and w2), and Debezium's first start takes its
# (no_data) snapshot and stores its offsets.
warm_up() {
  local pp dp id0 n
  new_slot warm
  start_pgcdc warm "$(free_port)"
  pp=$CPID
  slot_active warm "$pp" "$CLOG"
  start_debezium
  dp=$CPID
  bash bench/debezium.sh wait --dir "$DBZ_DIR"
  slot_active dbz "$dp" "$CLOG"
  id0=$(w4_max_id)
  q "INSERT INTO w1 VALUES (0, 0, 'warm-up'); DELETE FROM w1"
  q "INSERT INTO w2 (qty, note) VALUES (0, 'warm-up'); DELETE FROM w2"
  "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
    --rate=$((10000 / W4_ROWS_PER_TXN)) -T "$WARMUP_SECS" \
    -f "$WORK/w4.sql" postgres >"$WORK/warm-up.pgbench" 2>&1
  n=$(($(w4_max_id) - id0))
  : >"$WORK/base-empty"
  CPID=$dp CLOG=$DBZ_DIR/connect.log
  arrived "$n" dbz.public.w4 "$WORK/base-empty"
  CPID=$pp CLOG=$WORK/warm.log
  arrived "$n" pgcdc.public.w4 "$WORK/base-empty"
  stop_pgcdc
  drop_slot warm
  stop_debezium
}

# One catch-up: contender, summary key, workload name, expected events,
# table; the backlog is in the WAL already, and pgcdc's slot is "catchup".
catch_up_one() {
  local c=$1 key=$2 name=$3 n=$4 t b0 cpu rss bcpu count first last secs fs rate steady
  t=$(topic "$c" "$5")
  tw base "$WORK/base" "$t"
  b0=$(broker_cpu)
  arrived_after "$n" "$t" "$WORK/base" start_contender "$c" catchup
  cpu=$(cpu_secs_exact "$CPID")
  rss=$(peak_rss_mib "$CPID")
  bcpu=$(awk -v a="$b0" -v b="$(broker_cpu)" 'BEGIN { printf "%.2f", b - a }')
  read -r count first last <<<"$ARRIVED"
  stop_contender "$c"
  [[ $c == pgcdc ]] && drop_slot catchup
  if ((count != n)); then
    echo "$name ($c): $count records in $t, expected $n" >&2
    exit 1
  fi
  secs=$(awk -v a="$T0_MS" -v b="$last" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
  fs=$(awk -v a="$T0_MS" -v b="$first" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
  rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%d", n / s }')
  # Once the first record is in: start-up left out (n - 1 records after
  # it; at least a millisecond).
  steady=$(awk -v n="$n" -v a="$first" -v b="$last" \
    'BEGIN { d = (b - a) / 1000; if (d < 0.001) d = 0.001; printf "%d", (n - 1) / d }')
  record "$c" "$key" "$name" "$n" "$secs" "$fs" "$rate" "$steady" "$cpu" "$rss" "$bcpu"
}

ROT=0
catch_up() { # name key expected table command...
  local name=$1 key=$2 n=$3 table=$4 c
  shift 4
  new_slot catchup
  "$@"
  if ((ROT % 2 == 0)); then set -- pgcdc debezium; else set -- debezium pgcdc; fi
  for c in "$@"; do catch_up_one "$c" "$key" "$name" "$n" "$table"; done
  ROT=$((ROT + 1))
}

w1() {
  q "INSERT INTO w1 SELECT g, g % 1000, 'row ' || g FROM generate_series(1, $W1_ROWS) g"
}
w2() {
  "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
    -t $((W2_TXNS / 4)) -f "$WORK/w2.sql" postgres >"$WORK/w2.pgbench" 2>&1
}

# One W4 rate with the contender (CPID) streaming already: contender rate.
w4_rate() {
  local c=$1 rate=$2 t id0 n cpu0 b0 cpu bcpu rss offered p50 p99 max rb="—" m lat
  t=$(topic "$c" w4)
  tw base "$WORK/base" "$t"
  id0=$(w4_max_id)
  cpu0=$(cpu_secs_exact "$CPID")
  b0=$(broker_cpu)
  "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
    --rate=$((rate / W4_ROWS_PER_TXN)) -T "$W4_SECS" -f "$WORK/w4.sql" postgres \
    >"$WORK/w4-$rate-$c.pgbench" 2>&1
  n=$(($(w4_max_id) - id0))
  arrived "$n" "$t" "$WORK/base"
  cpu=$(awk -v a="$cpu0" -v b="$(cpu_secs_exact "$CPID")" 'BEGIN { printf "%.2f", b - a }')
  bcpu=$(awk -v a="$b0" -v b="$(broker_cpu)" 'BEGIN { printf "%.2f", b - a }')
  rss=$(peak_rss_mib "$CPID")
  offered=$(awk '/^tps/ { printf "%d", $3 * '"$W4_ROWS_PER_TXN"' }' "$WORK/w4-$rate-$c.pgbench")
  if [[ $c == pgcdc ]]; then
    m=$WORK/w4-$rate.metrics
    curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$m"
    p50=$(quantile_ms 0.5 "$m")
    p99=$(quantile_ms 0.99 "$m")
    max=$(awk '$1 == "pgcdc_commit_to_ack_max_seconds" { printf "%.1f", $2 * 1000 }' "$m")
    if [[ $PGCDC_FORMAT == debezium-json ]]; then
      lat=$(tw latency "$WORK/base" "$t" | tail -n 1)
      rb=$(awk '{ printf "%s / %s / %s", $3, $4, $5 }' <<<"$lat")
    fi
  else
    lat=$(tw latency "$WORK/base" "$t" | tail -n 1)
    read -r _ _ p50 p99 max DBZ_TS_TYPE DBZ_COMMIT_FIELD <<<"$lat"
  fi
  record "$c" "w4-$rate" "W4: $rate rows/s (achieved $offered) × $W4_SECS s" "$n" \
    "$W4_SECS" "—" "$offered" "—" "$cpu" "$rss" "$bcpu" "$p50" "$p99" "$max" "$rb"
}

w4() {
  local rate id0 n
  # Debezium: one worker for every rate, its JIT warmed first.
  start_debezium
  bash bench/debezium.sh wait --dir "$DBZ_DIR"
  slot_active dbz "$CPID" "$CLOG"
  tw base "$WORK/base" dbz.public.w4
  id0=$(w4_max_id)
  "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
    --rate=$((10000 / W4_ROWS_PER_TXN)) -T "$WARMUP_SECS" \
    -f "$WORK/w4.sql" postgres >"$WORK/w4-warm.pgbench" 2>&1
  n=$(($(w4_max_id) - id0))
  arrived "$n" dbz.public.w4 "$WORK/base"
  for rate in "${W4_RATES[@]}"; do w4_rate debezium "$rate"; done
  stop_debezium
  # pgcdc: a fresh process and slot per rate, as in e2e.sh.
  for rate in "${W4_RATES[@]}"; do
    new_slot "w4_$rate"
    start_pgcdc "w4_$rate"
    slot_active "w4_$rate" "$CPID" "$CLOG"
    sleep 1
    w4_rate pgcdc "$rate"
    stop_pgcdc
    drop_slot "w4_$rate"
  done
}

echo "warming up" >&2
warm_up
echo "$TABLE_HEAD"
wanted() { [[ $WORKLOADS == *" $1 "* ]]; }
wanted w1 && catch_up "W1: 1 txn × $W1_ROWS rows" w1 "$W1_ROWS" w1 w1
wanted w2 && catch_up "W2: $W2_TXNS 1-row txns" w2 "$W2_TXNS" w2 w2
DBZ_TS_TYPE='?' DBZ_COMMIT_FIELD='?'
wanted w4 && w4

# Per contender, and the targets: pgcdc ÷ Debezium per workload.
summary() {
  awk -F'\t' -v rates="${W4_RATES[*]}" '
    function fmt(x) { return (x == "") ? "—" : x }
    function both(c, k) { return ((c, k) in rate) ? rate[c, k] " (" steady[c, k] ")" : "—" }
    function targets(what, arr,   line, all, any, j, k, f) {
      line = ""; all = 1; any = 0
      for (j = 1; j <= 2; j++) {
        k = "w" j
        if (arr["pgcdc", k] == "" || arr["debezium", k] == "") continue
        f = arr["pgcdc", k] / arr["debezium", k]; any = 1; if (f < 3) all = 0
        line = line sprintf("%sW%d %d ÷ %d = %.2f×", line == "" ? "" : "; ", j, arr["pgcdc", k], arr["debezium", k], f)
      }
      if (any) printf "- throughput ≥ 3 × Debezium'"'"'s, %s: %s: **%s**\n", what, line, all ? "met" : "not met"
      else printf "- throughput ≥ 3 × Debezium'"'"'s, %s: not measured (needs WORKLOADS with w1 or w2)\n", what
    }
    {
      c = $1; k = $2; seen[c] = 1
      rate[c, k] = $4; steady[c, k] = $12
      if (k ~ /^w[12]$/) { ccpu[c] += $5; cev[c] += $3 }
      if (k ~ /^w4-/) { lat[c, k] = $7 " / " $8 " / " $9; p99[c, k] = $8; wcpu[c, k] = sprintf("%.2f", $5 / $3 * 1e6) }
      if ($6 + 0 > rss[c]) rss[c] = $6 + 0
    }
    END {
      nr = split(rates, rl, " ")
      head = "| contender | W1 events/s (first → last) | W2 events/s (first → last) | CPU s / M events, W1 + W2 |"
      sep = "|---|---|---|---|"
      for (i = 1; i <= nr; i++) {
        head = head " W4 " rl[i] " rows/s p50 / p99 / max (ms) | CPU s / M events, W4 " rl[i] " |"
        sep = sep "---|---|"
      }
      print head " peak RSS (MiB) |"; print sep "---|"
      split("pgcdc debezium", cl, " ")
      for (j = 1; j <= 2; j++) {
        c = cl[j]; if (!(c in seen)) continue
        line = sprintf("| %s | %s | %s | %s |", c, both(c, "w1"), both(c, "w2"),
          cev[c] ? sprintf("%.2f", ccpu[c] / cev[c] * 1e6) : "—")
        for (i = 1; i <= nr; i++) line = line sprintf(" %s | %s |", fmt(lat[c, "w4-" rl[i]]), fmt(wcpu[c, "w4-" rl[i]]))
        print line " " rss[c] " |"
      }
      print ""
      print "Targets (pgcdc ÷ Debezium, this run):"
      print ""
      targets("from process start to the last record", rate)
      targets("from the first record to the last (start-up left out)", steady)
      if (rss["debezium"] > 0)
        printf "- peak RSS ≤ 1/20 of Debezium'"'"'s: %d ÷ %d MiB = 1/%.1f: **%s**\n", rss["pgcdc"], rss["debezium"],
          rss["debezium"] / rss["pgcdc"], (rss["pgcdc"] * 20 <= rss["debezium"]) ? "met" : "not met"
      line = ""; all = 1; any = 0
      for (i = 1; i <= nr; i++) {
        k = "w4-" rl[i]
        if (p99["pgcdc", k] == "" || p99["debezium", k] == "") continue
        any = 1; f = p99["pgcdc", k] / p99["debezium", k]; if (f > 0.2) all = 0
        line = line sprintf("%s%s rows/s %s ÷ %s ms = 1/%.1f", line == "" ? "" : "; ", rl[i], p99["pgcdc", k], p99["debezium", k], 1 / f)
        # pgbench falls behind its rate on a saturated machine: say so.
        if (rate["pgcdc", k] < 0.95 * rl[i] || rate["debezium", k] < 0.95 * rl[i]) {
          line = line sprintf(" (rate not reached: pgbench achieved %d rows/s with pgcdc, %d with Debezium)", rate["pgcdc", k], rate["debezium", k])
          short = 1
        }
      }
      if (any) printf "- W4 p99 ≤ 1/5 of Debezium'"'"'s: %s: **%s**%s\n", line, all ? "met" : "not met",
        short ? " (where pgbench fell short of the rate, the two carried different loads)" : ""
      else print "- W4 p99 ≤ 1/5 of Debezium'"'"'s: not measured (needs WORKLOADS with w4)"
    }' "$RESULTS"
}

OUT=$(results_path vs-debezium)
{
  echo "# pgcdc vs Debezium, end to end$( ((QUICK)) && echo ' (--quick)' || true)"
  echo
  report_machine "$PGCDC" "PostgreSQL, Kafka, Kafka Connect with Debezium, and pgcdc"
  echo
  echo "One Apache Kafka $(bash scripts/kafka.sh version) node (scripts/kafka.sh, heap ${PGCDC_KAFKA_HEAP:--Xms256m -Xmx1g}, $PARTITIONS partitions per topic, message.timestamp.type LogAppendTime$([[ -n ${KAFKA_BROKER_SETTINGS:-} ]] && echo ", $KAFKA_BROKER_SETTINGS")) for both; $(java -version 2>&1 | head -1)."
  echo "- pgcdc: kafka.format **$PGCDC_FORMAT**$([[ $PGCDC_FORMAT == protobuf ]] && echo " (the default; not written in the config)"), kafka.properties ${KAFKA_PROPERTIES:-$PGCDC_KAFKA_DEFAULTS}."
  echo "- Debezium: $(bash bench/debezium.sh version), heap ${DEBEZIUM_HEAP:--Xms256M -Xmx2G}, G1; JsonConverter (schemas on), file offsets flushed every 1 s, max.batch.size 8192, max.queue.size 32768, poll.interval.ms 100, producer batch.size 1048576, linger.ms 5, lz4 (Connect's producer defaults otherwise: acks=all, idempotence off); snapshot.mode no_data. Its W4 latency: commit from $DBZ_COMMIT_FIELD, arrival from the record's $DBZ_TS_TYPE."
  echo
  echo "$TABLE_HEAD"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS_MD[@]}"
  echo
  echo "W1, W2: catch-up of a backlog written while neither ran, one contender at a time (order alternating per workload), from process start until the broker appended the last of its records (LogAppendTime of the newest record; start → first: the first record's); CPU and peak RSS of the contender's process over its life (Debezium: the Connect JVM, restarted for each catch-up from its stored offsets). W4: Debezium first, one warm worker for all rates, then pgcdc, a fresh process per rate; events/s is the rate pgbench achieved, CPU the contender's during the rate's run. p50/p99/max per transaction from its commit: pgcdc to the broker's acknowledgement of its last event (its histogram, 1 ms buckets, interpolated); Debezium to the broker's append time of its last record, read back (commit in µs, append in ms)."
  echo
  echo "## Per contender"
  echo
  summary
} | tee "$OUT.md"
echo "written to $OUT.md"

history_rows() {
  local head note
  note=$(history_note)
  [[ -n ${DEBEZIUM_HEAP:-} ]] && note+="${note:+; }Debezium heap $DEBEZIUM_HEAP"
  [[ $WORKLOADS != " w1 w2 w4 " ]] && note+="${note:+; }workloads$WORKLOADS"
  head=$(history_head)
  awk -F'\t' -v head="$head" -v fmt="$PGCDC_FORMAT" -v note="$note" '
    {
      c = $1; k = $2; seen[c] = 1; rate[c, k] = $4 " (" $12 ")"
      if (k == "w4-20000") lat[c] = $7 " / " $8
      if ($6 + 0 > rss[c]) rss[c] = $6 + 0
    }
    function v(c, k) { return ((c, k) in rate) ? rate[c, k] : "–" }
    END {
      split("pgcdc debezium", cl, " ")
      for (j = 1; j <= 2; j++) {
        c = cl[j]; if (!(c in seen)) continue
        printf "%s %s | %s / %s | %s | %s | %s |\n", head, (c == "pgcdc") ? "pgcdc (" fmt ")" : "Debezium 3.6.1",
          v(c, "w1"), v(c, "w2"), (c in lat) ? lat[c] : "–", rss[c], note
      }
    }' "$RESULTS"
}
echo
echo "Rows for bench/history.md (a table with the columns: date (UTC) | commit |"
echo "mode | load | contender | W1 / W2 events/s (first → last) | W4 20,000 rows/s p50 / p99 (ms) |"
echo "peak RSS (MiB) | note):"
history_rows
