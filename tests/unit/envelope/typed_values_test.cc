// The value codec with catalog facts (arrays, composites, domains, enums)
// and the date/time cases, and the round trip back to the server's text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "cdc/envelope/value_codec.h"
#include "cdc/envelope/value_text.h"
#include "cdc/pg/type_registry.h"

namespace cdc::envelope {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr pg::Oid kTextOid = 25;
constexpr pg::Oid kBoxOid = 603;
constexpr pg::Oid kInt4ArrayOid = 1007;
constexpr pg::Oid kTextArrayOid = 1009;
constexpr pg::Oid kBoxArrayOid = 1020;
constexpr pg::Oid kTimestamptzArrayOid = 1185;
constexpr pg::Oid kMoodOid = 20000;
constexpr pg::Oid kPriceOid = 20001;     // domain over numeric
constexpr pg::Oid kPositiveOid = 20002;  // domain over price
constexpr pg::Oid kPairOid = 20003;      // composite (a int4, b text, m mood)
constexpr pg::Oid kPairArrayOid = 20004;
constexpr pg::Oid kNestedOid = 20005;  // composite (p pair, xs int4[])

pg::TypeInfo Base(pg::Oid oid, std::string name, char delimiter = ',') {
  pg::TypeInfo t;
  t.oid = oid;
  t.name = std::move(name);
  t.delimiter = delimiter;
  return t;
}

pg::TypeInfo ArrayOf(pg::Oid oid, std::string name, pg::Oid element) {
  pg::TypeInfo t = Base(oid, std::move(name));
  t.array_element = element;
  return t;
}

class TypedValuesTest : public ::testing::Test {
 protected:
  TypedValuesTest() {
    types_.Add(Base(kInt4Oid, "int4"));
    types_.Add(Base(kTextOid, "text"));
    types_.Add(Base(kNumericOid, "numeric"));
    types_.Add(Base(kTimestamptzOid, "timestamptz"));
    types_.Add(Base(kBoxOid, "box", ';'));
    types_.Add(Base(kFloat4Oid, "float4"));
    types_.Add(ArrayOf(kInt4ArrayOid, "_int4", kInt4Oid));
    types_.Add(ArrayOf(kTextArrayOid, "_text", kTextOid));
    types_.Add(ArrayOf(kBoxArrayOid, "_box", kBoxOid));
    types_.Add(ArrayOf(kTimestamptzArrayOid, "_timestamptz", kTimestamptzOid));
    pg::TypeInfo mood = Base(kMoodOid, "public.mood");
    mood.kind = pg::TypeInfo::Kind::kEnum;
    types_.Add(mood);
    pg::TypeInfo price = Base(kPriceOid, "public.price");
    price.kind = pg::TypeInfo::Kind::kDomain;
    price.domain_base = kNumericOid;
    types_.Add(price);
    pg::TypeInfo positive = Base(kPositiveOid, "public.positive_price");
    positive.kind = pg::TypeInfo::Kind::kDomain;
    positive.domain_base = kPriceOid;
    types_.Add(positive);
    pg::TypeInfo pair = Base(kPairOid, "public.pair");
    pair.kind = pg::TypeInfo::Kind::kComposite;
    pair.attributes = {{"a", kInt4Oid}, {"b", kTextOid}, {"m", kMoodOid}};
    types_.Add(pair);
    types_.Add(ArrayOf(kPairArrayOid, "public._pair", kPairOid));
    pg::TypeInfo nested = Base(kNestedOid, "public.nested");
    nested.kind = pg::TypeInfo::Kind::kComposite;
    nested.attributes = {{"p", kPairOid}, {"xs", kInt4ArrayOid}};
    types_.Add(nested);
  }

  // Converts, then checks the value prints back as the same text.
  v1::Value Convert(pg::Oid oid, const std::string& text,
                    const std::string& type = "") {
    v1::Value value;
    absl::Status s = ConvertText(&types_, oid, text, &value);
    EXPECT_TRUE(s.ok()) << text << ": " << s;
    EXPECT_EQ(ValueToPgText(value, type).value_or("<null>"), text);
    return value;
  }

  pg::TypeRegistry types_;
};

TEST_F(TypedValuesTest, DateTimeCases) {
  EXPECT_EQ(Convert(kDateOid, "2024-02-29").date_days(), 19782);
  EXPECT_EQ(Convert(kDateOid, "4713-01-01 BC").kind_case(),
            v1::Value::kDateDays);
  EXPECT_EQ(Convert(kTimeOid, "24:00:00").time_us(), 86400000000);
  EXPECT_EQ(Convert(kTimestampOid, "1970-01-01 00:00:01").local_timestamp_us(),
            1000000);
  EXPECT_EQ(Convert(kTimestamptzOid, "1970-01-01 00:00:01+00").timestamp_us(),
            1000000);
  v1::Value interval = Convert(kIntervalOid, "P1Y2M3DT-4H-0.5S");
  EXPECT_EQ(interval.interval_value().months(), 14);
  EXPECT_EQ(interval.interval_value().days(), 3);
  EXPECT_EQ(interval.interval_value().microseconds(), -14400500000);
}

TEST_F(TypedValuesTest, InfinityAndOutOfRangeTimestampsStayText) {
  for (pg::Oid oid : {kDateOid, kTimestampOid, kTimestamptzOid}) {
    EXPECT_EQ(Convert(oid, "infinity").text(), "infinity");
    EXPECT_EQ(Convert(oid, "-infinity").text(), "-infinity");
  }
  EXPECT_EQ(Convert(kTimestampOid, "294276-12-31 23:59:59.999999").text(),
            "294276-12-31 23:59:59.999999");
  EXPECT_EQ(Convert(kTimestamptzOid, "294276-12-31 23:59:59.999999+00").text(),
            "294276-12-31 23:59:59.999999+00");
  v1::Value value;
  EXPECT_EQ(ConvertText(&types_, kTimeOid, "infinity", &value).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ConvertText(&types_, kTimestampOid, "Infinity", &value).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(TypedValuesTest, ArraysConvertElementsByType) {
  v1::Value v = Convert(kInt4ArrayOid, "[0:1][1:2]={{1,NULL},{3,4}}");
  const v1::ArrayValue& a = v.array_value();
  EXPECT_EQ(a.element_type(), "int4");
  EXPECT_THAT(a.dims(), ElementsAre(2, 2));
  EXPECT_THAT(a.lower_bounds(), ElementsAre(0, 1));
  ASSERT_EQ(a.elements_size(), 4);
  EXPECT_EQ(a.elements(0).int_value(), 1);
  EXPECT_TRUE(a.elements(1).has_null());
  EXPECT_EQ(a.elements(3).int_value(), 4);

  v = Convert(kTextArrayOid, R"({"NULL",NULL,"a b","","q\"\\"})");
  EXPECT_EQ(v.array_value().elements(0).text(), "NULL");
  EXPECT_TRUE(v.array_value().elements(1).has_null());
  EXPECT_EQ(v.array_value().elements(4).text(), "q\"\\");

  EXPECT_EQ(Convert(kInt4ArrayOid, "{}").array_value().dims_size(), 0);
  v = Convert(kBoxArrayOid, "{(1,1),(0,0);(2,2),(1,1)}");
  EXPECT_EQ(v.array_value().elements_size(), 2);
  v = Convert(kTimestamptzArrayOid,
              R"({"1970-01-01 00:00:00+00",infinity,NULL})");
  EXPECT_EQ(v.array_value().elements(0).timestamp_us(), 0);
  EXPECT_EQ(v.array_value().elements(1).text(), "infinity");
}

TEST_F(TypedValuesTest, BadElementIsDataLossNamingTheArray) {
  v1::Value value;
  absl::Status s = ConvertText(&types_, kInt4ArrayOid, "{1,x}", &value);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("_int4"));
  EXPECT_THAT(s.message(), HasSubstr("int4 value \"x\""));
  EXPECT_EQ(ConvertText(&types_, kInt4ArrayOid, "{1,2", &value).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(TypedValuesTest, CompositesNameAndTypeTheirFields) {
  v1::Value v = Convert(kPairOid, R"((1,,happy))");
  const v1::Row& row = v.composite_value();
  ASSERT_EQ(row.columns_size(), 3);
  EXPECT_EQ(row.columns(0).name(), "a");
  EXPECT_EQ(row.columns(0).type(), "int4");
  EXPECT_EQ(row.columns(0).value().int_value(), 1);
  EXPECT_TRUE(row.columns(1).value().has_null());
  EXPECT_EQ(row.columns(2).type(), "public.mood");
  EXPECT_EQ(row.columns(2).type_oid(), kMoodOid);
  EXPECT_EQ(row.columns(2).value().text(), "happy");

  v = Convert(kPairOid, R"x((2,"",sad))x");
  EXPECT_EQ(v.composite_value().columns(1).value().text(), "");

  v = Convert(kNestedOid, R"x(("(1,""a b"",ok)","{1,2}"))x");
  const v1::Row& nested = v.composite_value();
  EXPECT_EQ(
      nested.columns(0).value().composite_value().columns(1).value().text(),
      "a b");
  EXPECT_EQ(nested.columns(1).value().array_value().elements(1).int_value(), 2);

  v = Convert(kPairArrayOid, R"x({"(1,x,ok)",NULL,"(,,)"})x");
  EXPECT_EQ(
      v.array_value().elements(0).composite_value().columns(1).value().text(),
      "x");
  EXPECT_TRUE(v.array_value().elements(1).has_null());

  v1::Value value;
  absl::Status s = ConvertText(&types_, kPairOid, "(1,x)", &value);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("2 fields but the type has 3"));
  s = ConvertText(&types_, kPairOid, "(y,x,ok)", &value);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("public.pair.a"));
}

TEST_F(TypedValuesTest, DomainsResolveToTheirBase) {
  v1::Value v = Convert(kPositiveOid, "12.50");
  EXPECT_EQ(v.numeric_value().value(), "12.50");
  EXPECT_EQ(v.numeric_value().scale(), 2);
  EXPECT_EQ(BaseTypeNameFor(&types_, kPositiveOid), "numeric");
  EXPECT_EQ(BaseTypeNameFor(&types_, kNumericOid), "");
  EXPECT_EQ(TypeNameFor(&types_, kPositiveOid), "public.positive_price");
  EXPECT_EQ(TypeNameFor(&types_, 424242), "oid:424242");
}

TEST_F(TypedValuesTest, UnknownTypesAreText) {
  EXPECT_EQ(Convert(424242, "{weird(stuff}").text(), "{weird(stuff}");
  EXPECT_EQ(Convert(kMoodOid, "happy").text(), "happy");
}

TEST_F(TypedValuesTest, RegistryListsWhatIsMissing) {
  pg::TypeInfo t = Base(30000, "public.t");
  t.kind = pg::TypeInfo::Kind::kComposite;
  t.attributes = {{"x", kInt4Oid}, {"y", 30001}};
  types_.Add(t);
  EXPECT_THAT(types_.Missing(30000), ElementsAre(30001));
  EXPECT_THAT(types_.Missing(kPairArrayOid), ElementsAre());
  EXPECT_THAT(types_.Missing(40000), ElementsAre(40000));
}

TEST(ValueTextTest, FloatsPrintAsTheServerDoes) {
  EXPECT_EQ(FormatFloat8(100000), "100000");
  EXPECT_EQ(FormatFloat8(1e100), "1e+100");
  EXPECT_EQ(FormatFloat8(1e-5), "1e-05");
  EXPECT_EQ(FormatFloat8(0.0001), "0.0001");
  EXPECT_EQ(FormatFloat8(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(FormatFloat8(1e15), "1e+15");
  EXPECT_EQ(FormatFloat8(123456789012345.0), "123456789012345");
  EXPECT_EQ(FormatFloat8(0.1), "0.1");
  EXPECT_EQ(FormatFloat8(-0.0), "-0");
  EXPECT_EQ(FormatFloat8(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatFloat8(-std::numeric_limits<double>::infinity()),
            "-Infinity");
  EXPECT_EQ(FormatFloat4(0.1f), "0.1");
  EXPECT_EQ(FormatFloat4(1e6f), "1e+06");
  EXPECT_EQ(FormatFloat4(123456.0f), "123456");
  EXPECT_EQ(FormatFloat8(std::numeric_limits<double>::max()),
            "1.7976931348623157e+308");
}

}  // namespace
}  // namespace cdc::envelope
