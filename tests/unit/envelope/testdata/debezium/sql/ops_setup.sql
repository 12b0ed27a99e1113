CREATE TABLE t_default (id int PRIMARY KEY, a text, b int);
CREATE TABLE t_full (id int PRIMARY KEY, a text, b int);
ALTER TABLE t_full REPLICA IDENTITY FULL;
CREATE TABLE t_nopk (a int, b text);
ALTER TABLE t_nopk REPLICA IDENTITY FULL;
CREATE TABLE t_multikey (k1 int, k2 text, v text, PRIMARY KEY (k2, k1));
-- STORAGE EXTERNAL: stored out of line, uncompressed, so an update that does
-- not touch it leaves it unchanged-TOASTed in the WAL.
CREATE TABLE toast_default (id int PRIMARY KEY, big text, n int);
ALTER TABLE toast_default ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE toast_full (id int PRIMARY KEY, big text, n int);
ALTER TABLE toast_full ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE toast_full REPLICA IDENTITY FULL;
CREATE TABLE toast_bytea (id int PRIMARY KEY, big bytea, arr text[], n int);
ALTER TABLE toast_bytea ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE toast_bytea ALTER COLUMN arr SET STORAGE EXTERNAL;
CREATE TABLE t_trunc (id int PRIMARY KEY, v text);
-- Columns whose encoding decimal/time/binary handling modes change.
CREATE TABLE t_typed (id int PRIMARY KEY, n numeric, n2 numeric(10,2), t3 time(3), t6 time(6),
  ts3 timestamp(3), ts6 timestamp(6), tstz timestamptz, d date, iv interval, by bytea, f8 float8);
CREATE TABLE zz_stop (id int PRIMARY KEY);
CREATE PUBLICATION pub FOR TABLE t_default, t_full, t_nopk, t_multikey, toast_default, toast_full,
  toast_bytea, t_trunc, t_typed, zz_stop;
-- Read by the initial snapshot.
INSERT INTO t_default VALUES (100, 'snapshot', 100);
INSERT INTO t_typed VALUES (100, 1.5, 2.25, '01:02:03.456', '01:02:03.456789', '2024-01-01 01:02:03.456',
  '2024-01-01 01:02:03.456789', '2024-01-01 01:02:03.456789+00', '2024-01-01', '1 day 02:03:04.5', '\x00ff', 0.5);
