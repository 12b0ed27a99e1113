#include "cdc/envelope/value_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace cdc::envelope {
namespace {

using ::testing::HasSubstr;

pg::TupleValue Text(std::string data) {
  return pg::TupleValue{pg::TupleValue::Kind::kText, std::move(data)};
}

v1::Value MustConvert(pg::Oid oid, const std::string& text) {
  absl::StatusOr<v1::Value> value = TextToValue(oid, Text(text));
  EXPECT_TRUE(value.ok()) << oid << " \"" << text << "\": " << value.status();
  return value.ok() ? *value : v1::Value();
}

void ExpectDataLoss(pg::Oid oid, const std::string& text) {
  absl::StatusOr<v1::Value> value = TextToValue(oid, Text(text));
  EXPECT_EQ(value.status().code(), absl::StatusCode::kDataLoss)
      << oid << " \"" << text << "\"";
}

TEST(ValueCodecTest, NullAndUnchangedToastIgnoreType) {
  for (pg::Oid oid : {kBoolOid, kInt4Oid, kNumericOid, pg::Oid{25}}) {
    auto null = TextToValue(oid, pg::TupleValue{});
    ASSERT_TRUE(null.ok());
    EXPECT_EQ(null->kind_case(), v1::Value::kNull);

    auto toast = TextToValue(
        oid, pg::TupleValue{pg::TupleValue::Kind::kUnchangedToast, ""});
    ASSERT_TRUE(toast.ok());
    EXPECT_EQ(toast->kind_case(), v1::Value::kUnchangedToast);
  }
}

TEST(ValueCodecTest, Bool) {
  EXPECT_TRUE(MustConvert(kBoolOid, "t").bool_value());
  v1::Value f = MustConvert(kBoolOid, "f");
  EXPECT_EQ(f.kind_case(), v1::Value::kBoolValue);
  EXPECT_FALSE(f.bool_value());
  ExpectDataLoss(kBoolOid, "true");
  ExpectDataLoss(kBoolOid, "");
  ExpectDataLoss(kBoolOid, "T");
}

TEST(ValueCodecTest, Integers) {
  EXPECT_EQ(MustConvert(kInt2Oid, "-32768").int_value(), -32768);
  EXPECT_EQ(MustConvert(kInt2Oid, "32767").int_value(), 32767);
  EXPECT_EQ(MustConvert(kInt4Oid, "-2147483648").int_value(),
            std::numeric_limits<int32_t>::min());
  EXPECT_EQ(MustConvert(kInt4Oid, "0").int_value(), 0);
  EXPECT_EQ(MustConvert(kInt8Oid, "-9223372036854775808").int_value(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(MustConvert(kInt8Oid, "9223372036854775807").int_value(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(MustConvert(kOidOid, "4294967295").int_value(), 4294967295LL);
  EXPECT_EQ(MustConvert(kInt4Oid, "42").kind_case(), v1::Value::kIntValue);
}

TEST(ValueCodecTest, BadIntegersAreDataLoss) {
  ExpectDataLoss(kInt2Oid, "32768");
  ExpectDataLoss(kInt2Oid, "-32769");
  ExpectDataLoss(kInt4Oid, "2147483648");
  ExpectDataLoss(kInt8Oid, "9223372036854775808");
  ExpectDataLoss(kInt8Oid, "-9223372036854775809");
  ExpectDataLoss(kOidOid, "-1");
  ExpectDataLoss(kOidOid, "4294967296");
  ExpectDataLoss(kInt4Oid, "");
  ExpectDataLoss(kInt4Oid, "-");
  ExpectDataLoss(kInt4Oid, "+1");
  ExpectDataLoss(kInt4Oid, " 1");
  ExpectDataLoss(kInt4Oid, "1 ");
  ExpectDataLoss(kInt4Oid, "12a");
  ExpectDataLoss(kInt4Oid, "1.0");
  ExpectDataLoss(kInt4Oid, "0x10");
}

TEST(ValueCodecTest, ErrorNamesTypeAndTruncatedText) {
  auto status = TextToValue(kInt4Oid, Text("abc")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("int4"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("\"abc\""));

  const std::string long_text = std::string(64, '7') + std::string(1000, 'x');
  status = TextToValue(kInt8Oid, Text(long_text)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("int8"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(std::string(64, '7') + "..."));
  EXPECT_LT(status.message().size(), 150u);

  status = TextToValue(kInt2Oid, Text("99999")).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("out of range"));
}

TEST(ValueCodecTest, Floats) {
  EXPECT_EQ(MustConvert(kFloat8Oid, "1.5").double_value(), 1.5);
  EXPECT_EQ(MustConvert(kFloat8Oid, "-2.5e-10").double_value(), -2.5e-10);
  EXPECT_EQ(MustConvert(kFloat8Oid, "1e+308").double_value(), 1e308);
  EXPECT_EQ(MustConvert(kFloat8Oid, "5e-324").double_value(),
            std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(MustConvert(kFloat4Oid, "3.4028235e+38").double_value(),
            3.4028235e+38);
  v1::Value negative_zero = MustConvert(kFloat8Oid, "-0");
  EXPECT_EQ(negative_zero.double_value(), 0.0);
  EXPECT_TRUE(std::signbit(negative_zero.double_value()));

  v1::Value nan = MustConvert(kFloat8Oid, "NaN");
  EXPECT_EQ(nan.kind_case(), v1::Value::kDoubleValue);
  EXPECT_TRUE(std::isnan(nan.double_value()));
  EXPECT_TRUE(std::isnan(MustConvert(kFloat4Oid, "NaN").double_value()));
  EXPECT_EQ(MustConvert(kFloat8Oid, "Infinity").double_value(),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(MustConvert(kFloat4Oid, "-Infinity").double_value(),
            -std::numeric_limits<double>::infinity());
}

TEST(ValueCodecTest, BadFloatsAreDataLoss) {
  for (const char* bad :
       {"", "-", "inf", "nan", "-inf", "infinity", "NAN", "+1", ".5", " 1",
        "1 ", "1e", "1,5", "0x1p3", "1e400", "abc"}) {
    ExpectDataLoss(kFloat8Oid, bad);
  }
  ExpectDataLoss(kFloat4Oid, "Inf");
}

TEST(ValueCodecTest, Numeric) {
  struct Case {
    const char* text;
    int32_t scale;
  };
  for (const Case& c :
       {Case{"-0.00100", 5}, Case{"0", 0}, Case{"123", 0}, Case{"-12.340", 3},
        Case{"NaN", 0}, Case{"Infinity", 0}, Case{"-Infinity", 0},
        Case{"100000000000000000000000000000.5", 1}}) {
    v1::Value value = MustConvert(kNumericOid, c.text);
    ASSERT_EQ(value.kind_case(), v1::Value::kNumericValue) << c.text;
    EXPECT_EQ(value.numeric_value().value(), c.text);
    EXPECT_EQ(value.numeric_value().scale(), c.scale) << c.text;
  }
}

TEST(ValueCodecTest, BadNumericIsDataLoss) {
  for (const char* bad : {"", "-", "1.", ".5", "1.2.3", "1e5", "+1", "--1",
                          "1 ", "nan", "inf", "12a", "-.5", "1.-5"}) {
    ExpectDataLoss(kNumericOid, bad);
  }
}

TEST(ValueCodecTest, ByteaHex) {
  v1::Value empty = MustConvert(kByteaOid, "\\x");
  EXPECT_EQ(empty.kind_case(), v1::Value::kBytesValue);
  EXPECT_EQ(empty.bytes_value(), "");
  EXPECT_EQ(MustConvert(kByteaOid, "\\x0a1bFF00").bytes_value(),
            std::string("\x0a\x1b\xff\x00", 4));
  ExpectDataLoss(kByteaOid, "\\x0");
  ExpectDataLoss(kByteaOid, "\\x0g");
  ExpectDataLoss(kByteaOid, "\\xzz");
}

TEST(ValueCodecTest, ByteaEscape) {
  EXPECT_EQ(MustConvert(kByteaOid, "").bytes_value(), "");
  EXPECT_EQ(MustConvert(kByteaOid, "abc").bytes_value(), "abc");
  EXPECT_EQ(MustConvert(kByteaOid, "a\\\\b").bytes_value(), "a\\b");
  EXPECT_EQ(MustConvert(kByteaOid, "\\000\\377x").bytes_value(),
            std::string("\x00\xff"
                        "x",
                        3));
  ExpectDataLoss(kByteaOid, "\\");
  ExpectDataLoss(kByteaOid, "\\12");
  ExpectDataLoss(kByteaOid, "\\400");
  ExpectDataLoss(kByteaOid, "\\n");
}

TEST(ValueCodecTest, OtherTypesAreVerbatimText) {
  for (pg::Oid oid : {pg::Oid{25}, pg::Oid{1043}, pg::Oid{1266}, pg::Oid{3802},
                      pg::Oid{2950}, pg::Oid{1007}, pg::Oid{99999}}) {
    v1::Value value = MustConvert(oid, " {1,2} anything\\x ");
    EXPECT_EQ(value.kind_case(), v1::Value::kText);
    EXPECT_EQ(value.text(), " {1,2} anything\\x ");
  }
  EXPECT_EQ(MustConvert(25, "").text(), "");
  EXPECT_EQ(MustConvert(25, "").kind_case(), v1::Value::kText);
}

TEST(ValueCodecTest, BinaryIsRawBytes) {
  auto value =
      TextToValue(kInt4Oid, pg::TupleValue{pg::TupleValue::Kind::kBinary,
                                           std::string("\0\0\0\x2a", 4)});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->kind_case(), v1::Value::kBytesValue);
  EXPECT_EQ(value->bytes_value(), std::string("\0\0\0\x2a", 4));
}

TEST(ValueCodecTest, OutParameterOverwritesPreviousCase) {
  v1::Value value;
  ASSERT_TRUE(TextToValue(25, Text("hello"), &value).ok());
  EXPECT_EQ(value.text(), "hello");
  ASSERT_TRUE(TextToValue(kInt8Oid, Text("7"), &value).ok());
  EXPECT_EQ(value.kind_case(), v1::Value::kIntValue);
  EXPECT_EQ(value.int_value(), 7);
  ASSERT_TRUE(TextToValue(kByteaOid, Text("\\x01"), &value).ok());
  EXPECT_EQ(value.bytes_value(), "\x01");
  ASSERT_TRUE(TextToValue(kByteaOid, Text("\\x"), &value).ok());
  EXPECT_EQ(value.bytes_value(), "");
  ASSERT_TRUE(TextToValue(kInt8Oid, pg::TupleValue{}, &value).ok());
  EXPECT_EQ(value.kind_case(), v1::Value::kNull);
  EXPECT_EQ(TextToValue(kInt8Oid, Text("x"), &value).code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cdc::envelope
