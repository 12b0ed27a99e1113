-- Each statement is its own transaction unless inside BEGIN/COMMIT.
INSERT INTO t_default VALUES (1, 'one', 1), (2, 'two', 2);
INSERT INTO t_full VALUES (1, 'one', 1), (2, 'two', 2);
UPDATE t_default SET a = 'uno' WHERE id = 1;
UPDATE t_full SET a = 'uno' WHERE id = 1;
-- Primary-key changes.
UPDATE t_default SET id = 20 WHERE id = 2;
UPDATE t_full SET id = 20 WHERE id = 2;
DELETE FROM t_default WHERE id = 1;
DELETE FROM t_full WHERE id = 1;
-- No primary key (REPLICA IDENTITY FULL): null keys.
INSERT INTO t_nopk VALUES (1, 'x');
UPDATE t_nopk SET b = 'y';
DELETE FROM t_nopk;
-- A two-column primary key declared (k2, k1).
INSERT INTO t_multikey VALUES (1, 'a', 'v');
UPDATE t_multikey SET v = 'w';
UPDATE t_multikey SET k1 = 2;
DELETE FROM t_multikey;
-- Unchanged TOASTed values: 6400 characters of md5 hex, stored out of line
-- uncompressed, then an update of another column.
INSERT INTO toast_default SELECT 1, string_agg(md5(i::text), ''), 0 FROM generate_series(1, 200) i;
UPDATE toast_default SET n = 1 WHERE id = 1;
DELETE FROM toast_default WHERE id = 1;
INSERT INTO toast_full SELECT 1, string_agg(md5(i::text), ''), 0 FROM generate_series(1, 200) i;
UPDATE toast_full SET n = 1 WHERE id = 1;
DELETE FROM toast_full WHERE id = 1;
INSERT INTO toast_bytea SELECT 1, decode(string_agg(md5(i::text), ''), 'hex'),
  (SELECT array_agg(md5(i::text)) FROM generate_series(1, 200) i), 0 FROM generate_series(1, 200) i;
UPDATE toast_bytea SET n = 1 WHERE id = 1;
-- Truncate (emitted only with skipped.operations=none).
INSERT INTO t_trunc VALUES (1, 'x');
TRUNCATE t_trunc;
-- Logical messages: a transactional one between two inserts, non-transactional ones.
BEGIN;
INSERT INTO t_default VALUES (3, 'three', 3);
SELECT pg_logical_emit_message(true, 'pfx', 'transactional content');
INSERT INTO t_default VALUES (4, 'four', 4);
COMMIT;
SELECT pg_logical_emit_message(false, 'pfx-nt', 'non-transactional content');
SELECT pg_logical_emit_message(true, 'pfx-bin', '\x00ff80'::bytea);
-- One transaction over six tables with a truncate and two messages: the
-- transaction metadata's per-table counts and their order.
BEGIN;
INSERT INTO t_default VALUES (5, 'five', 5);
INSERT INTO t_full VALUES (5, 'five', 5);
INSERT INTO t_trunc VALUES (2, 'y');
TRUNCATE t_trunc;
INSERT INTO t_multikey VALUES (5, 'e', 'v');
SELECT pg_logical_emit_message(true, 'pfx', 'one');
UPDATE t_default SET b = 6 WHERE id = 5;
INSERT INTO t_nopk VALUES (5, 'z');
SELECT pg_logical_emit_message(true, 'pfx', 'two');
DELETE FROM t_full WHERE id = 5;
INSERT INTO toast_default VALUES (5, 'small', 5);
COMMIT;
-- Typed values.
INSERT INTO t_typed VALUES (1, 'NaN', -12345678.90, '23:59:59.999', '00:00:00.000001', '1970-01-01 00:00:00.001',
  '1969-12-31 23:59:59.999999', '2024-02-29 12:00:00.5+01', '1969-12-31', '-1 mon 2 days -00:00:01', '\x', 'NaN');
UPDATE t_typed SET n = 123.456, by = '\xdeadbeef' WHERE id = 1;
DELETE FROM t_typed WHERE id = 1;
