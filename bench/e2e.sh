#!/usr/bin/env bash
# End to end: pgcdc against PostgreSQL's own client, pg_recvlogical, on the
# same WAL, in the same run on this machine.
#
#   bash bench/e2e.sh            # full: W1 1,000,000 rows, W2 200,000
#                                # transactions, W3 50,000, W4 2 × 60 s
#   bash bench/e2e.sh --quick    # smaller volumes, W4 2 × 15 s: ~6 minutes
#                                # with the three brokers, < 3 with BROKERS=mock
#   PGCDC_BIN=/path/to/pgcdc bash bench/e2e.sh ...   # another build
#   PGCDC_BIN_B=/path/to/other/pgcdc bash bench/e2e.sh ...   # A/B: W1–W3
#                                # also caught up by this second build, on
#                                # every broker, in the same rounds on the
#                                # same WAL (rows "mock_b" etc.; its "×
#                                # mock" is B ÷ A); W4 runs A only
#   ROUNDS=N bash bench/e2e.sh ...   # each catch-up measured N times
#                                # (default 2 full, 1 quick), alternating
#   WORKLOADS="w4" bash bench/e2e.sh ...   # only these (default w1 w2 w3 w4)
#   W4_SECS=N bash bench/e2e.sh ...   # W4's seconds per rate and broker
#   WARMUP_SECS=N bash bench/e2e.sh ...   # the warm-up (default 10 s)
#   KAFKA_PROPERTIES='{linger.ms: "1"}' bash bench/e2e.sh ...   # pgcdc's
#                                # kafka.properties, for trying settings
#   PERF=1 bash bench/e2e.sh ...   # also sample each pgcdc run (catch-up
#                                # and W4) with `perf record -a` and keep
#                                # the top of `perf report` (machine, broker,
#                                # pgcdc) per run in
#                                # bench/results/e2e-perf-<date>-<slot>.txt
#                                # (not committed)
#   BROKERS="mock single" bash bench/e2e.sh ...   # only these brokers
#                                # (default mock single three; BROKERS=mock
#                                # starts no JVM)
#   KAFKA_BROKER_SETTINGS="num.io.threads=2 ..." bash bench/e2e.sh ...
#                                # settings for the real brokers
#                                # (scripts/kafka.sh start --set)
#
# One PostgreSQL 15 (server defaults but autovacuum off, so that no vacuum
# of the tables just written lands in one consumer's measurement) and, all
# running for the whole run, the brokers pgcdc publishes to:
#   mock    `pgcdc dev-broker` (librdkafka's mock cluster, in memory);
#   single  Apache Kafka (scripts/kafka.sh, the pinned 4.1.1) with one node;
#   three   the same with three nodes: replication factor 3,
#           min.insync.replicas 2, so that pgcdc's acks=all waits for a
#           follower too.
# Topics are auto-created with 4 partitions on every broker (the mock's
# fixed count), and created before anything is measured: a warm-up publishes
# one row of each table to each broker. The real brokers run with Kafka's
# defaults (no fsync per write: durability from replication, as deployed).
# Workloads:
#   W1  one transaction inserting N small rows (int8 key, int4, short text);
#   W2  N single-row INSERT transactions (pgbench, 4 clients);
#   W3  N transactions of INSERT + UPDATE + DELETE on ~1 KB rows, a fifth of
#       them with a ~4 KB incompressible text that goes to TOAST, on a table
#       filled beforehand (UPDATEs leave it alone: unchanged_toast);
#   W4  10-row INSERT transactions at 5,000 and then 20,000 rows/s
#       (pgbench --rate) for D seconds each, while pgcdc streams: latency.
#
# W1–W3 are measured as catch-up on identical data: before the workload
# writes, every consumer's slot is created (per round: pg_recvlogical's and
# one pgcdc's per broker), so each has to decode the same WAL. Then, one
# consumer at a time, rotating which goes first, from process start until
# its slot's confirmed_flush_lsn reaches the WAL end written after the
# workload:
#   - pg_recvlogical (plugin pgoutput with the options pgcdc negotiates
#     against this server: proto_version 3, publication_names, streaming
#     on; see cdc/pg/pgoutput_options.cc), output to /dev/null, --endpos at
#     the WAL end, so it confirms and exits there;
#   - `pgcdc run` (snapshot.mode never), publishing to one broker: its
#     slot moves only once the broker acknowledged, so this is the time to
#     the last acknowledgement (and its confirmations are spaced 20 ms).
# Both are polled the same way (psql every 0.1 s). Events are pgcdc's
# pgcdc_events_total, checked against the workload where it is exact.
# Each broker's ratio is to the pg_recvlogical run of the same round.
# W4 runs pgcdc live on its own slot, per rate and broker, and reads
# pgcdc_commit_to_ack_seconds
# (1 ms buckets at the low end) and pgcdc_commit_to_ack_max_seconds from
# its metrics endpoint: p50/p99 interpolated within the bucket, as
# Prometheus' histogram_quantile does. pg_recvlogical then catches up on the
# same WAL for reference (pgcdc's rate there is the offered rate).
#
# Per workload and broker: events/s of both and pgcdc ÷ pg_recvlogical,
# pgcdc's CPU seconds per million events (/proc/PID/stat), its peak RSS
# (VmHWM), the broker's CPU seconds per million events (every node's JVM, or
# the dev broker) and pg_recvlogical's peak RSS (GNU time); then a summary
# per broker and the targets for the real single broker (p99 ≤ 20 ms at
# 20,000 rows/s; throughput ratio ≥ 0.8 × the mock's), each said met or
# not. Markdown and CSV with the machine's description go to
# bench/results/e2e[-quick]-<date>.{md,csv}, which git ignores: the run
# ends by printing its rows for bench/history.md, one per broker, which is
# where runs are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0
[[ ${1:-} == --quick ]] && QUICK=1
if ((QUICK)); then
  W1_ROWS=200000 W2_TXNS=100000 W3_TXNS=20000 W3_FILL=20000 W4_DEFAULT=15
  ROUNDS=${ROUNDS:-1}
else
  W1_ROWS=1000000 W2_TXNS=200000 W3_TXNS=50000 W3_FILL=100000 W4_DEFAULT=60
  ROUNDS=${ROUNDS:-2}
fi
W4_SECS=${W4_SECS:-$W4_DEFAULT}
W4_RATES=(5000 20000)
WORKLOADS=" ${WORKLOADS:-w1 w2 w3 w4} "
W4_ROWS_PER_TXN=10
read -ra BROKER_LIST <<<"${BROKERS:-mock single three}"
((${#BROKER_LIST[@]})) || { echo "e2e.sh: BROKERS is empty" >&2; exit 2; }
for b in "${BROKER_LIST[@]}"; do
  case $b in
    mock | single | three) ;;
    *) echo "e2e.sh: BROKERS: unknown broker $b (mock, single, three)" >&2; exit 2 ;;
  esac
done
# The mock auto-creates every topic with 4 partitions; the real brokers get
# the same, so that pgcdc batches and sends alike on all three.
PARTITIONS=4
# The pgcdc consumers of a catch-up: one per broker, and with PGCDC_BIN_B a
# second build's per broker ("<broker>_b", a valid slot name too).
PCONS=("${BROKER_LIST[@]}")
if [[ -n ${PGCDC_BIN_B:-} ]]; then
  for b in "${BROKER_LIST[@]}"; do PCONS+=("${b}_b"); done
fi
read -ra KAFKA_SETS <<<"${KAFKA_BROKER_SETTINGS:-}"

# From a fresh Debian 12 machine: what is missing is installed first (the
# same script as the README's, CI's and the Dockerfile's).
bash scripts/install-deps.sh >/dev/null
source scripts/lib/throwaway.sh
source scripts/lib/measure.sh
source bench/lib.sh
pgcdc_binary
RECVLOGICAL=$PG_BIN/pg_recvlogical
PGBENCH=$PG_BIN/pgbench

# The machine is shared: what else ran is part of the result.
LOAD_BEFORE=$(load_average)
workdir_start pgcdc-e2e
# Kafka's JVMs run in sessions of their own (scripts/kafka.sh): they are
# stopped on every way out, before the work directory with their data goes.
KAFKA_DIRS=()
cleanup() {
  local d
  for d in "${KAFKA_DIRS[@]}"; do
    bash scripts/kafka.sh stop --dir "$d" >/dev/null 2>&1 || true
  done
  workdir_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Every broker runs for the whole run, so that each round measures them all
# on the same WAL within seconds of each other; an idle broker costs
# little (its CPU during every measurement is in the results).
declare -A BOOT
for b in "${BROKER_LIST[@]}"; do
  case $b in
    mock)
      broker_start "$PGCDC" "$WORK"
      PIDS+=("$BROKER_PID")
      MOCK_PID=$BROKER_PID
      BOOT[mock]=$BOOTSTRAP
      ;;
    single | three)
      nodes=1
      [[ $b == three ]] && nodes=3
      KAFKA_DIRS+=("$WORK/kafka-$b")
      sets=()
      for s in "${KAFKA_SETS[@]}"; do sets+=(--set "$s"); done
      echo "starting Kafka ($b: $nodes node(s))" >&2
      bash scripts/kafka.sh start --dir "$WORK/kafka-$b" --nodes "$nodes" \
        --partitions "$PARTITIONS" "${sets[@]}" >/dev/null
      BOOT[$b]=$(cat "$WORK/kafka-$b/bootstrap")
      ;;
  esac
done
broker_pids() {
  if [[ $1 == mock ]]; then echo "$MOCK_PID"; else cat "$WORK/kafka-$1"/node*/pid; fi
}
broker_cpu() {  # CPU seconds of every process of broker $1 so far
  local p
  for p in $(broker_pids "$1"); do cpu_secs_exact "$p"; echo; done |
    awk '{ s += $1 } END { printf "%.2f", s }'
}

PORT=$(free_port)
pg_start "$WORK" "$PORT" -c autovacuum=off -c max_replication_slots=40 \
  -c max_wal_senders=40
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

# One topic prefix per broker for the whole run: the topics are created
# once, by the warm-up, as a deployment's would long exist.
cat >"$WORK/pgcdc.yaml.in" <<YAML
source:
  dsn: "host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
  slot: @SLOT@
  publication: bench
  tables: [public.w1, public.w2, public.w3, public.w4]
  spill_directory: $WORK
kafka:
  bootstrap_servers: "@BOOTSTRAP@"
  topic_prefix: bench
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
# slot broker [metrics port [binary]]; sets PGCDC_PID, and METRICS_PORT
# when that port was taken (start_serving).
start_pgcdc() {
  start_serving "${4:-$PGCDC}" "$WORK/pgcdc.yaml.in" "$1" "${3:-$METRICS_PORT}" \
    "s/@SLOT@/$1/g" "s/@BOOTSTRAP@/${BOOT[$2]}/g"
  PGCDC_PID=$SERVED_PID
  [[ -n ${3:-} ]] || METRICS_PORT=$SERVED_PORT
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
# PERF=1: `perf record` of the whole machine (-a: attaching to pgcdc's pid
# would miss the librdkafka threads it starts after the attach) from now
# until perf_stop, whose report goes to bench/results: the machine by
# thread name, the broker's processes, then pgcdc's threads and hottest
# symbols.
PERF_PID=
perf_start() {  # slot
  [[ ${PERF:-0} == 1 ]] || return 0
  PERF_PGCDC=$PGCDC_PID
  perf record -q -F 999 -a -o "$WORK/$1.perf" 2>/dev/null &
  PERF_PID=$!
}
perf_stop() {  # slot broker
  [[ -n $PERF_PID ]] || return 0
  kill -INT "$PERF_PID"
  wait "$PERF_PID" || true
  PERF_PID=
  mkdir -p bench/results
  local pids
  pids=$(broker_pids "$2" | paste -sd,)
  report() {  # title, head, perf report options...
    local title=$1 n=$2
    shift 2
    echo "## $title"
    # (head ends the pipe early: its SIGPIPE is no failure.)
    perf report -i "$WORK/$slot.perf" --no-children --percent-limit 0.5 \
      --stdio "$@" 2>/dev/null |
      grep -v -e '^$' -e '^# *$' -e '^# \.' -e 'Tip:' -e 'header info' \
        -e '^# Total Lost' -e '^# Event count' |
      sed 's/ *$//' | head -"$n" || true
  }
  local slot=$1
  {
    report "whole machine, by thread name" 30 --fields overhead,comm,dso
    # Shares of the process's own samples from here on.
    report "the broker ($2, pids $pids), by thread name" 20 --pid "$pids" \
      --percentage relative --fields overhead,comm,dso
    report "pgcdc (pid $PERF_PGCDC), by thread" 20 --pid "$PERF_PGCDC" \
      --percentage relative --fields overhead,comm,dso
    report "pgcdc, hottest symbols" 40 --pid "$PERF_PGCDC" \
      --percentage relative --fields overhead,comm,dso,sym
  } >"bench/results/e2e-perf-$(date -u +%Y-%m-%d-%H%M%S)-$1.txt"
}

# Warm-up, not measured: each broker's topics are created, and its JVM has
# served requests long enough for the JIT to compile the produce path (a
# deployed broker has long been warm: without this the first workload on a
# real broker paid for compilation, 3-4x the p50 latency of the same
# workload a minute later). All brokers at once, each from its own pgcdc,
# while pgbench writes W4's transactions for WARMUP_SECS (default 10).
warm_up() {
  local b pids=() target
  for b in "${BROKER_LIST[@]}"; do new_slot "warm_$b"; done
  q "INSERT INTO w1 VALUES (0, 0, 'warm-up'); DELETE FROM w1"
  q "INSERT INTO w2 (qty, note) VALUES (0, 'warm-up'); DELETE FROM w2"
  q "INSERT INTO w3 (k, body) VALUES (0, 'warm-up'); DELETE FROM w3"
  for b in "${BROKER_LIST[@]}"; do
    start_pgcdc "warm_$b" "$b" "$(free_port)"
    pids+=("$PGCDC_PID")
  done
  "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
    --rate=$((10000 / W4_ROWS_PER_TXN)) -T "${WARMUP_SECS:-10}" \
    -f "$WORK/w4.sql" postgres >"$WORK/warm-up.pgbench" 2>&1
  target=$(wal_end)
  local i=0
  for b in "${BROKER_LIST[@]}"; do
    until_reached "warm_$b" "$target" "${pids[i]}"
    PGCDC_PID=${pids[i]}
    stop_pgcdc "warm_$b"
    drop_slot "warm_$b"
    i=$((i + 1))
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

# Catch-up of pgcdc on slot $1 up to $2, publishing to broker $3, with
# binary $4 (default $PGCDC): sets PGCDC_S, PGCDC_CPU, PGCDC_RSS, EVENTS,
# BROKER_CPU, and PGCDC_COMMIT_S, when a transaction came streamed: the
# seconds from start to its Stream Commit (pgcdc's log line, ms), after
# which it is published (W1: the rest of PGCDC_S is the publication).
run_pgcdc() {
  local t0 t1 bcpu0 commit_line
  bcpu0=$(broker_cpu "$3")
  t0=$(now)
  start_pgcdc "$1" "$3" "" "${4:-}"
  perf_start "$1"
  until_reached "$1" "$2" "$PGCDC_PID"
  t1=$(now)
  PGCDC_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  PGCDC_COMMIT_S=
  commit_line=$(grep 'streamed transaction .* committed at' "$WORK/$1.log" | tail -1 || true)
  if [[ -n $commit_line ]]; then
    PGCDC_COMMIT_S=$(awk -v a="$t0" -v b="$(date -d "${commit_line%% *}" +%s.%N)" \
      'BEGIN { printf "%.2f", b - a }')
  fi
  BROKER_CPU=$(awk -v a="$bcpu0" -v b="$(broker_cpu "$3")" 'BEGIN { printf "%.2f", b - a }')
  perf_stop "$1" "$3"
  PGCDC_CPU=$(cpu_secs_exact "$PGCDC_PID")
  PGCDC_RSS=$(peak_rss_mib "$PGCDC_PID")
  EVENTS=$(metric_sum pgcdc_events_total)
  stop_pgcdc "$1"
}

ROWS_MD=()
ROWS_CSV=()
PHASES=()  # streamed transactions: start → Stream Commit → last ack
RESULTS=$WORK/results.tsv
: >"$RESULTS"
TABLE_HEAD="| broker | workload | round | events | pg_recvlogical (s) | pg_recvlogical events/s | pgcdc (s) | pgcdc events/s | pgcdc ÷ pg_recvlogical | pgcdc CPU s / M events | pgcdc peak RSS (MiB) | broker CPU s / M events | pg_recvlogical peak RSS (MiB) | p50 (ms) | p99 (ms) | max (ms) |"
CSV_HEAD="broker,workload,round,events,recv_s,recv_events_per_s,pgcdc_s,pgcdc_events_per_s,ratio,pgcdc_cpu_s,pgcdc_cpu_s_per_m_events,pgcdc_peak_rss_mib,broker_cpu_s,broker_cpu_s_per_m_events,recv_peak_rss_mib,p50_ms,p99_ms,max_ms"
# broker key workload round events recv_s pgcdc_s cpu rss broker_cpu
# recv_rss [p50 p99 max achieved_rows_per_s]; key names the workload for the summary (w1, w2,
# w3, w4-RATE).
record() {
  local b=$1 key=$2 w=$3 round=$4 events=$5 rs=$6 ps=$7 cpu=$8 rss=$9
  local bcpu=${10} rrss=${11} p50=${12:-} p99=${13:-} max=${14:-}
  local achieved=${15:--}
  local rrate prate ratio cpm bcpm
  rrate=$(awk -v n="$events" -v s="$rs" 'BEGIN { printf "%d", n / s }')
  prate=$(awk -v n="$events" -v s="$ps" 'BEGIN { printf "%d", n / s }')
  if [[ -n $p50 ]]; then
    ratio="—"
  else
    ratio=$(awk -v a="$prate" -v b="$rrate" 'BEGIN { printf "%.2f", a / b }')
  fi
  cpm=$(awk -v c="$cpu" -v n="$events" 'BEGIN { printf "%.2f", c / n * 1e6 }')
  bcpm=$(awk -v c="$bcpu" -v n="$events" 'BEGIN { printf "%.2f", c / n * 1e6 }')
  ROWS_MD+=("| $b | $w | $round | $events | $rs | $rrate | $ps | $prate | $ratio | $cpm | $rss | $bcpm | $rrss | ${p50:-—} | ${p99:-—} | ${max:-—} |")
  ROWS_CSV+=("$b,\"$w\",$round,$events,$rs,$rrate,$ps,$prate,${ratio/—/},$cpu,$cpm,$rss,$bcpu,$bcpm,$rrss,$p50,$p99,$max")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$b" "$key" \
    "$round" "$events" "$cpu" "$rss" "$bcpu" "${ratio/—/-}" "${p50:--}" \
    "${p99:--}" "${max:--}" "$prate" "$achieved" >>"$RESULTS"
  echo "${ROWS_MD[-1]}"
}

# One catch-up workload: name, summary key, expected events (0: unknown),
# then the command that writes it.
SEQ=0
ROT=0
catch_up() {
  local name=$1 key=$2 expected=$3 target r s b i n slots=() consumers pc
  local -A p_s p_cpu p_rss p_events p_bcpu p_commit
  shift 3
  for r in $(seq "$ROUNDS"); do
    SEQ=$((SEQ + 1))
    new_slot "r$SEQ"
    for b in "${PCONS[@]}"; do new_slot "p${SEQ}_$b"; done
    slots+=("$SEQ")
  done
  "$@"
  target=$(wal_end)
  n=$((${#PCONS[@]} + 1))
  r=0
  for s in "${slots[@]}"; do
    r=$((r + 1))
    # Move pg_recvlogical's place round to round and workload to workload,
    # so that no consumer always meets a warmer or busier machine; with a
    # B build, A and B also swap order every round.
    pc=("${PCONS[@]}")
    if [[ -n ${PGCDC_BIN_B:-} ]] && ((r % 2 == 0)); then
      pc=()
      for ((i = ${#PCONS[@]} - 1; i >= 0; i--)); do pc+=("${PCONS[i]}"); done
    fi
    i=$((ROT % n))
    consumers=("${pc[@]:0:i}" recv "${pc[@]:i}")
    for b in "${consumers[@]}"; do
      if [[ $b == recv ]]; then
        run_recv "r$s" "$target"
        drop_slot "r$s"
      else
        local bin=$PGCDC
        [[ $b == *_b ]] && bin=$PGCDC_BIN_B
        run_pgcdc "p${s}_$b" "$target" "${b%_b}" "$bin"
        drop_slot "p${s}_$b"
        p_s[$b]=$PGCDC_S p_cpu[$b]=$PGCDC_CPU p_rss[$b]=$PGCDC_RSS
        p_events[$b]=$EVENTS p_bcpu[$b]=$BROKER_CPU p_commit[$b]=$PGCDC_COMMIT_S
      fi
    done
    ROT=$((ROT + 1))
    for b in "${PCONS[@]}"; do
      if [[ -n ${p_commit[$b]} ]]; then
        PHASES+=("| $b | $name | $r | ${p_s[$b]} | ${p_commit[$b]} | $(awk -v a="${p_commit[$b]}" -v b="${p_s[$b]}" 'BEGIN { printf "%.2f", b - a }') | $RECV_S |")
      fi
      if ((expected > 0 && p_events[$b] != expected)); then
        echo "$name ($b): pgcdc published ${p_events[$b]} events, expected $expected" >&2
        exit 1
      fi
      record "$b" "$key" "$name" "$r" "${p_events[$b]}" "$RECV_S" "${p_s[$b]}" \
        "${p_cpu[$b]}" "${p_rss[$b]}" "${p_bcpu[$b]}" "$RECV_RSS"
    done
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

warm_up
echo "$TABLE_HEAD"
wanted() { [[ $WORKLOADS == *" $1 "* ]]; }
wanted w1 && catch_up "W1: 1 txn × $W1_ROWS rows" w1 "$W1_ROWS" w1
wanted w2 && catch_up "W2: $W2_TXNS 1-row txns" w2 "$W2_TXNS" w2
if wanted w3; then
  # W3's table is filled before its slots exist: not part of the measured
  # WAL. (The doc's subquery refers to s.r so that it runs, randomly, per row.)
  q "INSERT INTO w3 (k, body, doc) SELECT r, repeat(md5(random()::text), 32),
       CASE WHEN r <= 20 THEN (SELECT string_agg(md5(g::text || random()::text), '')
                               FROM generate_series(1, 128) g WHERE s.r > 0) END
     FROM (SELECT (random() * 99)::int + 1 AS r FROM generate_series(1, $W3_FILL)) s"
  catch_up "W3: $W3_TXNS mixed txns, ~1 KB rows + TOAST" w3 0 w3
fi

wanted w4 || W4_RATES=()
for rate in "${W4_RATES[@]}"; do
  for b in "${BROKER_LIST[@]}"; do
    SEQ=$((SEQ + 1))
    slot=p${SEQ}_$b
    new_slot "r$SEQ"
    new_slot "$slot"
    start_pgcdc "$slot" "$b"
    until [[ $(q "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'") == t ]]; do
      sleep 0.1
    done
    sleep 1
    cpu0=$(cpu_secs_exact "$PGCDC_PID")
    bcpu0=$(broker_cpu "$b")
    t0=$(now)
    perf_start "$slot"
    "$PGBENCH" -n -h 127.0.0.1 -p "$PORT" -U postgres -c 4 -j 2 \
      --rate=$((rate / W4_ROWS_PER_TXN)) -T "$W4_SECS" -f "$WORK/w4.sql" postgres \
      >"$WORK/w4-$rate-$b.pgbench" 2>&1
    target=$(wal_end)
    until_reached "$slot" "$target" "$PGCDC_PID"
    PGCDC_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
    perf_stop "$slot" "$b"
    PGCDC_CPU=$(awk -v a="$cpu0" -v b="$(cpu_secs_exact "$PGCDC_PID")" 'BEGIN { printf "%.2f", b - a }')
    BROKER_CPU=$(awk -v a="$bcpu0" -v b="$(broker_cpu "$b")" 'BEGIN { printf "%.2f", b - a }')
    PGCDC_RSS=$(peak_rss_mib "$PGCDC_PID")
    m=$WORK/w4-$rate-$b.metrics
    curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$m"
    EVENTS=$(awk '$1 ~ /^pgcdc_events_total/ { s += $NF } END { printf "%d", s }' "$m")
    p50=$(quantile_ms 0.5 "$m")
    p99=$(quantile_ms 0.99 "$m")
    max=$(awk '$1 == "pgcdc_commit_to_ack_max_seconds" { printf "%.1f", $2 * 1000 }' "$m")
    stop_pgcdc "$slot"
    offered=$(awk '/^tps/ { printf "%d", $3 * '"$W4_ROWS_PER_TXN"' }' "$WORK/w4-$rate-$b.pgbench")
    run_recv "r$SEQ" "$target"
    drop_slot "r$SEQ"
    drop_slot "$slot"
    record "$b" "w4-$rate" "W4: $rate rows/s (achieved $offered) × ${W4_SECS} s" 1 \
      "$EVENTS" "$RECV_S" "$PGCDC_S" "$PGCDC_CPU" "$PGCDC_RSS" "$BROKER_CPU" \
      "$RECV_RSS" "$p50" "$p99" "$max" "$offered"
  done
done

# Per broker, from the rows above: the catch-up ratios (mean over rounds),
# W4's latencies, CPU per million events (W1–W3 together, and W4 at
# 20,000 rows/s), the highest peak RSS. Then the targets for the real
# single broker, each said met or not.
summary() {
  awk -F'\t' -v brokers="${PCONS[*]}" '
    function fmt(x) { return (x == "") ? "—" : x }
    {
      b = $1; k = $2
      if ($8 != "-") { rsum[b, k] += $8; rn[b, k]++; rlist[b, k] = rlist[b, k] (rlist[b, k] == "" ? "" : ", ") $8 }
      if ($9 != "-") { lat[b, k] = $9 " / " $10 " / " $11; p99[b, k] = $10; got[b, k] = $13 }
      if (k ~ /^w[123]$/) { ccpu[b] += $5; cev[b] += $4; cbcpu[b] += $7 }
      if (k == "w4-20000") { wcpu[b] = sprintf("%.2f", $5 / $4 * 1e6); wbcpu[b] = sprintf("%.2f", $7 / $4 * 1e6) }
      if ($6 + 0 > rss[b]) rss[b] = $6 + 0
    }
    function ratio(b, k) { return rn[b, k] ? rsum[b, k] / rn[b, k] : "" }
    function show(b, k,   r, m) {
      r = ratio(b, k); if (r == "") return "—"
      m = ratio("mock", k)
      return sprintf("%.2f", r) (rn[b, k] > 1 ? " (" rlist[b, k] ")" : "") \
        ((b != "mock" && m != "") ? sprintf(", %.2f × mock", r / m) : "")
    }
    END {
      nb = split(brokers, bl, " ")
      print "| broker | W1 ÷ pg_recvlogical | W2 ÷ pg_recvlogical | W3 ÷ pg_recvlogical | W4 5,000 rows/s p50 / p99 / max (ms) | W4 20,000 rows/s p50 / p99 / max (ms) | pgcdc CPU s / M events, W1–W3 | pgcdc CPU s / M events, W4 20,000/s | pgcdc peak RSS (MiB) | broker CPU s / M events, W1–W3 | broker CPU s / M events, W4 20,000/s |"
      print "|---|---|---|---|---|---|---|---|---|---|---|"
      for (i = 1; i <= nb; i++) {
        b = bl[i]
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", b,
          show(b, "w1"), show(b, "w2"), show(b, "w3"),
          fmt(lat[b, "w4-5000"]), fmt(lat[b, "w4-20000"]),
          cev[b] ? sprintf("%.2f", ccpu[b] / cev[b] * 1e6) : "—", fmt(wcpu[b]), rss[b],
          cev[b] ? sprintf("%.2f", cbcpu[b] / cev[b] * 1e6) : "—", fmt(wbcpu[b])
      }
      print ""
      print "Targets on the real single broker:"
      print ""
      if (("single", "w4-20000") in p99) {
        v = p99["single", "w4-20000"]; a = got["single", "w4-20000"]
        # pgbench falls behind its rate on a saturated machine: a p99 at
        # less than 95% of the rate does not count as met.
        printf "- p99 commit → ack at 20,000 rows/s ≤ 20 ms: %s ms, with %s rows/s achieved: **%s**\n", v, a,
          (v + 0 <= 20 && a >= 19000) ? "met" : (v + 0 <= 20 ? "not shown (rate not reached)" : "not met")
      } else {
        print "- p99 commit → ack at 20,000 rows/s ≤ 20 ms: not measured (needs BROKERS with single, WORKLOADS with w4)"
      }
      line = ""; all = 1; any = 0
      for (j = 1; j <= 3; j++) {
        k = "w" j; s = ratio("single", k); m = ratio("mock", k)
        if (s == "" || m == "") continue
        any = 1; f = s / m; if (f < 0.8) all = 0
        line = line sprintf("%sW%d %.2f ÷ %.2f = %.2f", line == "" ? "" : "; ", j, s, m, f)
      }
      if (any)
        printf "- throughput ratio ≥ 0.8 × the mock'"'"'s in the same run: %s: **%s**\n", line, all ? "met" : "not met"
      else
        print "- throughput ratio ≥ 0.8 × the mock'"'"'s: not measured (needs BROKERS with mock and single, WORKLOADS with w1, w2 or w3)"
    }' "$RESULTS"
}

OUT=$(results_path e2e)
{
  echo "# pgcdc vs pg_recvlogical, end to end$( ((QUICK)) && echo ' (--quick)' || true)"
  echo
  report_machine "$PGCDC"
  echo
  B=()
  for b in "${BROKER_LIST[@]}"; do
    case $b in
      mock) B+=("mock = \`pgcdc dev-broker\` (librdkafka's mock cluster, in memory)") ;;
      single) B+=("single = Apache Kafka $(bash scripts/kafka.sh version), 1 node") ;;
      three) B+=("three = Apache Kafka $(bash scripts/kafka.sh version), 3 nodes, replication factor 3, min.insync.replicas 2") ;;
    esac
  done
  printf 'Brokers, all running for the whole run:'
  printf ' %s;' "${B[@]}"
  echo " $PARTITIONS partitions per topic everywhere."
  if [[ " ${BROKER_LIST[*]} " == *" single "* || " ${BROKER_LIST[*]} " == *" three "* ]]; then
    echo "Kafka on $(java -version 2>&1 | head -1), heap ${PGCDC_KAFKA_HEAP:--Xms256m -Xmx1g}; broker settings beyond scripts/kafka.sh's: ${KAFKA_BROKER_SETTINGS:-none}."
  fi
  echo "pgcdc kafka.properties: ${KAFKA_PROPERTIES:-$PGCDC_KAFKA_DEFAULTS}."
  echo
  echo "$TABLE_HEAD"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS_MD[@]}"
  if [[ -n ${PGCDC_BIN_B:-} ]]; then
    echo
    echo "A: $PGCDC; B (rows \"<broker>_b\"): $PGCDC_BIN_B, in the same rounds on the same WAL, A and B swapping order every round."
  fi
  if ((${#PHASES[@]})); then
    echo
    echo "Streamed transactions (W1): pgcdc's time to the Stream Commit (from its log, ms) and from there to the last acknowledgement, the publication; pg_recvlogical's whole run in the same round."
    echo
    echo "| consumer | workload | round | pgcdc (s) | start → Stream Commit (s) | Stream Commit → confirmed (s) | pg_recvlogical (s) |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${PHASES[@]}"
  fi
  echo
  echo "W1–W3: catch-up on the same WAL, each consumer on its own slot created before the workload, one after the other in the same round, from process start until the slot confirmed the WAL end (pgcdc: every event acknowledged by its broker; each broker's ratio is to the round's pg_recvlogical). W4: pgcdc streaming live while pgbench writes at the rate (its time and CPU are the run's, so events/s is the offered rate), latency from the commit timestamp to the broker's acknowledgement of the transaction's last event (pgcdc_commit_to_ack_seconds, p50/p99 interpolated in 1 ms buckets); pg_recvlogical's figures are its catch-up on that WAL afterwards. Broker CPU: every node's JVM (or the dev broker), over the same span as pgcdc's."
  echo
  echo "## Per broker"
  echo
  summary
} | tee "$OUT.md"
{
  echo "# $(machine_line "$PGCDC") Load average before: $LOAD_BEFORE. Brokers: ${BROKER_LIST[*]}; kafka.properties: ${KAFKA_PROPERTIES:-{\}}; Kafka broker settings: ${KAFKA_BROKER_SETTINGS:-none}."
  echo "$CSV_HEAD"
  printf '%s\n' "${ROWS_CSV[@]}"
} >"$OUT.csv"
echo "written to $OUT.md and $OUT.csv"

# This run's rows for bench/history.md, one per broker: the catch-up ratios
# (mean over rounds), W4's latency at 20,000 rows/s, the highest peak RSS.
history_rows() {
  local note head
  note=$(history_note)
  [[ -n ${PGCDC_BIN_B:-} ]] && note+="${note:+; }PGCDC_BIN_B=$PGCDC_BIN_B (rows *_b)"
  [[ -n ${KAFKA_BROKER_SETTINGS:-} ]] && note+="${note:+; }broker $KAFKA_BROKER_SETTINGS"
  head=$(history_head)
  awk -F'\t' -v brokers="${PCONS[*]}" -v head="$head" \
    -v workloads="$(echo $WORKLOADS | tr '[:lower:]' '[:upper:]')" -v note="$note" '
    {
      b = $1; k = $2
      if ($8 != "-") { rsum[b, k] += $8; rn[b, k]++ }
      if (k == "w4-20000") lat[b] = $9 " / " $10
      if ($6 + 0 > rss[b]) rss[b] = $6 + 0
    }
    function ratio(b, k) { return rn[b, k] ? sprintf("%.2f", rsum[b, k] / rn[b, k]) : "–" }
    END {
      nb = split(brokers, bl, " ")
      for (i = 1; i <= nb; i++) {
        b = bl[i]
        printf "%s %s | %s | %s / %s / %s | %s | %s | %s |\n", head, b, workloads,
          ratio(b, "w1"), ratio(b, "w2"), ratio(b, "w3"),
          (b in lat) ? lat[b] : "–", rss[b], note
      }
    }' "$RESULTS"
}
echo
echo "Append to the end-to-end table of bench/history.md (and a note, if the run"
echo "was special), then update bench/README.md's figures if these are the latest:"
history_rows
