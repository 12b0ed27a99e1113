#!/usr/bin/env bash
# Captures seed corpora for the fuzz targets from a real PostgreSQL 15:
# starts a throwaway cluster (wal_level=logical, logical_decoding_work_mem
# 64kB so that a large transaction is streamed, prepared transactions on),
# creates tables of varied types, runs a workload of inserts, updates (with
# 'K' and 'O' old images), deletes, truncates, logical messages, a replication
# origin, streamed and aborted large transactions and two-phase commits, then
# records four replication sessions of it with fuzz/capture_frames:
#   proto_version 1 with messages; 2 with streaming; 3 with streaming and
#   two_phase; 1 with binary values.
# The raw frames are minimised into fuzz/corpus/{pgoutput,copy_frame,stream}
# with libFuzzer's -merge=1, which adds only inputs that reach new code.
#
#   bash fuzz/capture_corpus.sh [BUILD_DIR]     # default build-fuzz
#
# Needs root (the cluster runs as user postgres) and PostgreSQL 15. Builds
# BUILD_DIR with PGCDC_FUZZ=ON (clang) when the tools are missing. The corpus
# is committed, so CI never runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${1:-build-fuzz}

if [[ ! -x $BUILD_DIR/bin/capture_frames || ! -x $BUILD_DIR/bin/stream_fuzz ]]; then
  cmake -S . -B "$BUILD_DIR" -DPGCDC_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target fuzzers capture_frames
fi
BIN=$ROOT/$BUILD_DIR/bin
source scripts/lib/throwaway.sh

workdir_start pgcdc-capture

PORT=$(free_port)
pg_start "$WORK" "$PORT" -c max_prepared_transactions=10 -c fsync=off
DSN="host=127.0.0.1 port=$PORT dbname=postgres user=postgres"
psql() { command psql -X -q -v ON_ERROR_STOP=1 -o /dev/null "$DSN" "$@"; }

psql <<'SQL'
ALTER SYSTEM SET logical_decoding_work_mem = '64kB';
SELECT pg_reload_conf();
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE kinds (
  id bigint PRIMARY KEY, b bool, i2 int2, i4 int4, f4 float4, f8 float8,
  n numeric(20, 5), t text, vc varchar(20), by bytea, ts timestamptz, d date,
  u uuid, j jsonb, arr int[], m mood, o oid);
CREATE TABLE fulltab (id int, v text, big text);
ALTER TABLE fulltab REPLICA IDENTITY FULL;
CREATE TABLE idx (a int NOT NULL, b text);
CREATE UNIQUE INDEX idx_a ON idx (a);
ALTER TABLE idx REPLICA IDENTITY USING INDEX idx_a;
CREATE TABLE nokey (a int, b text);
ALTER TABLE nokey REPLICA IDENTITY NOTHING;
CREATE TABLE "Odd.Name" ("Col ""q""" text PRIMARY KEY, x int);
CREATE TABLE big (id serial PRIMARY KEY, payload text);
CREATE PUBLICATION pub FOR ALL TABLES;
SELECT pg_create_logical_replication_slot('s_v1', 'pgoutput');
SELECT pg_create_logical_replication_slot('s_v2', 'pgoutput');
SELECT pg_create_logical_replication_slot('s_v3', 'pgoutput', false, true);
SELECT pg_create_logical_replication_slot('s_bin', 'pgoutput');
SQL

psql <<'SQL'
INSERT INTO kinds VALUES (1, true, -32768, 2147483647, 'NaN', '-Infinity',
  12345.67891, 'héllo', 'v', '\x00ff', '2024-02-29 12:34:56.789+00',
  '2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}',
  '{1,NULL,3}', 'happy', 42);
INSERT INTO kinds (id) VALUES (2);
UPDATE kinds SET t = 'changed', f4 = 1.5, n = -0.00001 WHERE id = 1;
UPDATE kinds SET id = 3 WHERE id = 2;
DELETE FROM kinds WHERE id = 3;
INSERT INTO fulltab VALUES (1, 'a',
  (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i));
UPDATE fulltab SET v = 'b';
DELETE FROM fulltab;
INSERT INTO idx VALUES (1, 'x');
UPDATE idx SET a = 2;
UPDATE idx SET b = 'y';
DELETE FROM idx;
INSERT INTO "Odd.Name" VALUES ('k', 1);
INSERT INTO nokey VALUES (1, 'n');
BEGIN;
INSERT INTO kinds (id, t) VALUES (10, 'in a transaction');
SELECT pg_logical_emit_message(true, 'fuzz', 'transactional');
COMMIT;
SELECT pg_logical_emit_message(false, 'fuzz', 'non-transactional');
TRUNCATE idx, nokey RESTART IDENTITY CASCADE;
TRUNCATE "Odd.Name";
ALTER TABLE kinds ADD COLUMN extra text;
INSERT INTO kinds (id, extra) VALUES (11, 'new shape');

SELECT pg_replication_origin_create('fuzz_origin');
SELECT pg_replication_origin_session_setup('fuzz_origin');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/ABCDEF', now());
INSERT INTO kinds (id, t) VALUES (12, 'from an origin');
COMMIT;
SELECT pg_replication_origin_session_reset();

-- Large transactions: streamed under proto_version 2+.
BEGIN;
INSERT INTO big (payload)
  SELECT repeat('x', 200) || i FROM generate_series(1, 800) i;
SELECT pg_logical_emit_message(true, 'fuzz', 'inside a stream');
UPDATE kinds SET t = 'in a streamed transaction' WHERE id = 1;
COMMIT;
BEGIN;
INSERT INTO big (payload)
  SELECT repeat('y', 200) || i FROM generate_series(1, 400) i;
SAVEPOINT s;
INSERT INTO big (payload)
  SELECT repeat('z', 200) || i FROM generate_series(1, 400) i;
ROLLBACK TO s;
INSERT INTO big (payload) VALUES ('after the savepoint');
ROLLBACK;

-- Two-phase: prepared transactions, decoded at PREPARE under two_phase.
BEGIN;
INSERT INTO kinds (id, t) VALUES (20, 'prepared');
PREPARE TRANSACTION 'fuzz_gid_1';
COMMIT PREPARED 'fuzz_gid_1';
BEGIN;
INSERT INTO kinds (id, t) VALUES (21, 'rolled back');
PREPARE TRANSACTION 'fuzz_gid_2';
ROLLBACK PREPARED 'fuzz_gid_2';
BEGIN;
INSERT INTO big (payload)
  SELECT repeat('p', 200) || i FROM generate_series(1, 800) i;
PREPARE TRANSACTION 'fuzz_gid_3';
COMMIT PREPARED 'fuzz_gid_3';
DELETE FROM kinds;
SQL

RAW=$WORK/raw
capture() {  # slot options
  "$BIN/capture_frames" "$DSN replication=database" "$1" "$2" "$RAW" 3000
}
capture s_v1 "proto_version '1', publication_names 'pub', messages 'true'"
capture s_v2 "proto_version '2', publication_names 'pub', messages 'true', streaming 'on'"
capture s_v3 "proto_version '3', publication_names 'pub', messages 'true', streaming 'on', two_phase 'on'"
capture s_bin "proto_version '1', publication_names 'pub', binary 'true'"

for kind in pgoutput copy_frame stream; do
  mkdir -p "fuzz/corpus/$kind"
  before=$(ls "fuzz/corpus/$kind" | wc -l)
  "$BIN/${kind}_fuzz" -merge=1 "fuzz/corpus/$kind" "$RAW/$kind" \
    >"$WORK/merge-$kind.log" 2>&1 || { cat "$WORK/merge-$kind.log"; exit 1; }
  echo "capture_corpus: $kind: $(ls "$RAW/$kind" | wc -l) captured," \
    "$before -> $(ls "fuzz/corpus/$kind" | wc -l) in fuzz/corpus/$kind"
done
du -sh fuzz/corpus
