#include "cdc/envelope/debezium_default.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

// The expressions are pg_get_expr's text for each default, as PostgreSQL
// deparses it (the live comparison, tests/debezium/sql/defaults_*.sql, runs
// them through the real Debezium).
namespace cdc::envelope {
namespace {

std::optional<std::string> D(const char* type, const char* expression) {
  return DebeziumDefaultText(type, /*is_enum=*/false, expression);
}

struct Case {
  const char* type;
  const char* expression;
  std::optional<std::string> want;
};

// Each case's default is `want`.
void Expect(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(D(c.type, c.expression), c.want) << c.type << " " << c.expression;
  }
}

// Each (type, expression) has no default.
void ExpectNone(
    std::initializer_list<std::pair<const char*, const char*>> cases) {
  for (const auto& [type, expression] : cases) {
    Expect({{type, expression, std::nullopt}});
  }
}

TEST(DebeziumDefaultTest, Constants) {
  Expect({
      {"int4", "42", "42"},
      {"int4", "'-5'::integer", "-5"},
      {"int8", "'9223372036854775807'::bigint", "9223372036854775807"},
      {"int2", "7", "7"},
      {"numeric", "12.50", "12.50"},
      {"numeric", "'-0.5'::numeric", "-0.5"},
      {"float8", "1.5", "1.5"},
      {"float8", "'NaN'::double precision", "NaN"},
      {"float4", "'-2.25'::real", "-2.25"},
      {"bool", "true", "t"},
      {"bool", "false", "f"},
      {"text", "'hello'::text", "hello"},
      {"text", "''::text", ""},
      {"varchar", "'abc'::character varying", "abc"},
      {"varchar", "('abc'::text)::character varying(20)", "abc"},
      {"bpchar", "'ab   '::bpchar", "ab   "},
      {"uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
       "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
      {"json", "'{\"a\":1}'::json", "{\"a\":1}"},
      {"jsonb", "'{\"a\": 1}'::jsonb", "{\"a\": 1}"},
      {"date", "'2024-02-29'::date", "2024-02-29"},
      {"time", "'13:45:06'::time without time zone", "13:45:06"},
      {"timestamp", "'2024-02-29 13:45:06'::timestamp without time zone",
       "2024-02-29 13:45:06"},
      {"timestamptz", "'2024-02-29 11:45:06+00'::timestamp with time zone",
       "2024-02-29 11:45:06+00"},
      {"timestamp", "'2024-02-29 13:45:06.5'::timestamp(3) without time zone",
       "2024-02-29 13:45:06.5"},
      // Read under the replication session's IntervalStyle, iso_8601.
      {"interval", "'P1DT2H'::interval", "P1DT2H"},
      {"bit", "B'101'::\"bit\"", "101"},
      {"varbit", "B'1'::\"bit\"", "1"},
  });
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
  Expect({
      {"int4", "nextval('t_id_seq'::regclass)", "0"},
      {"int8", "nextval('public.\"T\"'::regclass)", "0"},
      {"numeric", "random()", "0.0"},
      {"float8", "random()", "0.0"},
      {"bool", "f()", "f"},
      {"text", "upper('x'::text)", ""},
      {"text", "(upper('x'::text) || 'y'::text)", ""},
      {"json", "json_build_object()", "{}"},
      {"uuid", "gen_random_uuid()", "00000000-0000-0000-0000-000000000000"},
      {"timestamptz", "now()", "1970-01-01 00:00:00+00"},
      {"timestamptz", "CURRENT_TIMESTAMP", "1970-01-01 00:00:00+00"},
      {"timestamptz", "CURRENT_TIMESTAMP(3)", "1970-01-01 00:00:00+00"},
      {"timestamp", "LOCALTIMESTAMP", "1970-01-01 00:00:00"},
      {"timestamp", "(now() + '1 day'::interval)", "1970-01-01 00:00:00"},
      {"date", "CURRENT_DATE", "1970-01-01"},
      {"time", "LOCALTIME", "00:00:00"},
      {"time", "CURRENT_TIME", "00:00:00"},
      // PGInterval cannot parse Debezium's "epoch": none.
      {"interval", "now()", std::nullopt},
      {"bit", "f()", std::nullopt},
  });
}

TEST(DebeziumDefaultTest, NullIsNone) {
  ExpectNone({{"int4", "NULL::integer"},
              {"text", "NULL::text"},
              {"bool", "NULL::boolean"}});
  EXPECT_EQ(DebeziumDefaultText("public.mood", true, "NULL::mood"),
            std::nullopt);
}

TEST(DebeziumDefaultTest, ExpressionsAreNone) {
  ExpectNone({
      {"int4", "(1 + 1)"},
      {"int4", "('5'::integer + 1)"},
      {"numeric", "(1.5 * 2)"},
      {"bool", "(1 = 1)"},
      {"text", "('a'::text || 'b'::text)"},
      {"text", "CURRENT_USER"},
      {"date", "('2024-01-01'::date + 1)"},
      {"text", "'unterminated"},
  });
}

// 3.6.1 stops at the doubled quote ("it"); the value is "it's" (dbz#2440).
TEST(DebeziumDefaultTest, QuotesInLiterals) {
  EXPECT_EQ(D("text", "'it''s'::text"), "it's");
  EXPECT_EQ(D("varchar", "'''q'''::character varying"), "'q'");
}

TEST(DebeziumDefaultTest, TypesWithoutAMapperHaveNone) {
  ExpectNone({
      {"bytea", "'\\x00ff'::bytea"},
      {"money", "'12.34'::money"},
      {"inet", "'10.0.0.1'::inet"},
      {"_int4", "'{1,2}'::integer[]"},
      {"oid", "42"},
      // A domain is looked up by its own name, which has no mapper.
      {"public.price", "12.50"},
  });
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
