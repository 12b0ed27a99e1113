// Bytes that are not UTF-8 (a SQL_ASCII database's text): values fall back
// to text_bytes wherever they would be text, so every event parses; names
// that are not UTF-8 stop the event with kDataLoss naming the relation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cdc/envelope/envelope_builder.h"
#include "cdc/envelope/json.h"
#include "cdc/envelope/value_codec.h"
#include "cdc/envelope/value_text.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/pg/type_registry.h"
#include "tests/unit/envelope/rows.h"

namespace cdc::envelope {
namespace {

using ::testing::HasSubstr;

constexpr pg::Oid kTextOid = 25;
constexpr pg::Oid kVarcharOid = 1043;
constexpr pg::Oid kJsonOid = 114;
constexpr pg::Oid kJsonbOid = 3802;
constexpr pg::Oid kXmlOid = 142;
constexpr pg::Oid kTextArrayOid = 1009;
constexpr pg::Oid kMoodOid = 20000;
constexpr pg::Oid kPairOid = 20001;  // (n int4, label text)
constexpr pg::Oid kPairArrayOid = 20002;
constexpr pg::Oid kBadPairOid = 20003;   // an attribute named "caf\xe9"
constexpr pg::Oid kBadNameOid = 20004;   // a type named "public.caf\xe9"
constexpr pg::Oid kBadArrayOid = 20005;  // an array of it
constexpr pg::Oid kTable = 16400;

const std::string kLatin1 = "caf\xe9";                 // é in Latin-1
const std::string kTruncated = "\xe2\x82";             // half a euro sign
const std::string kSurrogate = "\xed\xa0\x80";         // U+D800 in UTF-8 form
const std::string kOverlong = "\xc0\xaf";              // '/' overlong
const std::string kUtf8 = "caf\xc3\xa9 \xe2\x82\xac";  // valid: stays text

pg::TypeInfo Type(pg::Oid oid, std::string name,
                  pg::TypeInfo::Kind kind = pg::TypeInfo::Kind::kBase) {
  pg::TypeInfo t;
  t.oid = oid;
  t.name = std::move(name);
  t.kind = kind;
  return t;
}

pg::TypeRegistry Registry() {
  pg::TypeRegistry types;
  types.Add(Type(kInt4Oid, "int4"));
  types.Add(Type(kTextOid, "text"));
  pg::TypeInfo text_array = Type(kTextArrayOid, "_text");
  text_array.array_element = kTextOid;
  types.Add(text_array);
  types.Add(Type(kMoodOid, "public.mood", pg::TypeInfo::Kind::kEnum));
  pg::TypeInfo pair =
      Type(kPairOid, "public.pair", pg::TypeInfo::Kind::kComposite);
  pair.attributes = {{"n", kInt4Oid}, {"label", kTextOid}};
  types.Add(pair);
  pg::TypeInfo pairs = Type(kPairArrayOid, "public._pair");
  pairs.array_element = kPairOid;
  types.Add(pairs);
  pg::TypeInfo bad_pair =
      Type(kBadPairOid, "public.bad_pair", pg::TypeInfo::Kind::kComposite);
  bad_pair.attributes = {{"caf\xe9", kTextOid}};
  types.Add(bad_pair);
  types.Add(Type(kBadNameOid, "public.caf\xe9"));
  pg::TypeInfo bad_array = Type(kBadArrayOid, "public._caf\xe9");
  bad_array.array_element = kBadNameOid;
  types.Add(bad_array);
  return types;
}

v1::Value Convert(const pg::TypeRegistry& types, pg::Oid oid,
                  const std::string& text) {
  v1::Value value;
  absl::Status s = ConvertText(&types, oid, text, &value);
  EXPECT_TRUE(s.ok()) << s;
  // Whatever the case, the value renders back to the server's bytes.
  EXPECT_EQ(ValueToPgText(value).value_or("<null>"), text);
  // And a Value holding it parses again.
  v1::Value parsed;
  EXPECT_TRUE(parsed.ParseFromString(value.SerializeAsString()));
  return value;
}

TEST(NotUtf8Test, TextThatIsNotUtf8BecomesTextBytesExactly) {
  const pg::TypeRegistry types = Registry();
  for (const std::string& bytes :
       {kLatin1, kTruncated, kSurrogate, kOverlong}) {
    for (pg::Oid oid : {kTextOid, kVarcharOid, kJsonOid, kJsonbOid, kXmlOid,
                        kMoodOid, pg::Oid{424242}}) {
      SCOPED_TRACE(oid);
      v1::Value value = Convert(types, oid, bytes);
      ASSERT_EQ(value.kind_case(), v1::Value::kTextBytes);
      EXPECT_EQ(value.text_bytes(), bytes);
    }
  }
  // Without a registry too (the built-in cases only).
  v1::Value value;
  ASSERT_TRUE(ConvertText(nullptr, kTextOid, kLatin1, &value).ok());
  EXPECT_EQ(value.text_bytes(), kLatin1);
  absl::StatusOr<v1::Value> typed =
      TextToValue(kTextOid, {pg::TupleValue::Kind::kText, kLatin1});
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(typed->text_bytes(), kLatin1);
}

TEST(NotUtf8Test, ValidTextStaysText) {
  const pg::TypeRegistry types = Registry();
  for (pg::Oid oid : {kTextOid, kJsonOid, kMoodOid, pg::Oid{424242}}) {
    v1::Value value = Convert(types, oid, kUtf8);
    ASSERT_EQ(value.kind_case(), v1::Value::kText);
    EXPECT_EQ(value.text(), kUtf8);
  }
  EXPECT_EQ(Convert(types, kTextOid, "").kind_case(), v1::Value::kText);
}

TEST(NotUtf8Test, ArrayElementsAndCompositeAttributesFallBackOneByOne) {
  const pg::TypeRegistry types = Registry();
  v1::Value array =
      Convert(types, kTextArrayOid, "{caf\xe9,ok,NULL,\xc3\xa9t\xc3\xa9}");
  ASSERT_EQ(array.array_value().elements_size(), 4);
  EXPECT_EQ(array.array_value().elements(0).text_bytes(), kLatin1);
  EXPECT_EQ(array.array_value().elements(1).text(), "ok");
  EXPECT_TRUE(array.array_value().elements(2).has_null());
  EXPECT_EQ(array.array_value().elements(3).text(), "\xc3\xa9t\xc3\xa9");

  v1::Value pair = Convert(types, kPairOid, "(7,\xe2\x82)");
  const v1::Row& row = pair.composite_value();
  EXPECT_EQ(row.columns(0).value().int_value(), 7);
  EXPECT_EQ(row.columns(1).value().text_bytes(), kTruncated);

  v1::Value pairs =
      Convert(types, kPairArrayOid, "{\"(1,caf\xe9)\",\"(2,fine)\"}");
  EXPECT_EQ(pairs.array_value()
                .elements(0)
                .composite_value()
                .columns(1)
                .value()
                .text_bytes(),
            kLatin1);
  EXPECT_EQ(pairs.array_value()
                .elements(1)
                .composite_value()
                .columns(1)
                .value()
                .text(),
            "fine");
}

TEST(NotUtf8Test, NamesInsideValuesThatAreNotUtf8AreDataLoss) {
  const pg::TypeRegistry types = Registry();
  v1::Value value;
  absl::Status s = ConvertText(&types, kBadPairOid, "(x)", &value);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("public.bad_pair"));
  EXPECT_THAT(s.message(), HasSubstr("\"caf\\xe9\" is not valid UTF-8"));
  s = ConvertText(&types, kBadArrayOid, "{x}", &value);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("element type name"));
  EXPECT_THAT(s.message(), HasSubstr("public.caf\\xe9"));
}

TEST(NotUtf8Test, JsonShowsTextBytesAsBase64) {
  v1::ChangeEvent event;
  event.set_op(v1::CREATE);
  v1::Column* column = event.mutable_after()->add_columns();
  column->set_name("note");
  column->mutable_value()->set_text_bytes(kLatin1);
  EXPECT_THAT(ChangeEventToJson(event),
              HasSubstr("\"value\":{\"text_bytes\":\"Y2Fm6Q==\"}"));
  absl::StatusOr<std::string> line =
      RecordToJsonLine(std::nullopt, event.SerializeAsString());
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(*line, HasSubstr("\"text_bytes\":\"Y2Fm6Q==\""));
}

// public.notes(k text key, note text, tags text[], pair public.pair).
pg::RelationMessage Notes() {
  pg::RelationMessage relation;
  relation.relation_oid = kTable;
  relation.namespace_name = "public";
  relation.relation_name = "notes";
  relation.replica_identity = 'd';
  relation.columns = {Col("k", kTextOid, true), Col("note", kTextOid),
                      Col("tags", kTextArrayOid), Col("pair", kPairOid)};
  return relation;
}

class NotUtf8BuilderTest : public ::testing::Test {
 protected:
  NotUtf8BuilderTest()
      : builder_(SourceInfo{"pgcdc", "0.1.0", "shop", "slot"}, "pgcdc",
                 &cache_) {
    *cache_.mutable_types() = Registry();
    cache_.SetBuiltinTypeNames({{kTextOid, "text"}, {kInt4Oid, "int4"}});
    cache_.Apply(Notes());
    builder_.SetMessageTopic("pgcdc.messages");
    txn_.commit_lsn = 0x16B374D848;
  }

  absl::StatusOr<std::vector<Record>> Build(const pg::PgOutputMessage& m) {
    return builder_.Build(m, txn_, 0x16B374D000, &seq_, 1);
  }

  pg::InsertMessage Insert() {
    pg::InsertMessage insert;
    insert.relation_oid = kTable;
    insert.new_tuple.values = {T("k\xe9y"), T(kUtf8), T("{caf\xe9,ok}"),
                               T("(1,\xff)")};
    return insert;
  }

  pg::RelationCache cache_;
  EnvelopeBuilder builder_;
  TxnContext txn_;
  uint32_t seq_ = 0;
};

TEST_F(NotUtf8BuilderTest, EventsAndKeysParseAndCarryTheBytes) {
  absl::StatusOr<std::vector<Record>> records = Build(Insert());
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  const Record& record = (*records)[0];
  v1::ChangeEvent event;
  ASSERT_TRUE(event.ParseFromString(record.value));
  EXPECT_EQ(event.SerializeAsString(), record.value)
      << "the hand encoding differs from protobuf's";
  const v1::Row& after = event.after();
  EXPECT_EQ(after.columns(0).value().text_bytes(), "k\xe9y");
  EXPECT_EQ(after.columns(1).value().text(), kUtf8);
  EXPECT_EQ(after.columns(2).value().array_value().elements(0).text_bytes(),
            kLatin1);
  EXPECT_EQ(after.columns(3)
                .value()
                .composite_value()
                .columns(1)
                .value()
                .text_bytes(),
            "\xff");
  ASSERT_TRUE(record.key.has_value());
  v1::Row key;
  ASSERT_TRUE(key.ParseFromString(*record.key));
  EXPECT_EQ(key.SerializeAsString(), *record.key);
  ASSERT_EQ(key.columns_size(), 1);
  EXPECT_EQ(key.columns(0).value().text_bytes(), "k\xe9y");

  // A delete keyed by such a value, and a snapshot row of it.
  pg::DeleteMessage del;
  del.relation_oid = kTable;
  del.old_kind = 'K';
  del.old_tuple.values = {T("k\xe9y"), {}, {}, {}};
  records = Build(del);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_TRUE(event.ParseFromString((*records)[0].value));
  EXPECT_EQ(event.before().columns(0).value().text_bytes(), "k\xe9y");
  Record read;
  ASSERT_TRUE(builder_
                  .BuildRead(kTable, Insert().new_tuple, txn_, 0,
                             SnapshotMark::kMiddle, 1, &read)
                  .ok());
  ASSERT_TRUE(event.ParseFromString(read.value));
  EXPECT_EQ(event.SerializeAsString(), read.value);
  EXPECT_EQ(event.after().columns(0).value().text_bytes(), "k\xe9y");
}

TEST_F(NotUtf8BuilderTest, NamesThatAreNotUtf8StopTheEvent) {
  struct Case {
    const char* what;
    void (*spoil)(pg::RelationMessage*);
    const char* expected;
  };
  for (const Case& c : {
           Case{"column",
                [](pg::RelationMessage* r) { r->columns[1].name = "not\xe9"; },
                "the name of column 2 \"not\\xe9\""},
           Case{"table",
                [](pg::RelationMessage* r) { r->relation_name = "not\xe9s"; },
                "its name \"not\\xe9s\""},
           Case{"schema",
                [](pg::RelationMessage* r) { r->namespace_name = "p\xfc"; },
                "its schema name \"p\\xfc\""},
       }) {
    SCOPED_TRACE(c.what);
    pg::RelationMessage relation = Notes();
    c.spoil(&relation);
    cache_.Apply(relation);
    absl::Status s = Build(Insert()).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.message(), HasSubstr("relation 16400 \""));
    EXPECT_THAT(s.message(), HasSubstr(c.expected));
    EXPECT_THAT(s.message(), HasSubstr("is not valid UTF-8"));
    EXPECT_EQ(CheckRelationNames(relation).code(), absl::StatusCode::kDataLoss);
    pg::TruncateMessage truncate;
    truncate.relation_oids = {kTable};
    EXPECT_EQ(Build(truncate).status().code(), absl::StatusCode::kDataLoss);
    Record read;
    s = builder_.BuildRead(kTable, Insert().new_tuple, txn_, 5,
                           SnapshotMark::kMiddle, 1, &read);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.message(),
                HasSubstr("row 5 of the snapshot at LSN 16/B374D848"));
  }
  cache_.Apply(Notes());
  EXPECT_TRUE(Build(Insert()).ok()) << "a fixed shape publishes again";
  EXPECT_TRUE(CheckRelationNames(Notes()).ok());
}

TEST_F(NotUtf8BuilderTest, TypeNamesThatAreNotUtf8StopTheEvent) {
  pg::RelationMessage relation = Notes();
  relation.columns[1].type_oid = kBadNameOid;
  cache_.Apply(relation);
  absl::Status s = Build(Insert()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("relation 16400 \"public\".\"notes\""));
  EXPECT_THAT(s.message(),
              HasSubstr("the type name of column 2 \"public.caf\\xe9\""));
  // Every row says so, not only the first.
  EXPECT_EQ(Build(Insert()).status().code(), absl::StatusCode::kDataLoss);

  relation = Notes();
  relation.columns[3].type_oid = kBadPairOid;
  cache_.Apply(relation);
  pg::InsertMessage insert = Insert();
  insert.new_tuple.values[3] = T("(x)");
  s = Build(insert).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("public.notes.pair (relation 16400)"));
  EXPECT_THAT(s.message(), HasSubstr("\"caf\\xe9\" is not valid UTF-8"));
}

TEST_F(NotUtf8BuilderTest, MessagePrefixThatIsNotUtf8StopsTheEvent) {
  pg::LogicalMessage message;
  message.transactional = true;
  message.prefix = "out\xe9";
  message.content = "\xe9 content is bytes";
  absl::Status s = Build(message).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("prefix \"out\\xe9\" is not valid UTF-8"));
  message.prefix = "outbox";
  absl::StatusOr<std::vector<Record>> records = Build(message);
  ASSERT_TRUE(records.ok()) << records.status();
  v1::ChangeEvent event;
  ASSERT_TRUE(event.ParseFromString((*records)[0].value));
  EXPECT_EQ(event.message().content(), message.content);
}

TEST_F(NotUtf8BuilderTest, DatabaseNameThatIsNotUtf8StopsTheEvent) {
  EnvelopeBuilder builder(SourceInfo{"pgcdc", "0.1.0", "d\xe9", "slot"},
                          "pgcdc", &cache_);
  absl::Status s = builder.Build(Insert(), txn_, 0x100, &seq_, 1).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("the database name \"d\\xe9\""));
}

}  // namespace
}  // namespace cdc::envelope
