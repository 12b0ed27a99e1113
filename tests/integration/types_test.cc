// Type fidelity end to end: a table holding every common PostgreSQL type,
// rows with NULLs and edge values inserted and updated through a real
// PostgreSQL 15, and each event value checked two ways — rendered back to
// text (ValueToPgText) it must equal what the server prints for the same row
// under the same settings, and its typed case must hold what SQL computes
// (epoch microseconds, day numbers, array bounds, ...).
//
// PostGIS is not installed in the test image, so geometry/geography are not
// covered; like any extension type pgcdc does not know, they travel as text.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cdc/envelope/value_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness/fixture.h"

namespace cdc::testing {
namespace {

// What pgcdc's replication session sets (connection.h), for the SELECTs
// that compute the expected text.
constexpr char kSessionSettings[] =
    "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = iso_8601; "
    "SET TimeZone = 'UTC'; SET extra_float_digits = 3; "
    "SET bytea_output = hex; SET lc_monetary = 'C'; ";

struct ColumnDef {
  std::string name;
  std::string type;
};

const v1::Column* Find(const v1::Row& row, const std::string& name) {
  for (const v1::Column& c : row.columns()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

std::optional<std::string> Render(const v1::Column& c) {
  return envelope::ValueToPgText(
      c.value(), c.base_type().empty() ? c.type() : c.base_type());
}

class TypesTest : public PgcdcTest {
 protected:
  bool ExtensionAvailable(const std::string& name) {
    std::vector<pg::SqlRow> rows = Rows(absl::StrCat(
        "SELECT 1 FROM pg_available_extensions WHERE name = '", name, "'"));
    return !rows.empty();
  }

  // id → column → the server's text for it (nullopt: NULL).
  std::map<std::string, std::map<std::string, std::optional<std::string>>>
  ServerText(const std::vector<ColumnDef>& columns) {
    std::vector<std::string> names = {"id"};
    for (const ColumnDef& c : columns) names.push_back(c.name);
    std::vector<pg::SqlRow> rows = Rows(
        absl::StrCat(kSessionSettings, "SELECT ", absl::StrJoin(names, ", "),
                     " FROM alltypes ORDER BY id"));
    std::map<std::string, std::map<std::string, std::optional<std::string>>>
        out;
    for (const pg::SqlRow& row : rows) {
      for (size_t i = 1; i < names.size(); ++i) {
        out[row[0].value_or("")][names[i]] = row[i];
      }
    }
    return out;
  }

  // Every published column of `row` renders back to the server's text.
  void ExpectRoundTrip(
      const v1::Row& row, const std::vector<ColumnDef>& columns,
      const std::map<std::string, std::optional<std::string>>& expected) {
    for (const ColumnDef& def : columns) {
      const v1::Column* c = Find(row, def.name);
      ASSERT_NE(c, nullptr) << def.name << " missing from the event";
      EXPECT_EQ(Render(*c), expected.at(def.name))
          << def.name << " (" << def.type << "): " << c->ShortDebugString();
    }
  }

  // (expression)::int8 for row `id` of alltypes.
  int64_t SqlInt(const std::string& expression, int id) {
    std::vector<pg::SqlRow> rows =
        Rows(absl::StrCat(kSessionSettings, "SELECT (", expression,
                          ")::int8 FROM alltypes WHERE id = ", id));
    EXPECT_EQ(rows.size(), 1u) << expression;
    return rows.empty() ? 0 : std::stoll(rows[0][0].value_or("0"));
  }

  // Creates the types and the table alltypes(id, one column per common
  // type, c_gen); returns its columns (citext and hstore when available).
  std::vector<ColumnDef> CreateAllTypes() {
    citext_ = ExtensionAvailable("citext");
    hstore_ = ExtensionAvailable("hstore");
    if (citext_) Sql("CREATE EXTENSION citext");
    if (hstore_) Sql("CREATE EXTENSION hstore");
    Sql("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
    Sql("CREATE DOMAIN price AS numeric(12,2) CHECK (VALUE >= 0)");
    Sql("CREATE DOMAIN positive_price AS price CHECK (VALUE > 0)");
    Sql("CREATE TYPE pair AS (a int, b text, m mood, at timestamptz)");

    std::vector<ColumnDef> columns = {
        {"c_bool", "bool"},
        {"c_int2", "int2"},
        {"c_int4", "int4"},
        {"c_int8", "int8"},
        {"c_oid", "oid"},
        {"c_float4", "float4"},
        {"c_float8", "float8"},
        {"c_numeric", "numeric"},
        {"c_money", "money"},
        {"c_text", "text"},
        {"c_varchar", "varchar(20)"},
        {"c_bpchar", "char(5)"},
        {"c_name", "name"},
        {"c_bytea", "bytea"},
        {"c_uuid", "uuid"},
        {"c_json", "json"},
        {"c_jsonb", "jsonb"},
        {"c_xml", "xml"},
        {"c_date", "date"},
        {"c_time", "time"},
        {"c_timetz", "timetz"},
        {"c_ts", "timestamp"},
        {"c_tstz", "timestamptz"},
        {"c_interval", "interval"},
        {"c_inet", "inet"},
        {"c_cidr", "cidr"},
        {"c_macaddr", "macaddr"},
        {"c_macaddr8", "macaddr8"},
        {"c_bit", "bit(4)"},
        {"c_varbit", "varbit"},
        {"c_tsvector", "tsvector"},
        {"c_point", "point"},
        {"c_line", "line"},
        {"c_lseg", "lseg"},
        {"c_box", "box"},
        {"c_path", "path"},
        {"c_polygon", "polygon"},
        {"c_circle", "circle"},
        {"c_int4range", "int4range"},
        {"c_tstzrange", "tstzrange"},
        {"c_numrange", "numrange"},
        {"c_multirange", "int4multirange"},
        {"c_mood", "mood"},
        {"c_price", "positive_price"},
        {"c_pair", "pair"},
        {"c_int4_arr", "int4[]"},
        {"c_text_arr", "text[]"},
        {"c_tstz_arr", "timestamptz[]"},
        {"c_numeric_arr", "numeric[]"},
        {"c_pair_arr", "pair[]"},
        {"c_box_arr", "box[]"},
        {"c_mood_arr", "mood[]"},
        {"c_date_arr", "date[]"},
        {"c_float8_arr", "float8[]"},
        {"c_interval_arr", "interval[]"},
    };
    if (citext_) columns.push_back({"c_citext", "citext"});
    if (hstore_) columns.push_back({"c_hstore", "hstore"});
    std::vector<std::string> defs = {"id int PRIMARY KEY"};
    for (const ColumnDef& c : columns) {
      defs.push_back(absl::StrCat(c.name, " ", c.type));
    }
    // pgoutput does not publish generated columns (15; 18 only for a
    // publication with publish_generated_columns, which pgcdc does not set).
    defs.push_back("c_gen int GENERATED ALWAYS AS (c_int2 * 2) STORED");
    Sql(absl::StrCat("CREATE TABLE alltypes (", absl::StrJoin(defs, ", "),
                     ")"));

    return columns;
  }

  // Rows first (edge values), first + 1 (all NULL) and first + 2 (ordinary
  // values).
  void InsertRows(int first = 1) {
    // Row 1: edge values. Row 2: all NULL. Row 3: ordinary values.
    std::vector<std::pair<std::string, std::string>> edge = {
        {"c_bool", "true"},
        {"c_int2", "-32768"},
        {"c_int4", "2147483647"},
        {"c_int8", "-9223372036854775808"},
        {"c_oid", "4294967295"},
        {"c_float4", "'NaN'"},
        {"c_float8", "'-Infinity'"},
        {"c_numeric", "'-1234567890123456789012345.678901234567890123'"},
        {"c_money", "-92233720368547758.08"},
        {"c_text", "E'tab\\there \"quoted\" back\\\\slash, {brace} (paren) é'"},
        {"c_varchar", "''"},
        {"c_bpchar", "'ab'"},
        {"c_name", "'Name With Spaces'"},
        {"c_bytea", "'\\x00ff7f80'"},
        {"c_uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"},
        {"c_json", "'{\"b\": 1,   \"a\": [true, null]}'"},
        {"c_jsonb", "'{\"b\": 1, \"a\": [true, null, 1.50]}'"},
        {"c_xml", "'<a x=\"1\">t&amp;</a>'"},
        {"c_date", "'4713-01-01 BC'"},
        {"c_time", "'24:00:00'"},
        {"c_timetz", "'23:59:59.999999-15:59'"},
        {"c_ts", "'4713-01-01 00:00:00 BC'"},
        {"c_tstz", "'294246-12-31 23:59:59.999999+00'"},
        {"c_interval", "'-178000000 years -2 months 3 days -04:05:06.000001'"},
        {"c_inet", "'2001:db8::1/64'"},
        {"c_cidr", "'10.0.0.0/8'"},
        {"c_macaddr", "'08:00:2b:01:02:03'"},
        {"c_macaddr8", "'08:00:2b:01:02:03:04:05'"},
        {"c_bit", "B'1010'"},
        {"c_varbit", "B''"},
        {"c_tsvector", "'a fat:2 cat''s sat'"},
        {"c_point", "'(1.5,-2)'"},
        {"c_line", "'{1,-1,0}'"},
        {"c_lseg", "'[(0,0),(1,1)]'"},
        {"c_box", "'(2,2),(0,0)'"},
        {"c_path", "'[(0,0),(1,1),(2,0)]'"},
        {"c_polygon", "'((0,0),(1,1),(1,0))'"},
        {"c_circle", "'<(0,0),1.5>'"},
        {"c_int4range", "'empty'"},
        {"c_tstzrange", "'[2024-01-01 00:00+02,infinity)'"},
        {"c_numrange", "'(,1.5]'"},
        {"c_multirange", "'{[1,3),[5,7)}'"},
        {"c_mood", "'happy'"},
        {"c_price", "12345.60"},
        {"c_pair", "ROW(NULL, '', 'sad', '-infinity')"},
        {"c_int4_arr", "'[0:1][-1:1]={{1,NULL,3},{4,5,NULL}}'"},
        {"c_text_arr", "ARRAY['NULL', NULL, '', 'a b', 'q\"\\', 'x,y']"},
        {"c_tstz_arr",
         "ARRAY['2024-02-29 12:00:00.5+01', 'infinity', NULL]"
         "::timestamptz[]"},
        {"c_numeric_arr",
         "ARRAY['NaN', 'Infinity', '-0.000001', NULL]"
         "::numeric[]"},
        {"c_pair_arr",
         "ARRAY[ROW(1, 'x y', 'ok', NULL)::pair, NULL, "
         "ROW(NULL, NULL, NULL, NULL)::pair]"},
        {"c_box_arr", "'{(1,1),(0,0);(3,3),(2,2)}'"},
        {"c_mood_arr", "'{{sad,happy},{NULL,ok}}'"},
        {"c_date_arr", "'{294276-12-31,-infinity,0001-01-01 BC}'"},
        {"c_float8_arr", "'{NaN,Infinity,1e-300,0.1,-0}'"},
        {"c_interval_arr", "ARRAY['1 mon -1 sec', '0', NULL]::interval[]"},
    };
    if (citext_) edge.push_back({"c_citext", "'MiXeD Case'"});
    if (hstore_) edge.push_back({"c_hstore", "'a=>1, \"b c\"=>NULL, d=>\"\"'"});
    std::vector<std::string> names, values;
    for (const auto& [name, value] : edge) {
      names.push_back(name);
      values.push_back(value);
    }
    Sql(absl::StrCat("INSERT INTO alltypes (id, ", absl::StrJoin(names, ", "),
                     ") VALUES (", first, ", ", absl::StrJoin(values, ", "),
                     ")"));
    Sql(absl::StrCat("INSERT INTO alltypes (id) VALUES (", first + 1, ")"));
    Sql("INSERT INTO alltypes (id, c_int8, c_float8, c_numeric, c_date, c_ts, "
        "c_tstz, c_time, c_interval, c_int4_arr, c_pair, c_price, c_mood) "
        "VALUES (" +
        std::to_string(first + 2) +
        ", 9223372036854775807, 0.1, 'NaN', '294276-12-31', "
        "'2024-02-29 13:45:06.123456', '2024-02-29 13:45:06.123456-08', "
        "'13:45:06.5', 'P1Y2M3DT4H5M6.5S', '{}', ROW(7, 'seven', 'ok', "
        "'1970-01-01 00:00:00+00'), 0.01, 'sad')");
  }

  bool citext_ = false;
  bool hstore_ = false;
};

TEST_F(TypesTest, EveryCommonTypeRoundTrips) {
  std::vector<ColumnDef> columns = CreateAllTypes();
  const bool citext = citext_;
  const bool hstore = hstore_;
  Subprocess p = StartPgcdc(WriteConfig({"public.alltypes"}));
  InsertRows();
  auto inserted = ServerText(columns);
  // Typed expectations computed by SQL, before the update changes them.
  const int64_t bc_days = SqlInt("c_date - '1970-01-01'::date", 1);
  const int64_t bc_ts_us = SqlInt("extract(epoch FROM c_ts) * 1000000", 1);
  const int64_t tstz_us = SqlInt("extract(epoch FROM c_tstz) * 1000000", 3);
  const int64_t ts_us = SqlInt("extract(epoch FROM c_ts) * 1000000", 3);
  const int64_t max_days = SqlInt("c_date - '1970-01-01'::date", 3);

  Sql("UPDATE alltypes SET c_float8 = 'NaN', c_numeric = 'Infinity', "
      "c_ts = 'infinity', c_tstz = '-infinity', c_date = 'infinity', "
      "c_int4_arr = '{{1},{2}}', c_mood = 'ok', "
      "c_pair = ROW(1, 'a\"b\\c', NULL, '2000-01-01 00:00+00'), "
      "c_text = NULL WHERE id = 1");
  Sql("UPDATE alltypes SET c_ts = '294276-12-31 23:59:59.999999', "
      "c_int4 = 21 WHERE id = 3");
  auto updated = ServerText(columns);
  WaitCaughtUp();
  StopPgcdc(p);

  std::vector<ReadEvent> events = ReadTopic("public.alltypes");
  ASSERT_EQ(events.size(), 5u);
  std::map<int64_t, std::vector<const v1::ChangeEvent*>> by_id;
  for (const ReadEvent& e : events) {
    by_id[e.key->columns(0).value().int_value()].push_back(&e.event);
  }
  ASSERT_EQ(by_id[1].size(), 2u);
  ASSERT_EQ(by_id[2].size(), 1u);
  ASSERT_EQ(by_id[3].size(), 2u);

  for (int64_t id : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat("id ", id));
    const std::string key = absl::StrCat(id);
    ExpectRoundTrip(by_id[id][0]->after(), columns, inserted[key]);
    if (by_id[id].size() > 1) {
      ExpectRoundTrip(by_id[id][1]->after(), columns, updated[key]);
    }
    EXPECT_EQ(Find(by_id[id][0]->after(), "c_gen"), nullptr)
        << "pgoutput publishes no generated column";
  }

  // Typed cases, row 1 (edge values) as inserted.
  const v1::Row& r1 = by_id[1][0]->after();
  EXPECT_EQ(Find(r1, "c_int8")->value().int_value(), INT64_MIN);
  EXPECT_EQ(Find(r1, "c_oid")->value().int_value(), 4294967295LL);
  EXPECT_TRUE(std::isnan(Find(r1, "c_float4")->value().double_value()));
  EXPECT_EQ(Find(r1, "c_float8")->value().double_value(), -INFINITY);
  EXPECT_EQ(Find(r1, "c_numeric")->value().numeric_value().value(),
            "-1234567890123456789012345.678901234567890123");
  EXPECT_EQ(Find(r1, "c_numeric")->value().numeric_value().scale(), 18);
  EXPECT_EQ(Find(r1, "c_bytea")->value().bytes_value(),
            std::string("\x00\xff\x7f\x80", 4));
  EXPECT_EQ(Find(r1, "c_date")->value().date_days(), bc_days);
  EXPECT_EQ(Find(r1, "c_ts")->value().local_timestamp_us(), bc_ts_us);
  EXPECT_EQ(Find(r1, "c_time")->value().time_us(), 86400000000LL);
  EXPECT_EQ(Find(r1, "c_timetz")->value().text(), "23:59:59.999999-15:59");
  const v1::Interval& iv = Find(r1, "c_interval")->value().interval_value();
  EXPECT_EQ(iv.months(), -178000000 * 12 - 2);
  EXPECT_EQ(iv.days(), 3);
  EXPECT_EQ(iv.microseconds(), -((4 * 3600 + 5 * 60 + 6) * 1000000LL + 1));
  EXPECT_EQ(Find(r1, "c_mood")->value().text(), "happy");
  EXPECT_EQ(Find(r1, "c_mood")->type(), "public.mood");
  const v1::Column* price = Find(r1, "c_price");
  EXPECT_EQ(price->type(), "public.positive_price");
  EXPECT_EQ(price->base_type(), "numeric");
  EXPECT_EQ(price->value().numeric_value().value(), "12345.60");
  EXPECT_EQ(Find(r1, "c_int4")->base_type(), "");

  const v1::Row& pair = Find(r1, "c_pair")->value().composite_value();
  ASSERT_EQ(pair.columns_size(), 4);
  EXPECT_EQ(pair.columns(0).name(), "a");
  EXPECT_TRUE(pair.columns(0).value().has_null());
  EXPECT_EQ(pair.columns(1).value().text(), "");
  EXPECT_EQ(pair.columns(2).type(), "public.mood");
  EXPECT_EQ(pair.columns(3).value().text(), "-infinity");

  const v1::Column* arr = Find(r1, "c_int4_arr");
  EXPECT_EQ(arr->type(), "_int4");
  const v1::ArrayValue& a = arr->value().array_value();
  EXPECT_EQ(a.element_type(), "int4");
  EXPECT_THAT(a.dims(), ::testing::ElementsAre(2, 3));
  EXPECT_THAT(a.lower_bounds(), ::testing::ElementsAre(0, -1));
  ASSERT_EQ(a.elements_size(), 6);
  EXPECT_EQ(a.elements(0).int_value(), 1);
  EXPECT_TRUE(a.elements(1).has_null());
  EXPECT_TRUE(a.elements(5).has_null());
  const v1::ArrayValue& texts = Find(r1, "c_text_arr")->value().array_value();
  EXPECT_EQ(texts.elements(0).text(), "NULL");
  EXPECT_TRUE(texts.elements(1).has_null());
  const v1::ArrayValue& pairs = Find(r1, "c_pair_arr")->value().array_value();
  EXPECT_EQ(pairs.element_type(), "public.pair");
  EXPECT_EQ(pairs.elements(0).composite_value().columns(1).value().text(),
            "x y");
  EXPECT_TRUE(pairs.elements(1).has_null());
  const v1::ArrayValue& moods = Find(r1, "c_mood_arr")->value().array_value();
  EXPECT_THAT(moods.dims(), ::testing::ElementsAre(2, 2));
  EXPECT_EQ(moods.elements(1).text(), "happy");
  EXPECT_EQ(Find(r1, "c_box_arr")->value().array_value().elements_size(), 2);
  const v1::ArrayValue& dates = Find(r1, "c_date_arr")->value().array_value();
  EXPECT_EQ(dates.elements(0).date_days(), max_days);
  EXPECT_EQ(dates.elements(1).text(), "-infinity");
  if (citext) {
    EXPECT_EQ(Find(r1, "c_citext")->value().text(), "MiXeD Case");
  }
  if (hstore) {
    EXPECT_EQ(Find(r1, "c_hstore")->type(), "public.hstore");
    EXPECT_EQ(Find(r1, "c_hstore")->value().kind_case(), v1::Value::kText);
  }

  // Row 2: every column NULL.
  for (const ColumnDef& def : columns) {
    EXPECT_TRUE(Find(by_id[2][0]->after(), def.name)->value().has_null())
        << def.name;
  }

  // Row 3 as inserted, and its update past int64 µs since 1970.
  const v1::Row& r3 = by_id[3][0]->after();
  EXPECT_EQ(Find(r3, "c_int8")->value().int_value(), INT64_MAX);
  EXPECT_EQ(Find(r3, "c_numeric")->value().numeric_value().value(), "NaN");
  EXPECT_EQ(Find(r3, "c_date")->value().date_days(), max_days);
  EXPECT_EQ(Find(r3, "c_tstz")->value().timestamp_us(), tstz_us);
  EXPECT_EQ(Find(r3, "c_ts")->value().local_timestamp_us(), ts_us);
  EXPECT_EQ(Find(r3, "c_time")->value().time_us(),
            (13 * 3600 + 45 * 60 + 6) * 1000000LL + 500000);
  EXPECT_EQ(Find(r3, "c_int4_arr")->value().array_value().dims_size(), 0);
  EXPECT_EQ(Find(by_id[3][1]->after(), "c_ts")->value().text(),
            "294276-12-31 23:59:59.999999");

  // Row 1 updated: specials.
  const v1::Row& u1 = by_id[1][1]->after();
  EXPECT_TRUE(std::isnan(Find(u1, "c_float8")->value().double_value()));
  EXPECT_EQ(Find(u1, "c_numeric")->value().numeric_value().value(), "Infinity");
  EXPECT_EQ(Find(u1, "c_ts")->value().text(), "infinity");
  EXPECT_EQ(Find(u1, "c_tstz")->value().text(), "-infinity");
  EXPECT_EQ(Find(u1, "c_date")->value().text(), "infinity");
  EXPECT_TRUE(Find(u1, "c_text")->value().has_null());
  EXPECT_EQ(
      Find(u1, "c_pair")->value().composite_value().columns(1).value().text(),
      "a\"b\\c");
  EXPECT_EQ(Find(u1, "c_pair")
                ->value()
                .composite_value()
                .columns(3)
                .value()
                .timestamp_us(),
            946684800000000LL);
}

// A snapshot reads values with COPY, the stream with pgoutput: the same rows
// must give the same events either way, value for value and type for type.
TEST_F(TypesTest, SnapshotGivesTheSameValuesAsTheStream) {
  std::vector<ColumnDef> columns = CreateAllTypes();
  InsertRows();  // before pgcdc starts: read by the initial snapshot
  auto expected = ServerText(columns);
  Subprocess p = StartPgcdc(WriteConfig({"public.alltypes"}));
  // The same rows again, copied by the server, now through the stream.
  std::vector<std::string> names;
  for (const ColumnDef& c : columns) names.push_back(c.name);
  Sql(absl::StrCat("INSERT INTO alltypes (id, ", absl::StrJoin(names, ", "),
                   ") SELECT id + 100, ", absl::StrJoin(names, ", "),
                   " FROM alltypes"));
  WaitCaughtUp();
  StopPgcdc(p);

  std::vector<ReadEvent> events = ReadTopic("public.alltypes");
  ASSERT_EQ(events.size(), 6u);
  std::map<int64_t, const v1::ChangeEvent*> by_id;
  for (const ReadEvent& e : events) {
    by_id[e.key->columns(0).value().int_value()] = &e.event;
  }
  for (int64_t id : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat("id ", id));
    ASSERT_EQ(by_id.count(id), 1u);
    ASSERT_EQ(by_id.count(id + 100), 1u);
    const v1::ChangeEvent& read = *by_id[id];
    const v1::ChangeEvent& streamed = *by_id[id + 100];
    EXPECT_EQ(read.op(), v1::READ);
    EXPECT_TRUE(read.source().snapshot());
    EXPECT_EQ(streamed.op(), v1::CREATE);
    EXPECT_EQ(read.source().shape_id(), streamed.source().shape_id())
        << "the catalog's shape differs from pgoutput's Relation message";
    ExpectRoundTrip(read.after(), columns, expected[absl::StrCat(id)]);
    // Every column but id: identical Column messages (name, type,
    // base_type, type_oid, key flag, typed value).
    v1::Row a = read.after(), b = streamed.after();
    ASSERT_EQ(a.columns_size(), b.columns_size());
    for (int i = 1; i < a.columns_size(); ++i) {
      EXPECT_EQ(a.columns(i).SerializeAsString(),
                b.columns(i).SerializeAsString())
          << a.columns(i).ShortDebugString() << "\nvs\n"
          << b.columns(i).ShortDebugString();
    }
    EXPECT_EQ(Find(a, "c_gen"), nullptr)
        << "generated columns are not read, as they are not streamed";
  }
}

TEST_F(TypesTest, SessionSettingsWinOverDatabaseAndDsn) {
  // Every setting that changes how values print, set the other way for the
  // database, and TimeZone again in the dsn's own options.
  Sql(absl::StrCat("ALTER DATABASE ", db_,
                   " SET timezone = 'Asia/Kolkata'; ALTER DATABASE ", db_,
                   " SET datestyle = 'SQL, DMY'; ALTER DATABASE ", db_,
                   " SET intervalstyle = 'postgres_verbose'; ALTER DATABASE ",
                   db_, " SET extra_float_digits = -3; ALTER DATABASE ", db_,
                   " SET bytea_output = 'escape'"));
  Sql("CREATE TABLE t (id int PRIMARY KEY, ts timestamptz, d date, "
      "i interval, f float8, b bytea, n numeric)");
  std::string config = WriteConfig({"public.t"});
  EditConfig(config, "dsn: \"([^\"]*)\"",
             absl::StrCat("dsn: \"", cluster_->Dsn(db_),
                          " options='-c TimeZone=Asia/Tokyo -c "
                          "DateStyle=German'\""));
  const std::string values =
      "'2024-02-29 12:00:00.25+00', '2024-02-29', '1 day 2 hours', 0.1, "
      "'\\x00ff', 1.5)";
  // Row 0 is read by the initial snapshot, row 1 streamed: both sessions
  // run under pgcdc's settings.
  Sql(absl::StrCat("INSERT INTO t VALUES (0, ", values));
  Subprocess p = StartPgcdc(config);
  Sql(absl::StrCat("INSERT INTO t VALUES (1, ", values));
  WaitCaughtUp();
  StopPgcdc(p);
  std::vector<ReadEvent> events = ReadTopic("public.t");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.op() + events[1].event.op(), v1::READ + v1::CREATE);
  for (const ReadEvent& event : events) {
    const v1::Row& row = event.event.after();
    SCOPED_TRACE(v1::Op_Name(event.event.op()));
    EXPECT_EQ(Find(row, "ts")->value().timestamp_us(), 1709208000250000LL);
    EXPECT_EQ(Find(row, "d")->value().date_days(), 19782);
    EXPECT_EQ(Find(row, "i")->value().interval_value().days(), 1);
    EXPECT_EQ(Find(row, "i")->value().interval_value().microseconds(),
              7200000000LL);
    EXPECT_EQ(Find(row, "f")->value().double_value(), 0.1);
    EXPECT_EQ(Find(row, "b")->value().bytes_value(),
              std::string("\x00\xff", 2));
    EXPECT_EQ(Find(row, "n")->value().numeric_value().value(), "1.5");
  }
}

// The "done when": a table holding every type above, changed by
// inserts, updates (a key change, TOAST-sized values left unchanged), deletes,
// a truncate and schema changes, rebuilt from its topic — merging unchanged
// TOASTed values as docs/envelope.md says — exactly as SELECT shows it.
TEST_F(TypesTest, EveryKindOfChangeRebuildsTheTableExactly) {
  CreateAllTypes();
  Sql("ALTER TABLE alltypes ADD COLUMN c_big text");
  Subprocess p = StartPgcdc(WriteConfig({"public.alltypes"}));
  // Incompressible, ~64 kB: stored out of line (TOASTed).
  const std::string big =
      "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 2000) g)";
  InsertRows(1);
  Sql("UPDATE alltypes SET c_big = " + big + " WHERE id = 1");
  Sql("TRUNCATE alltypes");
  InsertRows(10);  // 10: edge values, 11: NULLs, 12: ordinary values
  InsertRows(40);
  Sql("UPDATE alltypes SET c_big = " + big + " || id WHERE id IN (10, 12)");
  Sql("ALTER TABLE alltypes ADD COLUMN c_added int DEFAULT 5");
  Sql("ALTER TABLE alltypes RENAME COLUMN c_text TO c_text_renamed");
  Sql("ALTER TABLE alltypes ALTER COLUMN c_varchar TYPE text");
  Sql("ALTER TABLE alltypes ALTER COLUMN c_int4 TYPE int8");  // a rewrite
  Sql("ALTER TABLE alltypes DROP COLUMN c_line");
  // Every row written after the changes (a row no event touched since an
  // ADD COLUMN cannot carry it: the server sends nothing for it); c_big is
  // left unchanged.
  Sql("UPDATE alltypes SET c_added = c_added + id");
  // A key change of a row with a TOASTed value, in a transaction with more.
  Sql("BEGIN; UPDATE alltypes SET id = 30 WHERE id = 12; "
      "UPDATE alltypes SET c_int8 = 1 WHERE id = 10; COMMIT");
  Sql("DELETE FROM alltypes WHERE id = 11");
  Sql("INSERT INTO alltypes (id, c_text_renamed, c_varchar, c_int4, c_added, "
      "c_big) VALUES (50, 'new', repeat('v', 30), 8589934592, 1, " +
      big + ")");
  Sql("UPDATE alltypes SET c_bool = NOT coalesce(c_bool, false) "
      "WHERE id IN (30, 41, 50)");
  WaitCaughtUp();
  StopPgcdc(p);

  std::vector<ReadEvent> events = ReadTopic("public.alltypes");
  EXPECT_EQ(CheckOrderAndDuplicates(events), "");
  // The events that left c_big out as an unchanged TOASTed value, by key,
  // in commit order: every update of a row whose c_big is stored out of
  // line and that does not set c_big. Rows 11, 40, 41 and 42 have a NULL
  // c_big (no TOAST), and rows 1 and 50 got theirs written, not left, by
  // the statement itself.
  std::vector<ReadEvent> in_order = events;
  std::sort(in_order.begin(), in_order.end(),
            [](const ReadEvent& x, const ReadEvent& y) {
              return IdOf(x.event.source()) < IdOf(y.event.source());
            });
  std::vector<std::string> unchanged;
  for (const ReadEvent& e : in_order) {
    const v1::Column* c = Find(e.event.after(), "c_big");
    if (c != nullptr && c->value().has_unchanged_toast()) {
      unchanged.push_back(
          absl::StrCat(v1::Op_Name(e.event.op()), " ", KeyText(*e.key)));
    }
  }
  EXPECT_THAT(unchanged, ::testing::ElementsAre(
                             // SET c_added = c_added + id
                             "UPDATE id=10", "UPDATE id=12",
                             // the key change 12 → 30, as DELETE + CREATE
                             "CREATE id=30",
                             // SET c_int8 = 1 WHERE id = 10
                             "UPDATE id=10",
                             // SET c_bool = ... WHERE id IN (30, 41, 50)
                             "UPDATE id=30", "UPDATE id=50"))
      << "the merge of unchanged TOAST is what this checks";
  absl::StatusOr<std::unique_ptr<pg::SqlConnection>> conn =
      pg::SqlConnection::Connect(cluster_->Dsn(db_));
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE((*conn)->Query(kSessionSettings).ok());
  absl::StatusOr<TableImage> source = SelectTable(**conn, "alltypes", {"id"});
  ASSERT_TRUE(source.ok()) << source.status();
  // pgoutput publishes no generated column (15, nor 18 by default).
  for (auto& [key, row] : *source) row.erase("c_gen");
  TableImage rebuilt = Rebuild(events);
  ASSERT_EQ(rebuilt.size(), 6u);  // 10, 30, 40, 41, 42, 50
  EXPECT_EQ(rebuilt.count("id=11"), 0u);
  for (const auto& [key, row] : *source) {
    SCOPED_TRACE(key);
    ASSERT_EQ(rebuilt.count(key), 1u);
    for (const auto& [column, value] : row) {
      EXPECT_EQ(rebuilt[key][column], value) << column;
    }
    EXPECT_EQ(rebuilt[key].size(), row.size());
  }
}

}  // namespace
}  // namespace cdc::testing
