-- NOT NULL columns that are not in the key, and defaults of every kind
-- Debezium reads (PostgresDefaultValueConverter): constants of each type,
-- generated values (sequences, now(), CURRENT_*, function calls),
-- expressions, NULL, and types it has no mapper for.
CREATE TYPE feeling AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN counted AS int NOT NULL;
CREATE SEQUENCE d_seq START 100;
CREATE FUNCTION d_answer() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 42';
CREATE TABLE defaults (
  id serial PRIMARY KEY,
  big_id bigserial NOT NULL,
  n_int int NOT NULL DEFAULT 42,
  n_neg int DEFAULT -5,
  n_big bigint NOT NULL DEFAULT 9223372036854775807,
  n_big_neg bigint DEFAULT -9223372036854775808,
  n_small smallint DEFAULT 7,
  n_numeric numeric(10,2) NOT NULL DEFAULT 12.5,
  n_numeric_neg numeric(10,2) DEFAULT -0.5,
  n_numeric_free numeric DEFAULT 3.14,
  n_float8 float8 DEFAULT 1.5,
  n_float4 real DEFAULT -2.25,
  n_nan float8 DEFAULT 'NaN',
  t_text text NOT NULL DEFAULT 'hello',
  t_quote text DEFAULT 'it''s',
  t_empty text NOT NULL DEFAULT '',
  t_varchar varchar(20) DEFAULT 'abc',
  t_bpchar char(5) DEFAULT 'ab',
  t_upper text DEFAULT upper('x'),
  t_concat text DEFAULT 'a' || 'b',
  t_user text DEFAULT CURRENT_USER,
  b_true boolean NOT NULL DEFAULT true,
  b_false boolean DEFAULT false,
  b_expr boolean DEFAULT (1 = 1),
  d_date date DEFAULT '2024-02-29',
  d_current date NOT NULL DEFAULT CURRENT_DATE,
  ts_ts timestamp DEFAULT '2024-02-29 13:45:06.5',
  ts_now timestamp DEFAULT now(),
  tz_tz timestamptz DEFAULT '2024-02-29 13:45:06+02',
  tz_now timestamptz NOT NULL DEFAULT now(),
  tz_current timestamptz DEFAULT CURRENT_TIMESTAMP,
  tm_time time DEFAULT '13:45:06',
  tm_local time DEFAULT LOCALTIME,
  iv interval DEFAULT '1 day 02:00:00',
  u_uuid uuid DEFAULT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  u_gen uuid NOT NULL DEFAULT gen_random_uuid(),
  j_json json DEFAULT '{"a":1}',
  j_jsonb jsonb NOT NULL DEFAULT '{"b": [1, 2]}',
  by_bytea bytea DEFAULT '\x00ff',
  e_enum feeling NOT NULL DEFAULT 'happy',
  bits bit(3) DEFAULT B'101',
  seq_int int DEFAULT nextval('d_seq'),
  expr_int int DEFAULT 1 + 1,
  fn_int int DEFAULT d_answer(),
  null_text text DEFAULT NULL,
  null_int int DEFAULT NULL,
  dom counted DEFAULT 5,
  notnull_plain text NOT NULL,
  nullable_plain int
);
-- NOT NULL columns without defaults, for the values Debezium gives them when
-- a delete's key-only image leaves them out.
CREATE TABLE fallbacks (id int PRIMARY KEY, f_int2 int2 NOT NULL, f_int8 int8 NOT NULL,
  f_float4 real NOT NULL, f_float8 float8 NOT NULL, f_bool bool NOT NULL, f_text text NOT NULL,
  f_numeric numeric(10,2) NOT NULL, f_numeric_free numeric NOT NULL, f_date date NOT NULL,
  f_time time NOT NULL, f_ts timestamp NOT NULL, f_tstz timestamptz NOT NULL, f_uuid uuid NOT NULL,
  f_json json NOT NULL, f_jsonb jsonb NOT NULL, f_bytea bytea NOT NULL, f_enum feeling NOT NULL,
  f_interval interval NOT NULL, f_bits bit(3) NOT NULL, f_arr int[] NOT NULL,
  f_timetz timetz NOT NULL, f_money money NOT NULL, f_point point NOT NULL);
CREATE TABLE zz_stop (id int PRIMARY KEY);
CREATE PUBLICATION pub FOR TABLE defaults, fallbacks, zz_stop;
-- Read by the initial snapshot: every default, then values of its own.
INSERT INTO defaults (notnull_plain) VALUES ('snapshot');
INSERT INTO defaults (n_int, t_text, b_true, e_enum, notnull_plain, nullable_plain) VALUES (1, 'given', false, 'sad', 'snapshot 2', 3);
