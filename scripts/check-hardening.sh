#!/usr/bin/env bash
# Checks deploy/pgcdc.service against what pgcdc does, as root on Debian 12,
# with or without a running systemd (needs strace and systemd-analyze: it
# installs Debian's strace and systemd packages when they are missing, which
# the test suite does not need):
#
#   1. `systemd-analyze verify` and `systemd-analyze security --offline` of
#      the unit (verify against a scratch root holding the built binary at
#      the unit's ExecStart path).
#   2. pgcdc in the unit's sandbox, emulated (scripts/lib/unit_sandbox.sh:
#      an unprivileged user without capabilities, a read-only file system
#      but for a private /tmp and /var/cache/pgcdc, a minimal /dev, a proc
#      showing only its own processes) under the seccomp filter systemd
#      builds from the unit (scripts/lib/seccomp_unit.c: SystemCallFilter
#      as systemd-analyze expands it, SystemCallErrorNumber,
#      SystemCallArchitectures, MemoryDenyWriteExecute,
#      RestrictAddressFamilies, RestrictNamespaces, LockPersonality,
#      RestrictRealtime), traced by strace, through every path a service
#      takes: check; TLS to PostgreSQL (sslmode=verify-full) and to Kafka (a
#      handshake with openssl s_server); the initial snapshot; streaming; a
#      transaction the server streams and pgcdc spills to disk; heartbeats;
#      a metrics scrape; an incremental snapshot; a lost replication
#      connection and the reconnect; SIGTERM.
#   3. The traces: each system call against the filter, each socket family,
#      memory made executable, namespaces, and what pgcdc was refused
#      (EPERM, EAFNOSUPPORT, ENOSYS, EACCES, EROFS, ENOENT under /proc, /sys
#      and /dev) that it got along without.
#
# What it cannot show: systemd's own setup (DynamicUser's allocation,
# LoadCredential's ramfs, the cgroup device policy, ProtectClock,
# ProtectHostname, ProtectKernelModules/Logs beyond the read-only /sys and
# the filter) — `systemd-analyze verify` checks those parse.
#
# Exits 1 when pgcdc fails in the sandbox or does something the unit
# forbids. Traces and findings stay in $KEEP (default: a fresh directory,
# printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
UNIT=$ROOT/deploy/pgcdc.service

bash scripts/install-deps.sh
if ! command -v strace >/dev/null || ! command -v systemd-analyze >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends strace systemd
fi
for tool in strace systemd-analyze openssl curl psql cc unshare setpriv; do
  command -v "$tool" >/dev/null || {
    echo "check-hardening: $tool is missing (bash scripts/install-deps.sh)" >&2
    exit 2
  }
done
source scripts/lib/throwaway.sh
pgcdc_binary
workdir_start pgcdc-hardening
KEEP=${KEEP:-$(mktemp -d /tmp/pgcdc-hardening-result-XXXXXX)}
mkdir -p "$KEEP"
status=0
fail() {
  echo "FAIL  $*"
  status=1
}
ok() { echo "ok    $*"; }
note() { echo "note  $*"; }

# --- 1. The unit file --------------------------------------------------------
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$UNIT")
mkdir -p "$WORK/root$(dirname "$exec_path")" "$WORK/root/etc/systemd/system" \
  "$WORK/root/lib/systemd"
cp "$PGCDC" "$WORK/root$exec_path"
cp "$UNIT" "$WORK/root/etc/systemd/system/"
cp -a /lib/systemd/system "$WORK/root/lib/systemd/"
if systemd-analyze verify --root="$WORK/root" pgcdc.service \
  >"$KEEP/verify.txt" 2>&1 && [[ ! -s "$KEEP/verify.txt" ]]; then
  ok "systemd-analyze verify: no complaints"
else
  fail "systemd-analyze verify:"
  sed 's/^/      /' "$KEEP/verify.txt"
fi
rm -rf "$WORK/root"
systemd-analyze security --offline=true "$UNIT" >"$KEEP/security.txt" 2>&1 || true
ok "systemd-analyze security --offline: $(grep -o 'exposure level.*' "$KEEP/security.txt")"

# --- The filter --------------------------------------------------------------
expand_group() { # the system calls of a group, nested groups expanded
  systemd-analyze syscall-filter "$1" | awk 'NR > 1 && $1 !~ /^#/ { print $1 }' |
    while read -r entry; do
      if [[ $entry == @* ]]; then expand_group "$entry"; else echo "$entry"; fi
    done
}
# SystemCallFilter= lines: the first is an allow list, a later ~ removes.
: >"$WORK/allowed"
while read -r line; do
  if [[ $line == "~"* ]]; then
    for group in ${line#\~}; do expand_group "$group"; done | sort -u >"$WORK/removed"
    comm -23 "$WORK/allowed" "$WORK/removed" >"$WORK/allowed.new"
    mv "$WORK/allowed.new" "$WORK/allowed"
  else
    for group in $line; do expand_group "$group"; done | sort -u >>"$WORK/allowed"
    sort -u -o "$WORK/allowed" "$WORK/allowed"
  fi
done < <(sed -n 's/^SystemCallFilter=//p' "$UNIT")
cp "$WORK/allowed" "$KEEP/allowed-syscalls.txt"
grep -qx 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' "$UNIT" &&
  grep -qx 'MemoryDenyWriteExecute=yes' "$UNIT" &&
  grep -qx 'RestrictNamespaces=yes' "$UNIT" &&
  grep -qx 'SystemCallErrorNumber=EPERM' "$UNIT" ||
  fail "the unit's filter settings differ from what scripts/lib/seccomp_unit.c emulates"
mkdir -p "$WORK/gen"
while read -r name; do
  printf '#ifdef __NR_%s\n__NR_%s,\n#endif\n' "$name" "$name"
done <"$WORK/allowed" >"$WORK/gen/allowed.h"
cc -O2 -Wall -Werror -I"$WORK/gen" -o "$WORK/seccomp_unit" scripts/lib/seccomp_unit.c
# The filter filters: a plain program runs, one that needs what the unit
# forbids does not.
if "$WORK/seccomp_unit" /bin/true &&
  ! "$WORK/seccomp_unit" /usr/bin/unshare --user true 2>/dev/null &&
  ! "$WORK/seccomp_unit" /usr/bin/setpriv --reuid=0 true 2>/dev/null; then
  ok "the emulated filter runs /bin/true and refuses unshare --user and setuid"
else
  fail "the emulated filter does not behave as the unit's"
fi

# --- 2. pgcdc in the sandbox -------------------------------------------------
SANDBOX_UID=61234 # like a DynamicUser: no name, no files, no groups
BOX=/run/pgcdc-hardening # $WORK inside the sandbox
chmod 755 "$WORK"
cp "$PGCDC" "$WORK/pgcdc"
mkdir -p "$WORK/out"
chown "$SANDBOX_UID" "$WORK/out"
TLS=$WORK/tls
mkdir -p "$TLS"
(
  cd "$TLS"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=hardening CA' \
    -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj '/CN=db.internal' \
    -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=DNS:db.internal,IP:127.0.0.1\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 1 -extfile san.ext -out server.crt 2>/dev/null
  chown postgres server.key server.crt
  chmod 600 server.key ca.key
  chmod 644 ca.crt
)
chmod 755 "$TLS"
PGPORT=$(free_port)
# Its Unix socket where the sandbox shows it read-only as /run/postgresql;
# a small logical_decoding_work_mem, so that the big transaction is
# streamed.
mkdir -m 755 "$WORK/pgsock"
chown postgres "$WORK/pgsock"
pg_start "$WORK" "$PGPORT" -c ssl=on -c "ssl_cert_file=$TLS/server.crt" \
  -c "ssl_key_file=$TLS/server.key" -c logical_decoding_work_mem=64kB \
  -c "unix_socket_directories=$WORK/pgsock"
PSQL=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "CREATE TABLE customers (id int PRIMARY KEY, name text);
                 CREATE TABLE orders (id bigint PRIMARY KEY, customer int, note text);
                 INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 1000) g;"
broker_start "$PGCDC" "$WORK"
PIDS+=("$BROKER_PID")
METRICS_PORT=$(free_port)
# As the deploy example has it, but for the addresses; no spill_directory:
# the unit's TMPDIR decides.
cat >"$WORK/pgcdc.yaml" <<YAML
source:
  dsn: "host=db.internal hostaddr=127.0.0.1 port=$PGPORT dbname=postgres user=postgres sslmode=verify-full sslrootcert=$BOX/tls/ca.crt"
  slot: pgcdc
  publication: pgcdc
  tables: [public.customers, public.orders]
  heartbeat_interval_ms: 200
  spill_memory_bytes: 0
kafka:
  bootstrap_servers: "$BOOTSTRAP"
  topic_prefix: app
metrics:
  listen: "127.0.0.1:$METRICS_PORT"
messages:
  prefixes: [outbox]
YAML
chmod 644 "$WORK/pgcdc.yaml"
# sandboxed NAME ARG...: pgcdc ARG... in the sandbox, traced to trace.NAME.
sandboxed() {
  local name=$1
  shift
  unshare --mount --pid --fork --propagation private -- \
    bash "$ROOT/scripts/lib/unit_sandbox.sh" "$WORK" "$SANDBOX_UID" \
    strace -f -qq -s 64 -o "$BOX/out/trace.$name" \
    "$BOX/seccomp_unit" "$BOX/pgcdc" "$@"
}

echo "== pgcdc check, with a TLS handshake with a Kafka broker (openssl s_server)"
KPORT=$(free_port)
openssl s_server -accept "127.0.0.1:$KPORT" -cert "$TLS/server.crt" \
  -key "$TLS/server.key" -quiet >/dev/null 2>&1 &
PIDS+=($!)
sed -e "s|bootstrap_servers: .*|bootstrap_servers: \"127.0.0.1:$KPORT\"|" \
  -e "s|topic_prefix: app|topic_prefix: app\n  properties: {security.protocol: ssl, ssl.ca.location: \"$BOX/tls/ca.crt\"}|" \
  "$WORK/pgcdc.yaml" >"$WORK/kafka-tls.yaml"
chmod 644 "$WORK/kafka-tls.yaml"
sandboxed check-tls check --config "$BOX/kafka-tls.yaml" >"$KEEP/check-tls.out" 2>&1 || true
grep -q "APIVERSION_QUERY" "$KEEP/check-tls.out" ||
  fail "check with Kafka over TLS did not get past the handshake: $(cat "$KEEP/check-tls.out")"
# A Unix socket in a read-only directory (ProtectSystem=strict).
sed "s|dsn: .*|dsn: \"host=/run/postgresql port=$PGPORT dbname=postgres user=postgres\"|" \
  "$WORK/pgcdc.yaml" >"$WORK/unix.yaml"
chmod 644 "$WORK/unix.yaml"
if sandboxed check-unix check --config "$BOX/unix.yaml" >"$KEEP/check-unix.out" 2>&1; then
  ok "pgcdc check over a Unix socket in a read-only /run/postgresql"
else
  fail "pgcdc check over a Unix socket:"
  sed 's/^/      /' "$KEEP/check-unix.out"
fi
if sandboxed check check --config "$BOX/pgcdc.yaml" >"$KEEP/check.out" 2>&1; then
  ok "pgcdc check passes in the sandbox (spill directory: $(grep -o 'spill directory [^ ]*' "$KEEP/check.out"))"
else
  fail "pgcdc check in the sandbox:"
  sed 's/^/      /' "$KEEP/check.out"
fi

echo "== pgcdc run: snapshot, stream, spill, heartbeats, metrics, incremental snapshot, reconnect"
sandboxed run run --config "$BOX/pgcdc.yaml" >"$KEEP/run.log" 2>&1 &
UNSHARE_PID=$!
# The sandbox's processes: killing its pid 1 (strace) ends them all.
descendants() {
  local child
  for child in $(pgrep -P "$1"); do
    echo "$child"
    descendants "$child"
  done
}
end_sandbox() {
  for pid in $(descendants "$UNSHARE_PID"); do kill -KILL "$pid" 2>/dev/null || true; done
  workdir_cleanup
}
trap end_sandbox EXIT
wait_for() { # SQL that must return t
  for _ in $(seq 300); do
    [[ $("${PSQL[@]}" -tAc "$1") == t ]] && return 0
    sleep 0.2
  done
  echo "timed out waiting for: $1" >&2
  sed 's/^/   /' "$KEEP/run.log" >&2
  return 1
}
streaming="SELECT EXISTS (SELECT 1 FROM pg_stat_replication WHERE state = 'streaming')"
wait_for "$streaming"
"${PSQL[@]}" -o /dev/null -c "INSERT INTO orders SELECT g, g % 1000 + 1, repeat('x', 100)
                 FROM generate_series(1, 50000) g;
                 UPDATE customers SET name = name || '!' WHERE id <= 10;
                 SELECT pg_logical_emit_message(true, 'outbox', 'hello');"
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics.txt"
# An operator's command, outside the sandbox (where the CA is in $WORK).
sed "s|$BOX/|$WORK/|" "$WORK/pgcdc.yaml" >"$WORK/operator.yaml"
"$PGCDC" snapshot --config "$WORK/operator.yaml" --table public.customers \
  >"$KEEP/snapshot.out" 2>&1
for _ in $(seq 300); do
  grep -q 'public.customers read' "$KEEP/run.log" && break
  sleep 0.2
done
"${PSQL[@]}" -o /dev/null -c "SELECT pg_terminate_backend(pid) FROM pg_stat_replication"
sleep 1
wait_for "$streaming"
"${PSQL[@]}" -c "INSERT INTO customers VALUES (5000, 'after reconnect')"
lsn=$("${PSQL[@]}" -tAc "SELECT pg_current_wal_lsn()")
wait_for "SELECT confirmed_flush_lsn >= '$lsn' FROM pg_replication_slots WHERE slot_name = 'pgcdc'"
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >>"$WORK/metrics.txt"
# pgcdc: the process of that name in the sandbox.
for pid in $(descendants "$UNSHARE_PID"); do
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == pgcdc ]] && kill -TERM "$pid"
done
if wait "$UNSHARE_PID"; then
  ok "pgcdc run in the sandbox: snapshot, stream, incremental snapshot, reconnect, exit 0 on SIGTERM"
else
  fail "pgcdc run in the sandbox did not exit 0 on SIGTERM"
fi
grep -q "reconnecting" "$KEEP/run.log" || fail "the scenario did not reconnect"
grep -q "public.customers read" "$KEEP/run.log" || fail "no incremental snapshot"
grep -q "heartbeat failed" "$KEEP/run.log" && fail "heartbeats failed"
spilled=$(awk '/^pgcdc_stream_spilled_bytes_total/ { print $2 }' "$WORK/metrics.txt" | tail -1)
[[ ${spilled:-0} != 0 ]] ||
  fail "nothing was spilled: the large transaction did not take that path"
ok "spilled $spilled bytes of a streamed transaction to the unit's TMPDIR"

# --- 3. The traces -----------------------------------------------------------
# What pgcdc did (the lines before it was exec'd are the loader's).
for trace in "$WORK"/out/trace.*; do
  awk -v exe="execve(\"$BOX/pgcdc\"" 'found || index($0, exe) { found = 1; print }' \
    "$trace" >"$KEEP/$(basename "$trace")"
done
cat "$KEEP"/trace.* >"$WORK/trace"
sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)[( ].*/\2/p' "$WORK/trace" |
  grep -v '^resumed$' | sort | uniq -c | sort -rn >"$KEEP/syscalls.txt"
awk '{ print $2 }' "$KEEP/syscalls.txt" | sort -u >"$WORK/used"
outside=$(comm -23 "$WORK/used" "$WORK/allowed" | tr '\n' ' ')
if [[ -z $outside ]]; then
  ok "SystemCallFilter: the $(wc -l <"$WORK/used") system calls pgcdc made are all allowed"
else
  fail "SystemCallFilter: pgcdc made system calls the unit does not allow: $outside"
fi
families=$(grep -oE ' socket\(AF_[A-Z0-9]+' "$WORK/trace" | sed 's/.*(//' | sort -u | tr '\n' ' ')
note "socket families pgcdc asked for: $families"
grep -E ' (mmap|mprotect|pkey_mprotect|shmat)\(' "$WORK/trace" |
  grep -E 'PROT_EXEC|SHM_EXEC' | grep -E 'PROT_WRITE|mprotect|SHM_EXEC' >"$KEEP/wx.txt" || true
if [[ -s "$KEEP/wx.txt" ]]; then
  fail "MemoryDenyWriteExecute: $(head -3 "$KEEP/wx.txt")"
else
  ok "MemoryDenyWriteExecute: no writable+executable mapping, nothing made executable"
fi
ns=$(grep -E ' (clone|unshare|setns)\(' "$WORK/trace" | grep -oE 'CLONE_NEW[A-Z]+' | sort -u | tr '\n' ' ' || true)
[[ -z $ns ]] && ok "RestrictNamespaces: no namespaces asked for" || fail "RestrictNamespaces: $ns"
# Everything refused, and by what: pgcdc went on without it (it exited 0).
grep -E '= -1 (EPERM|EAFNOSUPPORT|ENOSYS|EACCES|EROFS)' "$WORK/trace" |
  sed -E 's/^[0-9]+ +//; s/0x[0-9a-f]+/0x…/g; s/, [0-9]+\)/, N)/g' |
  sort | uniq -c | sort -rn >"$KEEP/refused.txt" || true
grep -oE '"/(proc|sys|dev)/[^"]*"[^=]*= -1 ENOENT' "$WORK/trace" |
  sed -E 's|/proc/[0-9]+/|/proc/PID/|; s/^("[^"]*").*/\1: ENOENT/' |
  sort | uniq -c >>"$KEEP/refused.txt" || true
if [[ -s "$KEEP/refused.txt" ]]; then
  note "refused by the sandbox, and done without (count, call):"
  sed 's/^/      /' "$KEEP/refused.txt"
fi
echo "== traces and findings in $KEEP"
exit $status
