-- Streamed: rows with the defaults, an update, a delete.
INSERT INTO defaults (notnull_plain) VALUES ('streamed');
INSERT INTO defaults (n_int, t_quote, e_enum, notnull_plain) VALUES (7, NULL, 'ok', 'streamed 2');
UPDATE defaults SET nullable_plain = 9 WHERE notnull_plain = 'streamed';
DELETE FROM defaults WHERE notnull_plain = 'streamed 2';
-- A schema change: the new Relation's columns carry their own facts. (Only
-- added columns: a changed default could be read by either connector
-- before or after the change, since each reads the catalog when it gets to
-- the Relation message.)
ALTER TABLE defaults ADD COLUMN added_int int NOT NULL DEFAULT 7, ADD COLUMN added_text varchar(10) DEFAULT 'new';
INSERT INTO defaults (notnull_plain) VALUES ('after the change');
-- NULLs where the columns have defaults: JsonConverter writes the default
-- for a null value (replace.null.with.default).
INSERT INTO defaults (n_neg, t_varchar, d_date, tz_tz, u_uuid, j_json, bits, iv, seq_int, notnull_plain) VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'explicit nulls');
UPDATE defaults SET n_int = 8, added_text = NULL WHERE notnull_plain = 'after the change';
-- A delete's key-only image: the other columns are their defaults, or a NOT
-- NULL column's fallback value.
DELETE FROM defaults WHERE notnull_plain = 'snapshot';
INSERT INTO fallbacks VALUES (1, 1, 2, 1.5, 2.5, true, 't', 1.25, 3.5, '2024-01-01', '01:02:03', '2024-01-01 01:02:03', '2024-01-01 01:02:03+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{}', '[]', '\x01', 'ok', '1 day', B'101', '{1}', '01:02:03+02', 12.5, '(1,2)');
DELETE FROM fallbacks WHERE id = 1;
