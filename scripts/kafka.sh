#!/usr/bin/env bash
# A real Apache Kafka on loopback, from its Maven Central jars (KRaft, no
# ZooKeeper): for the tests, the bench and anyone trying pgcdc.
#
#   scripts/kafka.sh start [--dir DIR] [--nodes 1|3] [--tls] [--sasl]
#                          [--no-auto-create] [--user NAME=PASSWORD]...
#                          [--acl SUPERUSER]
#                          [--partitions N] [--set NAME=VALUE]...
#   scripts/kafka.sh stop [--dir DIR]
#   scripts/kafka.sh status [--dir DIR]
#   scripts/kafka.sh node start|stop|kill N... [--dir DIR]
#   scripts/kafka.sh jars            # resolve the pinned jars; print their dir
#   scripts/kafka.sh version         # the pinned Kafka version
#
# start formats storage, starts each node (every node is broker and
# controller; ports are free loopback ports chosen now and kept for the
# cluster's life), waits until every node accepts requests, then prints the
# bootstrap servers (also in DIR/bootstrap). With 3 nodes, topics get
# replication factor 3 and min.insync.replicas 2 by default. Auto-created
# topics get N partitions (default 1). --set adds a broker setting to every
# node's server.properties (the last one given for a name wins). With --tls
# the client listener is SSL with a certificate for 127.0.0.1/localhost signed by a CA made here
# (DIR/ca.pem); with --sasl it authenticates with SCRAM-SHA-256 and
# SCRAM-SHA-512, for the users given (default: pgcdc with a random password,
# in DIR/password). DIR/client.properties holds the matching librdkafka
# properties for the first user. With --acl (needs --sasl) the brokers
# authorize every request (StandardAuthorizer, nothing allowed without an
# ACL) but those of the user SUPERUSER. Brokers talk among themselves on a
# PLAINTEXT listener of their own. The cluster keeps its files in DIR
# (default /tmp/pgcdc-kafka) until the next start there.
#
# Jars are cached in PGCDC_KAFKA_CACHE (default ~/.cache/pgcdc). Needs Java 17
# and Maven (scripts/install-deps.sh installs both where missing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/maven.sh"

KAFKA_VERSION=4.1.1
LOG4J_VERSION=2.24.3 # the log4j-core kafka_2.13 brings; its SLF4J binding
CACHE=${PGCDC_KAFKA_CACHE:-$HOME/.cache/pgcdc}/kafka-$KAFKA_VERSION
DIR=${PGCDC_KAFKA_DIR:-/tmp/pgcdc-kafka}
HEAP=${PGCDC_KAFKA_HEAP:--Xms256m -Xmx1g}

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

jars() {
  maven_resolve "$CACHE" --into jars \
    "org.apache.kafka:kafka_2.13:$KAFKA_VERSION" \
    "org.apache.kafka:kafka-tools:$KAFKA_VERSION" \
    "org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION" ||
    die "could not resolve Kafka $KAFKA_VERSION from Maven"
  echo "$CACHE/jars"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Node N's settings, read from DIR/cluster.
setting() { sed -n "s/^$1=//p" "$DIR/cluster"; }

# A key and certificate for `san`, signed by the CA, as DIR/tls/NAME.p12.
make_certificate() { # name cn san
  local tls=$DIR/tls
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" \
    -keyout "$tls/$1.key" -out "$tls/$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$3" >"$tls/$1.ext"
  openssl x509 -req -in "$tls/$1.csr" -CA "$DIR/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 30 -extfile "$tls/$1.ext" -out "$tls/$1.pem" 2>/dev/null
  openssl pkcs12 -export -in "$tls/$1.pem" -inkey "$tls/$1.key" \
    -certfile "$DIR/ca.pem" -passout pass:broker-keystore -out "$tls/$1.p12"
}

make_certificates() {
  mkdir -p "$DIR/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=pgcdc test CA" \
    -keyout "$DIR/tls/ca.key" -out "$DIR/ca.pem" 2>/dev/null
  make_certificate broker localhost "IP:127.0.0.1,DNS:localhost"
  make_certificate misnamed misnamed.pgcdc.invalid "DNS:misnamed.pgcdc.invalid"
}

write_node_config() { # node
  local n=$1 voters="" i
  local nodes tls sasl auto acl
  nodes=$(setting nodes)
  acl=$(setting acl)
  tls=$(setting tls)
  sasl=$(setting sasl)
  auto=$(setting auto_create)
  for ((i = 1; i <= nodes; i++)); do
    voters+="${voters:+,}$i@127.0.0.1:$(setting "controller_port_$i")"
  done
  local protocol=PLAINTEXT
  if [[ $tls == 1 && $sasl == 1 ]]; then
    protocol=SASL_SSL
  elif [[ $tls == 1 ]]; then
    protocol=SSL
  elif [[ $sasl == 1 ]]; then
    protocol=SASL_PLAINTEXT
  fi
  local rf=$((nodes < 3 ? nodes : 3)) min_isr=$((nodes < 3 ? 1 : 2))
  local listeners="CLIENT://127.0.0.1:$(setting "client_port_$n"),INTERNAL://127.0.0.1:$(setting "internal_port_$n")"
  local map="CLIENT:$protocol,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"
  local secured=(client)
  if [[ $tls == 1 ]]; then
    listeners+=",MISNAMED://127.0.0.1:$(setting "misnamed_port_$n")"
    map+=",MISNAMED:$protocol"
    secured+=(misnamed)
  fi
  {
    echo "process.roles=broker,controller"
    echo "node.id=$n"
    echo "controller.quorum.voters=$voters"
    echo "listeners=$listeners,CONTROLLER://127.0.0.1:$(setting "controller_port_$n")"
    echo "advertised.listeners=$listeners"
    echo "listener.security.protocol.map=$map"
    echo "inter.broker.listener.name=INTERNAL"
    echo "controller.listener.names=CONTROLLER"
    echo "log.dirs=$DIR/node$n/data"
    echo "num.partitions=$(setting partitions)"
    echo "default.replication.factor=$rf"
    echo "min.insync.replicas=$min_isr"
    echo "auto.create.topics.enable=$auto"
    echo "offsets.topic.replication.factor=$rf"
    echo "transaction.state.log.replication.factor=$rf"
    echo "transaction.state.log.min.isr=$min_isr"
    echo "share.coordinator.state.topic.replication.factor=$rf"
    echo "share.coordinator.state.topic.min.isr=$min_isr"
    echo "group.initial.rebalance.delay.ms=0"
    if [[ -n $acl ]]; then
      echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
      echo "allow.everyone.if.no.acl.found=false"
      # The brokers' own listeners (INTERNAL, CONTROLLER) are PLAINTEXT:
      # their principal is ANONYMOUS.
      echo "super.users=User:ANONYMOUS;User:$acl"
    fi
    # Extra settings last: Kafka keeps the last value of a repeated name.
    sed -n 's/^set=//p' "$DIR/cluster"
    local l
    for l in "${secured[@]}"; do
      if [[ $tls == 1 ]]; then
        local keystore=broker
        [[ $l == misnamed ]] && keystore=misnamed
        echo "listener.name.$l.ssl.keystore.type=PKCS12"
        echo "listener.name.$l.ssl.keystore.location=$DIR/tls/$keystore.p12"
        echo "listener.name.$l.ssl.keystore.password=broker-keystore"
      fi
      if [[ $sasl == 1 ]]; then
        echo "listener.name.$l.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512"
        echo "listener.name.$l.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
        echo "listener.name.$l.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      fi
    done
  } >"$DIR/node$n/server.properties"
  cat >"$DIR/log4j2.xml" <<'EOF'
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_OUT">
    <PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers><Root level="INFO"><AppenderRef ref="out"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.kafka.controller" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/></Loggers>
</Configuration>
EOF
}

java_cmd() { # main-class args...
  # shellcheck disable=SC2086
  java $HEAP -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$DIR/log4j2.xml" -Dkafka.logs.dir="$DIR" \
    -cp "$(jars)/*" "$@"
}

node_pid() { cat "$DIR/node$1/pid" 2>/dev/null || true; }

node_alive() {
  local pid
  pid=$(node_pid "$1")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

node_start() { # node
  local n=$1
  node_alive "$n" && return 0
  # node_wait looks for this start's "started" line, not an earlier run's.
  local offset=0
  [[ -f $DIR/node$n/kafka.log ]] && offset=$(wc -c <"$DIR/node$n/kafka.log")
  echo "$offset" >"$DIR/node$n/log_offset"
  # The JVM options Kafka's own kafka-server-start.sh uses
  # (KAFKA_JVM_PERFORMANCE_OPTS): short G1 pauses, which a produce request
  # waits out.
  setsid bash -c "exec java $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:MaxInlineLevel=15 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile='$DIR/log4j2.xml' -Dkafka.logs.dir='$DIR/node$n' \
    -cp '$(jars)/*' kafka.Kafka '$DIR/node$n/server.properties'" \
    >>"$DIR/node$n/kafka.log" 2>&1 </dev/null &
  echo $! >"$DIR/node$n/pid"
}

node_wait() { # node timeout_s
  local n=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if ! node_alive "$n"; then
      tail -n 30 "$DIR/node$n/kafka.log" >&2
      die "node $n exited while starting (log: $DIR/node$n/kafka.log)"
    fi
    # grep -c reads to the end: with -q, tail could die of SIGPIPE, which
    # pipefail would take for a failure.
    if tail -c "+$(($(cat "$DIR/node$n/log_offset") + 1))" "$DIR/node$n/kafka.log" |
      grep -c "Kafka Server started" >/dev/null &&
      port_open "$(setting "client_port_$n")"; then
      return 0
    fi
    sleep 0.2
  done
  tail -n 30 "$DIR/node$n/kafka.log" >&2
  die "node $n did not start within $2 s (log: $DIR/node$n/kafka.log)"
}

node_stop() { # node signal
  local n=$1 sig=$2 pid
  pid=$(node_pid "$n")
  [[ -z $pid ]] && return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka.sh: node $n did not stop within 60 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$DIR/node$n/pid"
}

bootstrap() {
  local nodes out="" i
  nodes=$(setting nodes)
  for ((i = 1; i <= nodes; i++)); do
    out+="${out:+,}127.0.0.1:$(setting "client_port_$i")"
  done
  echo "$out"
}

cmd_start() {
  local nodes=1 tls=0 sasl=0 auto=true users=() acl="" partitions=1 sets=()
  while (($#)); do
    case $1 in
      --dir) DIR=$2; shift 2 ;;
      --nodes) nodes=$2; shift 2 ;;
      --tls) tls=1; shift ;;
      --sasl) sasl=1; shift ;;
      --no-auto-create) auto=false; shift ;;
      --user) users+=("$2"); shift 2 ;;
      --acl) acl=$2; shift 2 ;;
      --partitions) partitions=$2; shift 2 ;;
      --set) sets+=("$2"); shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  [[ $nodes == 1 || $nodes == 3 ]] || die "--nodes is 1 or 3"
  [[ -z $acl || $sasl == 1 ]] || die "--acl needs --sasl"
  [[ $partitions =~ ^[1-9][0-9]*$ ]] || die "--partitions is a positive number"
  local s
  for s in "${sets[@]}"; do
    [[ $s =~ ^[a-z][a-z0-9._-]*=.*$ ]] || die "--set takes NAME=VALUE, got: $s"
  done
  if [[ -f $DIR/cluster ]]; then cmd_stop; fi
  jars >/dev/null
  rm -rf "$DIR"
  mkdir -p "$DIR"
  if [[ $sasl == 1 && ${#users[@]} -eq 0 ]]; then
    users=("pgcdc=$(openssl rand -hex 12)")
  fi
  {
    echo "nodes=$nodes"
    echo "tls=$tls"
    echo "sasl=$sasl"
    echo "auto_create=$auto"
    echo "acl=$acl"
    echo "partitions=$partitions"
    for s in "${sets[@]}"; do echo "set=$s"; done
    local i
    for ((i = 1; i <= nodes; i++)); do
      echo "client_port_$i=$(free_port)"
      echo "internal_port_$i=$(free_port)"
      echo "controller_port_$i=$(free_port)"
      echo "misnamed_port_$i=$(free_port)"
    done
  } >"$DIR/cluster"
  [[ $tls == 1 ]] && make_certificates
  local cluster_id scram=()
  cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  for u in "${users[@]}"; do
    scram+=(-S "SCRAM-SHA-256=[name=${u%%=*},password=${u#*=}]")
    scram+=(-S "SCRAM-SHA-512=[name=${u%%=*},password=${u#*=}]")
  done
  for ((i = 1; i <= nodes; i++)); do
    mkdir -p "$DIR/node$i"
    write_node_config "$i"
    if ! java_cmd kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$DIR/node$i/server.properties" "${scram[@]}" >"$DIR/node$i/format.log" 2>&1; then
      cat "$DIR/node$i/format.log" >&2
      die "formatting node $i failed"
    fi
  done
  for ((i = 1; i <= nodes; i++)); do node_start "$i"; done
  for ((i = 1; i <= nodes; i++)); do node_wait "$i" 120; done
  bootstrap >"$DIR/bootstrap"
  [[ $tls == 1 ]] && echo "127.0.0.1:$(setting misnamed_port_1)" >"$DIR/misnamed"
  {
    if [[ $tls == 1 && $sasl == 1 ]]; then
      echo "security.protocol=SASL_SSL"
    elif [[ $tls == 1 ]]; then
      echo "security.protocol=SSL"
    elif [[ $sasl == 1 ]]; then
      echo "security.protocol=SASL_PLAINTEXT"
    fi
    [[ $tls == 1 ]] && echo "ssl.ca.location=$DIR/ca.pem"
    if [[ $sasl == 1 ]]; then
      echo "sasl.mechanism=SCRAM-SHA-512"
      echo "sasl.username=${users[0]%%=*}"
      echo "sasl.password=${users[0]#*=}"
      echo "${users[0]#*=}" >"$DIR/password"
    fi
  } >"$DIR/client.properties"
  chmod 600 "$DIR/client.properties"
  cat "$DIR/bootstrap"
}

cmd_stop() {
  [[ -f $DIR/cluster ]] || return 0
  local nodes i
  nodes=$(setting nodes)
  for ((i = 1; i <= nodes; i++)); do node_stop "$i" TERM & done
  wait
}

cmd_status() {
  [[ -f $DIR/cluster ]] || die "no cluster in $DIR"
  local nodes i up=0
  nodes=$(setting nodes)
  for ((i = 1; i <= nodes; i++)); do
    if node_alive "$i" && port_open "$(setting "client_port_$i")"; then
      echo "node $i: up (pid $(node_pid "$i"), 127.0.0.1:$(setting "client_port_$i"))"
      up=$((up + 1))
    else
      echo "node $i: down"
    fi
  done
  echo "bootstrap: $(bootstrap)"
  ((up == nodes))
}

cmd_node() { # start|stop|kill N...
  local action=$1 nodes=() n
  shift
  while (($#)); do
    case $1 in
      --dir) DIR=$2; shift 2 ;;
      [0-9]*) nodes+=("$1"); shift ;;
      *) die "node: unknown option $1" ;;
    esac
  done
  ((${#nodes[@]})) || die "node: which node(s)?"
  [[ -f $DIR/cluster ]] || die "no cluster in $DIR"
  case $action in
    # Together: a node of a 3-node cluster does not finish starting until a
    # quorum of controllers is up.
    start)
      for n in "${nodes[@]}"; do node_start "$n"; done
      for n in "${nodes[@]}"; do node_wait "$n" 120; done
      ;;
    stop) for n in "${nodes[@]}"; do node_stop "$n" TERM & done; wait ;;
    kill) for n in "${nodes[@]}"; do node_stop "$n" KILL & done; wait ;;
    *) die "node: start, stop or kill" ;;
  esac
}

cmd=${1:-}
shift || true
case $cmd in
  start) cmd_start "$@" ;;
  stop | status)
    while (($#)); do
      case $1 in
        --dir) DIR=$2; shift 2 ;;
        *) die "$cmd: unknown option $1" ;;
      esac
    done
    "cmd_$cmd"
    ;;
  node) cmd_node "$@" ;;
  jars) jars ;;
  version) echo "$KAFKA_VERSION" ;;
  *) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
