#include "cdc/envelope/debezium_default.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

// The expressions are pg_get_expr's text for each default, as PostgreSQL
// deparses it (the live comparison, tests/debezium/sql/defaults_*.sql, runs
// them through the real Debezium).
namespace cdc::envelope {
namespace {

std::optional<std::string> D(const char* type, const char* expression) {
  return DebeziumDefaultText(type, /*is_enum=*/false, expression);
}

TEST(DebeziumDefaultTest, Constants) {
  EXPECT_EQ(D("int4", "42"), "42");
  EXPECT_EQ(D("int4", "'-5'::integer"), "-5");
  EXPECT_EQ(D("int8", "'9223372036854775807'::bigint"), "9223372036854775807");
  EXPECT_EQ(D("int2", "7"), "7");
  EXPECT_EQ(D("numeric", "12.50"), "12.50");
  EXPECT_EQ(D("numeric", "'-0.5'::numeric"), "-0.5");
  EXPECT_EQ(D("float8", "1.5"), "1.5");
  EXPECT_EQ(D("float8", "'NaN'::double precision"), "NaN");
  EXPECT_EQ(D("float4", "'-2.25'::real"), "-2.25");
  EXPECT_EQ(D("bool", "true"), "t");
  EXPECT_EQ(D("bool", "false"), "f");
  EXPECT_EQ(D("text", "'hello'::text"), "hello");
  EXPECT_EQ(D("text", "''::text"), "");
  EXPECT_EQ(D("varchar", "'abc'::character varying"), "abc");
  EXPECT_EQ(D("varchar", "('abc'::text)::character varying(20)"), "abc");
  EXPECT_EQ(D("bpchar", "'ab   '::bpchar"), "ab   ");
  EXPECT_EQ(D("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(D("json", "'{\"a\":1}'::json"), "{\"a\":1}");
  EXPECT_EQ(D("jsonb", "'{\"a\": 1}'::jsonb"), "{\"a\": 1}");
  EXPECT_EQ(D("date", "'2024-02-29'::date"), "2024-02-29");
  EXPECT_EQ(D("time", "'13:45:06'::time without time zone"), "13:45:06");
  EXPECT_EQ(
      D("timestamp", "'2024-02-29 13:45:06'::timestamp without time zone"),
      "2024-02-29 13:45:06");
  EXPECT_EQ(D("timestamptz",
              "'2024-02-29 11:45:06+00'::timestamp with time "
              "zone"),
            "2024-02-29 11:45:06+00");
  EXPECT_EQ(D("timestamp",
              "'2024-02-29 13:45:06.5'::timestamp(3) without "
              "time zone"),
            "2024-02-29 13:45:06.5");
  // Read under the replication session's IntervalStyle, iso_8601.
  EXPECT_EQ(D("interval", "'P1DT2H'::interval"), "P1DT2H");
  EXPECT_EQ(D("bit", "B'101'::\"bit\""), "101");
  EXPECT_EQ(D("varbit", "B'1'::\"bit\""), "1");
}

// convertDefaultValue raises a numeric's scale to the column's.
TEST(DebeziumDefaultTest, NumericScaleIsTheColumns) {
  EXPECT_EQ(DebeziumDefaultText("numeric", false, "12.5", 2), "12.50");
  EXPECT_EQ(DebeziumDefaultText("numeric", false, "'-0.5'::numeric", 2),
            "-0.50");
  EXPECT_EQ(DebeziumDefaultText("numeric", false, "12", 3), "12.000");
  EXPECT_EQ(DebeziumDefaultText("numeric", false, "1.2345", 2), "1.2345");
  EXPECT_EQ(DebeziumDefaultText("numeric", false, "random()", 2), "0.00");
  EXPECT_EQ(DebeziumDefaultText("numeric", false, "12.5", -1), "12.5");
  EXPECT_EQ(DebeziumDefaultText("float8", false, "12.5", 2), "12.5");
}

// Debezium trims these types' expressions (TRIM_DATA_TYPES), not text's.
TEST(DebeziumDefaultTest, TrimsAsDebeziumDoes) {
  EXPECT_EQ(D("int4", " 42 "), "42");
  EXPECT_EQ(D("date", " CURRENT_DATE "), "1970-01-01");
  EXPECT_EQ(D("text", "' x '::text"), " x ");
}

TEST(DebeziumDefaultTest, GeneratedValuesAreThePlaceholders) {
  EXPECT_EQ(D("int4", "nextval('t_id_seq'::regclass)"), "0");
  EXPECT_EQ(D("int8", "nextval('public.\"T\"'::regclass)"), "0");
  EXPECT_EQ(D("numeric", "random()"), "0.0");
  EXPECT_EQ(D("float8", "random()"), "0.0");
  EXPECT_EQ(D("bool", "f()"), "f");
  EXPECT_EQ(D("text", "upper('x'::text)"), "");
  EXPECT_EQ(D("text", "(upper('x'::text) || 'y'::text)"), "");
  EXPECT_EQ(D("json", "json_build_object()"), "{}");
  EXPECT_EQ(D("uuid", "gen_random_uuid()"),
            "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(D("timestamptz", "now()"), "1970-01-01 00:00:00+00");
  EXPECT_EQ(D("timestamptz", "CURRENT_TIMESTAMP"), "1970-01-01 00:00:00+00");
  EXPECT_EQ(D("timestamptz", "CURRENT_TIMESTAMP(3)"), "1970-01-01 00:00:00+00");
  EXPECT_EQ(D("timestamp", "LOCALTIMESTAMP"), "1970-01-01 00:00:00");
  EXPECT_EQ(D("timestamp", "(now() + '1 day'::interval)"),
            "1970-01-01 00:00:00");
  EXPECT_EQ(D("date", "CURRENT_DATE"), "1970-01-01");
  EXPECT_EQ(D("time", "LOCALTIME"), "00:00:00");
  EXPECT_EQ(D("time", "CURRENT_TIME"), "00:00:00");
  // PGInterval cannot parse Debezium's "epoch": none.
  EXPECT_EQ(D("interval", "now()"), std::nullopt);
  EXPECT_EQ(D("bit", "f()"), std::nullopt);
}

TEST(DebeziumDefaultTest, NullIsNone) {
  EXPECT_EQ(D("int4", "NULL::integer"), std::nullopt);
  EXPECT_EQ(D("text", "NULL::text"), std::nullopt);
  EXPECT_EQ(D("bool", "NULL::boolean"), std::nullopt);
  EXPECT_EQ(DebeziumDefaultText("public.mood", true, "NULL::mood"),
            std::nullopt);
}

TEST(DebeziumDefaultTest, ExpressionsAreNone) {
  EXPECT_EQ(D("int4", "(1 + 1)"), std::nullopt);
  EXPECT_EQ(D("int4", "('5'::integer + 1)"), std::nullopt);
  EXPECT_EQ(D("numeric", "(1.5 * 2)"), std::nullopt);
  EXPECT_EQ(D("bool", "(1 = 1)"), std::nullopt);
  EXPECT_EQ(D("text", "('a'::text || 'b'::text)"), std::nullopt);
  EXPECT_EQ(D("text", "CURRENT_USER"), std::nullopt);
  EXPECT_EQ(D("date", "('2024-01-01'::date + 1)"), std::nullopt);
  EXPECT_EQ(D("text", "'unterminated"), std::nullopt);
}

// 3.6.1 stops at the doubled quote ("it"); the value is "it's" (dbz#2440).
TEST(DebeziumDefaultTest, QuotesInLiterals) {
  EXPECT_EQ(D("text", "'it''s'::text"), "it's");
  EXPECT_EQ(D("varchar", "'''q'''::character varying"), "'q'");
}

TEST(DebeziumDefaultTest, TypesWithoutAMapperHaveNone) {
  EXPECT_EQ(D("bytea", "'\\x00ff'::bytea"), std::nullopt);
  EXPECT_EQ(D("money", "'12.34'::money"), std::nullopt);
  EXPECT_EQ(D("inet", "'10.0.0.1'::inet"), std::nullopt);
  EXPECT_EQ(D("_int4", "'{1,2}'::integer[]"), std::nullopt);
  EXPECT_EQ(D("oid", "42"), std::nullopt);
  // A domain is looked up by its own name, which has no mapper.
  EXPECT_EQ(D("public.price", "12.50"), std::nullopt);
}

TEST(DebeziumDefaultTest, EnumsNeedTheirOwnCast) {
  EXPECT_EQ(DebeziumDefaultText("public.mood", true, "'happy'::mood"), "happy");
  EXPECT_EQ(DebeziumDefaultText("public.mood", true, "'happy'::public.mood"),
            "happy");
  EXPECT_EQ(DebeziumDefaultText("s.Mood", true, "'ok'::s.\"Mood\""), "ok");
  EXPECT_EQ(DebeziumDefaultText("s.mood", true, "'ok'::t.mood"), std::nullopt);
  EXPECT_EQ(DebeziumDefaultText("public.mood", true, "'ok'::other"),
            std::nullopt);
  // No placeholder for an enum's function call.
  EXPECT_EQ(DebeziumDefaultText("public.mood", true, "f()"), std::nullopt);
}

}  // namespace
}  // namespace cdc::envelope
