#!/usr/bin/env bash
# A five-minute tour on a fresh Debian 12 machine (as root): installs what is
# missing, builds pgcdc, starts a throwaway PostgreSQL 15 (as the postgres
# user, in a temporary directory) and the dev broker, runs pgcdc, makes a few
# changes and shows the decoded change events. Everything is removed on exit.
#
#   bash scripts/demo.sh           # with the dev broker (librdkafka's mock)
#   bash scripts/demo.sh --kafka   # with a real Apache Kafka 4.1.1 on loopback
#                                  # (scripts/kafka.sh; topic auto-creation
#                                  # off, so pgcdc creates its topics)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
REAL_KAFKA=0
case ${1:-} in
  --kafka) REAL_KAFKA=1 ;;
  "") ;;
  *) echo "usage: $0 [--kafka]" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target pgcdc
PGCDC="$ROOT/build/bin/pgcdc"
source scripts/lib/throwaway.sh

workdir_start pgcdc-demo

PGPORT=$(free_port)
METRICS_PORT=$(free_port)

echo "== starting PostgreSQL 15 on port $PGPORT (wal_level=logical)"
pg_start "$WORK" "$PGPORT"
PSQL=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -c "CREATE TABLE customers (id int PRIMARY KEY, name text, email text);
                 CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, total numeric(10,2), status text);"

if ((REAL_KAFKA)); then
  echo "== starting Apache Kafka (scripts/kafka.sh: one KRaft node, auto-creation off)"
  trap 'bash scripts/kafka.sh stop --dir "$WORK/kafka" >/dev/null 2>&1 || true; workdir_cleanup' EXIT
  BOOTSTRAP=$(bash scripts/kafka.sh start --dir "$WORK/kafka" --no-auto-create | tail -1)
else
  echo "== starting the dev broker (librdkafka mock cluster: in memory, ~5 MB per partition)"
  broker_start "$PGCDC" "$WORK"
  PIDS+=("$BROKER_PID")
fi
echo "   bootstrap servers: $BOOTSTRAP"

cat >"$WORK/pgcdc.yaml" <<YAML
source:
  dsn: "host=127.0.0.1 port=$PGPORT dbname=postgres user=postgres"
  slot: pgcdc
  publication: pgcdc
  tables: [public.customers, public.orders]
kafka:
  bootstrap_servers: "$BOOTSTRAP"
  topic_prefix: app
metrics:
  listen: "127.0.0.1:$METRICS_PORT"
YAML
echo "== pgcdc.yaml"; sed 's/^/   /' "$WORK/pgcdc.yaml"
echo "== pgcdc check --config pgcdc.yaml"
"$PGCDC" check --config "$WORK/pgcdc.yaml" | sed 's/^/   /'

echo "== starting pgcdc run --config pgcdc.yaml"
"$PGCDC" run --config "$WORK/pgcdc.yaml" >"$WORK/pgcdc.log" 2>&1 &
PGCDC_PID=$!
PIDS+=($PGCDC_PID)
for _ in $(seq 100); do
  [[ $("${PSQL[@]}" -tAc "SELECT count(*) FROM pg_replication_slots WHERE active") == 1 ]] && break
  sleep 0.1
done

echo "== making changes"
"${PSQL[@]}" <<'SQL'
INSERT INTO customers VALUES (1, 'Ada Lovelace', 'ada@example.com'), (2, 'Alan Turing', 'alan@example.com');
BEGIN;
INSERT INTO orders VALUES (100, 1, 25.50, 'new');
UPDATE customers SET email = 'ada@analytical.engine' WHERE id = 1;
COMMIT;
UPDATE orders SET status = 'paid' WHERE id = 100;
DELETE FROM customers WHERE id = 2;
SQL

echo "== app.public.customers (pgcdc tail --from-beginning)"
"$PGCDC" tail --bootstrap-servers "$BOOTSTRAP" --topic app.public.customers --from-beginning --max-messages 4 --idle-exit-ms 10000
echo "== app.public.orders"
"$PGCDC" tail --bootstrap-servers "$BOOTSTRAP" --topic app.public.orders --from-beginning --max-messages 2 --idle-exit-ms 10000

sleep 1
echo "== a few metrics from http://127.0.0.1:$METRICS_PORT/metrics"
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^pgcdc_(events_total|transactions_total|confirmed_lsn|lag_bytes|connected)' | sed 's/^/   /'

echo "== health: /healthz (alive) and /readyz (streaming, Kafka reachable)"
echo "   /healthz: $(curl -s "http://127.0.0.1:$METRICS_PORT/healthz")"
echo "   /readyz:  $(curl -s "http://127.0.0.1:$METRICS_PORT/readyz")"

echo "== stopping pgcdc (SIGTERM: waits for acks, confirms, exits 0)"
kill -TERM "$PGCDC_PID"
wait "$PGCDC_PID" && echo "   pgcdc exited 0"
echo "   slot position: $("${PSQL[@]}" -tAc "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'pgcdc'")"
echo "== pgcdc log"; sed 's/^/   /' "$WORK/pgcdc.log"
