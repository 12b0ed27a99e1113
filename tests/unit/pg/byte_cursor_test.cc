#include "cdc/pg/byte_cursor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace cdc::pg {
namespace {

using ::testing::HasSubstr;

TEST(ByteCursorTest, ReadsBigEndianIntegers) {
  const std::string bytes(
      "\x7f"
      "\x01\x02"
      "\xff\xfe"
      "\x01\x02\x03\x04"
      "\xff\xff\xff\xfe"
      "\x01\x02\x03\x04\x05\x06\x07\x08"
      "\x80\x00\x00\x00\x00\x00\x00\x00"
      "\xfe\xdc\xba\x98\x76\x54\x32\x10",
      1 + 2 + 2 + 4 + 4 + 8 + 8 + 8);
  ByteCursor c(bytes);
  EXPECT_EQ(*c.ReadU8("u8"), 0x7f);
  EXPECT_EQ(*c.ReadU16("u16"), 0x0102);
  EXPECT_EQ(*c.ReadI16("i16"), -2);
  EXPECT_EQ(*c.ReadU32("u32"), 0x01020304u);
  EXPECT_EQ(*c.ReadI32("i32"), -2);
  EXPECT_EQ(*c.ReadU64("u64"), 0x0102030405060708ull);
  EXPECT_EQ(*c.ReadI64("i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*c.ReadU64("u64"), 0xfedcba9876543210ull);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.remaining(), 0u);
  EXPECT_EQ(c.position(), bytes.size());
}

TEST(ByteCursorTest, ShortReadIsDataLossNamingFieldAndKeepsPosition) {
  const std::string bytes("\x01\x02\x03", 3);
  ByteCursor c(bytes);
  ASSERT_TRUE(c.ReadU8("first").ok());
  absl::StatusOr<uint32_t> v = c.ReadU32("Begin.xid");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(v.status().message(), HasSubstr("Begin.xid"));
  EXPECT_THAT(v.status().message(), HasSubstr("need 4 bytes"));
  EXPECT_THAT(v.status().message(), HasSubstr("offset 1"));
  // A failed read consumes nothing, so smaller reads still work.
  EXPECT_EQ(c.position(), 1u);
  EXPECT_EQ(*c.ReadU16("second"), 0x0203);
  EXPECT_EQ(c.ReadU8("past end").status().code(), absl::StatusCode::kDataLoss);
}

TEST(ByteCursorTest, EveryReaderFailsOnEmptyInput) {
  ByteCursor c("");
  EXPECT_EQ(c.ReadU8("f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.ReadI16("f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.ReadU16("f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.ReadI32("f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.ReadU32("f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.ReadI64("f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.ReadU64("f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.ReadCString("f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.ReadBytes(1, "f").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(c.ReadBytes(0, "f").ok());
}

TEST(ByteCursorTest, ReadsCStrings) {
  const std::string bytes("public\0\0users\0", 14);
  ByteCursor c(bytes);
  EXPECT_EQ(*c.ReadCString("a"), "public");
  EXPECT_EQ(*c.ReadCString("b"), "");
  EXPECT_EQ(*c.ReadCString("c"), "users");
  EXPECT_TRUE(c.empty());
}

TEST(ByteCursorTest, UnterminatedCStringIsDataLoss) {
  ByteCursor c("abc");
  absl::StatusOr<std::string_view> s = c.ReadCString("Relation.namespace");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("Relation.namespace"));
  EXPECT_THAT(s.status().message(), HasSubstr("NUL"));
  EXPECT_EQ(c.position(), 0u);
}

TEST(ByteCursorTest, ReadsCountedBytesWithoutCopying) {
  const std::string bytes("hello world");
  ByteCursor c(bytes);
  absl::StatusOr<std::string_view> hello = c.ReadBytes(5, "v");
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(*hello, "hello");
  EXPECT_EQ(hello->data(), bytes.data());
  EXPECT_EQ(c.rest(), " world");
  EXPECT_EQ(c.ReadBytes(7, "TupleData.value").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(*c.ReadBytes(6, "v"), " world");
}

TEST(ByteCursorTest, HugeLengthDoesNotOverflow) {
  ByteCursor c("abc");
  EXPECT_EQ(
      c.ReadBytes(std::numeric_limits<size_t>::max(), "v").status().code(),
      absl::StatusCode::kDataLoss);
}

TEST(ByteCursorTest, WriterIsTheInverseOfTheReader) {
  std::string out = "prefix";
  ByteWriter w(&out);
  w.WriteU8(0xab);
  w.WriteI16(std::numeric_limits<int16_t>::min());
  w.WriteU16(0xbeef);
  w.WriteI32(-123456789);
  w.WriteU32(0xdeadbeef);
  w.WriteI64(std::numeric_limits<int64_t>::min() + 1);
  w.WriteU64(0x0123456789abcdefull);
  w.WriteCString("name");
  w.WriteBytes(std::string_view("\0x\0", 3));

  ASSERT_EQ(out.substr(0, 6), "prefix");  // appended, never cleared
  ByteCursor c(std::string_view(out).substr(6));
  EXPECT_EQ(*c.ReadU8("f"), 0xab);
  EXPECT_EQ(*c.ReadI16("f"), std::numeric_limits<int16_t>::min());
  EXPECT_EQ(*c.ReadU16("f"), 0xbeef);
  EXPECT_EQ(*c.ReadI32("f"), -123456789);
  EXPECT_EQ(*c.ReadU32("f"), 0xdeadbeefu);
  EXPECT_EQ(*c.ReadI64("f"), std::numeric_limits<int64_t>::min() + 1);
  EXPECT_EQ(*c.ReadU64("f"), 0x0123456789abcdefull);
  EXPECT_EQ(*c.ReadCString("f"), "name");
  EXPECT_EQ(*c.ReadBytes(3, "f"), std::string_view("\0x\0", 3));
  EXPECT_TRUE(c.empty());
}

TEST(ByteCursorTest, WriterEmitsNetworkOrder) {
  std::string out;
  ByteWriter w(&out);
  w.WriteU32(0x01020304);
  w.WriteI16(-1);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\xff\xff", 6));
}

}  // namespace
}  // namespace cdc::pg
