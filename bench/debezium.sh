#!/usr/bin/env bash
# Debezium's PostgreSQL connector under Kafka Connect standalone, from Maven
# Central's jars: the contender of bench/vs_debezium.sh.
#
#   bench/debezium.sh jars       # resolve the pinned jars; print the
#                                # worker's classpath dir and the plugin path
#   bench/debezium.sh start --dir DIR --bootstrap HOST:PORT --pg-port PORT \
#       --slot NAME --publication NAME --tables public.a,public.b \
#       [--topic-prefix dbz] [--set NAME=VALUE]...
#                                # start (or restart, keeping DIR's offsets)
#                                # one worker; print its pid (also DIR/pid)
#   bench/debezium.sh wait --dir DIR   # until the connector and its task
#                                # are RUNNING (REST status)
#   bench/debezium.sh stop --dir DIR   # SIGTERM: offsets flushed, clean stop
#   bench/debezium.sh version    # the pinned versions
#
# The worker is org.apache.kafka.connect.cli.ConnectStandalone from
# connect-runtime + connect-json CONNECT_VERSION (the Kafka version Debezium
# DEBEZIUM_VERSION is built against) with log4j2 and its SLF4J binding; the
# connector (debezium-connector-postgres and its runtime dependencies) is a
# plugin directory of its own on plugin.path, without connect-api and
# kafka-clients, which the worker provides. JsonConverter for keys and
# values (schemas on, Connect's default), a file offset store flushed every
# second (Debezium confirms the slot only then), plugin.discovery
# service_load, and the throughput settings of Debezium's documentation:
# max.batch.size 8192, max.queue.size 32768, poll.interval.ms 100, producer
# batch.size 1 MiB, linger.ms 5, lz4. snapshot.mode no_data: a fresh DIR
# starts streaming at the slot (which the caller makes, with the
# publication); a restart resumes at DIR's offsets. --set adds or overrides
# a connector property. Heap: DEBEZIUM_HEAP (default Connect's script's,
# -Xms256M -Xmx2G). Jars are cached in PGCDC_KAFKA_CACHE (default
# ~/.cache/pgcdc), like scripts/kafka.sh's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/maven.sh"

CONNECT_VERSION=4.3.0
DEBEZIUM_VERSION=3.6.1.Final
LOG4J_VERSION=2.24.3
CACHE=${PGCDC_KAFKA_CACHE:-$HOME/.cache/pgcdc}/connect-$CONNECT_VERSION-debezium-$DEBEZIUM_VERSION
HEAP=${DEBEZIUM_HEAP:--Xms256M -Xmx2G}

die() {
  echo "debezium.sh: $*" >&2
  exit 1
}

jars() {
  # connect-api and connect-transforms are provided-scope in Debezium's pom;
  # the exclusion keeps them (and kafka-clients, slf4j-api) out whatever
  # brings them, and kafka-clients' compression libraries: the worker's own
  # must be the only ones.
  maven_resolve "$CACHE" --into worker \
    "org.apache.kafka:connect-runtime:$CONNECT_VERSION" \
    "org.apache.kafka:connect-json:$CONNECT_VERSION" \
    "org.apache.logging.log4j:log4j-core:$LOG4J_VERSION" \
    "org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION" \
    --into plugins/debezium-connector-postgres \
    --exclude connect-api,connect-transforms,kafka-clients,lz4-java,snappy-java,zstd-jni,slf4j-api \
    "io.debezium:debezium-connector-postgres:$DEBEZIUM_VERSION" ||
    die "could not resolve Debezium $DEBEZIUM_VERSION and Kafka Connect $CONNECT_VERSION from Maven"
  echo "$CACHE/worker $CACHE/plugins"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

status_json() { curl -sf "http://127.0.0.1:$(cat "$DIR/rest_port")/connectors/$NAME/status"; }

cmd_start() {
  local bootstrap="" pg_port="" slot="" publication="" tables="" prefix=dbz sets=()
  while (($#)); do
    case $1 in
      --dir) DIR=$2; shift 2 ;;
      --bootstrap) bootstrap=$2; shift 2 ;;
      --pg-port) pg_port=$2; shift 2 ;;
      --slot) slot=$2; shift 2 ;;
      --publication) publication=$2; shift 2 ;;
      --tables) tables=$2; shift 2 ;;
      --topic-prefix) prefix=$2; shift 2 ;;
      --set) sets+=("$2"); shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  [[ -n $DIR && -n $bootstrap && -n $pg_port && -n $slot && -n $publication && -n $tables ]] ||
    die "start needs --dir, --bootstrap, --pg-port, --slot, --publication and --tables"
  local worker plugins
  read -r worker plugins < <(jars)
  mkdir -p "$DIR"
  if [[ -f $DIR/pid ]] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
    die "a worker already runs from $DIR (pid $(cat "$DIR/pid"))"
  fi
  [[ -f $DIR/rest_port ]] || free_port >"$DIR/rest_port"
  cat >"$DIR/worker.properties" <<EOF
bootstrap.servers=$bootstrap
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$DIR/offsets
offset.flush.interval.ms=1000
plugin.path=$plugins
plugin.discovery=service_load
listeners=http://127.0.0.1:$(cat "$DIR/rest_port")
producer.batch.size=1048576
producer.linger.ms=5
producer.compression.type=lz4
EOF
  {
    echo "name=$NAME"
    echo "connector.class=io.debezium.connector.postgresql.PostgresConnector"
    echo "tasks.max=1"
    echo "database.hostname=127.0.0.1"
    echo "database.port=$pg_port"
    echo "database.user=postgres"
    echo "database.password="
    echo "database.dbname=postgres"
    echo "topic.prefix=$prefix"
    echo "plugin.name=pgoutput"
    echo "slot.name=$slot"
    echo "publication.name=$publication"
    echo "publication.autocreate.mode=disabled"
    echo "table.include.list=$tables"
    echo "snapshot.mode=no_data"
    echo "max.batch.size=8192"
    echo "max.queue.size=32768"
    echo "poll.interval.ms=100"
    # Last, so that they win.
    printf '%s\n' "${sets[@]}"
  } >"$DIR/connector.properties"
  cat >"$DIR/log4j2.xml" <<'EOF'
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_OUT">
    <PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers><Root level="INFO"><AppenderRef ref="out"/></Root></Loggers>
</Configuration>
EOF
  # Connect's connect-standalone.sh JVM options (KAFKA_HEAP_OPTS,
  # KAFKA_JVM_PERFORMANCE_OPTS).
  # shellcheck disable=SC2086
  java $HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:MaxInlineLevel=15 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$DIR/log4j2.xml" -cp "$worker/*" \
    org.apache.kafka.connect.cli.ConnectStandalone \
    "$DIR/worker.properties" "$DIR/connector.properties" \
    >>"$DIR/connect.log" 2>&1 </dev/null &
  echo $! >"$DIR/pid"
  cat "$DIR/pid"
}

cmd_wait() {
  local deadline=$((SECONDS + 120)) pid
  pid=$(cat "$DIR/pid")
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$DIR/connect.log" >&2; die "the worker exited"; }
    # RUNNING twice: the connector's and its one task's.
    if [[ $(status_json 2>/dev/null | grep -o '"state":"RUNNING"' | wc -l) -ge 2 ]]; then
      return 0
    fi
    if status_json 2>/dev/null | grep -q '"state":"FAILED"'; then
      status_json >&2 || true
      die "the connector failed (log: $DIR/connect.log)"
    fi
    sleep 0.2
  done
  tail -n 30 "$DIR/connect.log" >&2
  die "not RUNNING within 120 s (log: $DIR/connect.log)"
}

cmd_stop() {
  [[ -f $DIR/pid ]] || return 0
  local pid deadline=$((SECONDS + 60))
  pid=$(cat "$DIR/pid")
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "debezium.sh: the worker did not stop within 60 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/pid"
}

NAME=debezium-bench
DIR=
cmd=${1:-}
shift || true
case $cmd in
  start) cmd_start "$@" ;;
  wait | stop)
    while (($#)); do
      case $1 in
        --dir) DIR=$2; shift 2 ;;
        *) die "$cmd: unknown option $1" ;;
      esac
    done
    [[ -n $DIR ]] || die "$cmd needs --dir"
    "cmd_$cmd"
    ;;
  jars) jars ;;
  version) echo "Debezium $DEBEZIUM_VERSION on Kafka Connect $CONNECT_VERSION (standalone)" ;;
  *) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
