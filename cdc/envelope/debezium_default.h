// DebeziumDefaultText: which default a column's schema carries in Debezium
// 3.6.1.Final, decided from the column's default expression as the server
// deparses it (pg_get_expr(adbin, adrelid), the COLUMN_DEF PgJDBC's
// getColumns reports and Debezium reads, both in its snapshot and when a
// Relation message arrives).
//
// Debezium does not evaluate expressions: PostgresDefaultValueConverter
// (io.debezium.connector.postgresql.connection, tag v3.6.1.Final) picks a
// mapper by the column type's name and reads either a literal or a
// placeholder from the text:
//   - a function call (`now()`, `nextval('s'::regclass)`,
//     `gen_random_uuid()`) or CURRENT_DATE / CURRENT_TIME /
//     CURRENT_TIMESTAMP / LOCALTIME / LOCALTIMESTAMP: the type's
//     placeholder (0, 0.0, false, "", "{}", the epoch, the nil UUID); none
//     for interval, whose placeholder "epoch" PGInterval cannot parse;
//   - `NULL::type`: none;
//   - a quoted literal, cast or not (`'-5'::integer`, `'x'::text`): the
//     literal; a bare one (`42`, `true`, `12.50`): the text;
//   - an enum: the literal when its cast names the column's enum type;
//   - any other type (bytea, inet, money, arrays, domains, ...): none.
// Debezium's value converter then turns the result into the column's
// value, so what this returns is the text of a value in PostgreSQL's output
// form, for ConvertText (value_codec.h) to convert as a column's value is;
// a text that does not convert is no default, as in Debezium, where the
// parse throws and the default is dropped.
//
// Where Debezium's own reading is not the default, pgcdc gives none or the
// right value instead (docs/debezium.md): an expression that is not one
// literal under casts (`('a'::text || 'b'::text)`, `(1 = 1)` for a
// boolean, `CURRENT_USER` for text: Debezium keeps the first literal or
// the bare text, and Boolean.parseBoolean makes anything but "true" false)
// has none; a literal holding a quote (`'it''s'::text`) is the value,
// where 3.6.1's non-greedy pattern stops at the doubled quote (fixed after
// 3.6.1, dbz#2440).
//
// Pure.
#ifndef CDC_ENVELOPE_DEBEZIUM_DEFAULT_H_
#define CDC_ENVELOPE_DEBEZIUM_DEFAULT_H_

#include <optional>
#include <string>
#include <string_view>

namespace cdc::envelope {

// `type_name`: the column type's name as pg::TypeInfo::name has it (typname
// for pg_catalog's types, "schema.typname" otherwise); `is_enum`: the type
// is an enum. `expression`: pg_get_expr's text. `numeric_scale`: a numeric
// column's declared scale, to which Debezium raises a default's (12.5 in a
// numeric(10,2) is 12.50); -1 for none. nullopt: no default.
std::optional<std::string> DebeziumDefaultText(std::string_view type_name,
                                               bool is_enum,
                                               std::string_view expression,
                                               int numeric_scale = -1);

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_DEBEZIUM_DEFAULT_H_
