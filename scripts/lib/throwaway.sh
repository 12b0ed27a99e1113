# Throwaway PostgreSQL clusters (15, or the one PGCDC_PG_BINDIR names) and
# dev brokers for scripts (demo, bench, corpus capture). Source it; needs
# root (the cluster runs as user postgres).
#
#   workdir_start PREFIX           a temporary directory in WORK, removed on
#                                  exit with its cluster and every process
#                                  whose pid is in the array PIDS
#   free_port                      a random loopback port nothing answers on
#   pg_start DIR PORT [OPTIONS]    initdb + start in DIR/pg, wal_level=logical,
#                                  listening on 127.0.0.1:PORT; OPTIONS are
#                                  extra server settings ("-c name=value ...")
#   pg_stop DIR                    fast shutdown of the cluster in DIR/pg
#   broker_start PGCDC DIR         `pgcdc dev-broker` in the background; sets
#                                  BOOTSTRAP and BROKER_PID
#   machine_line PGCDC [WHAT]      one line saying when, on what machine and
#                                  with which pgcdc a measurement was taken,
#                                  and that WHAT ran on that machine
#                                  (default: PostgreSQL, dev broker and pgcdc)
#   pgcdc_binary                   sets PGCDC: $PGCDC_BIN when given (for A/B
#                                  runs), else builds ./build and uses its

PG_BIN=${PGCDC_PG_BINDIR:-/usr/lib/postgresql/15/bin}

workdir_start() {
  WORK=$(mktemp -d "/tmp/$1-XXXXXX")
  PIDS=()
  trap workdir_cleanup EXIT
}

workdir_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop "$WORK"
  rm -rf "$WORK"
}

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

pg_start() {
  local dir=$1 port=$2
  shift 2
  chmod 755 "$dir"
  mkdir -p "$dir/pg"
  chown postgres "$dir/pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/pg" -U postgres -A trust \
    -E UTF8 --locale=C --no-sync >"$dir/initdb.log"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/pg" -w -t 60 \
    -l "$dir/pg/server.log" -o "-c port=$port -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories=$dir/pg -c wal_level=logical $*" start >/dev/null
}

pg_stop() {
  if [[ -d "$1/pg" ]]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$1/pg" -m fast stop \
      >/dev/null 2>&1 || true
  fi
}

broker_start() {
  local pgcdc=$1 dir=$2
  rm -f "$dir/bootstrap"
  "$pgcdc" dev-broker --bootstrap-file "$dir/bootstrap" >"$dir/broker.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 100); do [[ -s "$dir/bootstrap" ]] && break; sleep 0.1; done
  BOOTSTRAP=$(cat "$dir/bootstrap")
}

machine_line() {
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo); ${2:-PostgreSQL, dev broker and pgcdc} on the same machine; pgcdc $("$1" --version | awk 'NR == 1 { v = $NF } /^librdkafka/ { r = " (" $0 ")" } END { print v r }')."
}

pgcdc_binary() {
  if [[ -n ${PGCDC_BIN:-} ]]; then
    PGCDC=$PGCDC_BIN
  else
    cmake -S . -B build >/dev/null
    cmake --build build -j"$(nproc)" --target pgcdc >/dev/null
    PGCDC=$PWD/build/bin/pgcdc
  fi
}
