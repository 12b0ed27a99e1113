// The `json` format: every record the protobuf format writes, as protobuf's
// canonical JSON mapping of the same message, which parses back into it.
#include "cdc/envelope/json_encoder.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cdc/envelope/envelope_builder.h"
#include "cdc/pg/relation_cache.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/unit/envelope/rows.h"

namespace cdc::envelope {
namespace {

constexpr pg::Oid kOrders = 16400;
constexpr pg::Oid kNotes = 16500;
constexpr int64_t kNowMs = 1700000000123;
// When events are made, to the microsecond; ts_ms is its millisecond.
constexpr int64_t kNowUs = kNowMs * 1000 + 456;

pg::TypeInfo Type(pg::Oid oid, std::string name) {
  pg::TypeInfo type;
  type.oid = oid;
  type.name = std::move(name);
  return type;
}

class JsonEncoderTest : public ::testing::Test {
 protected:
  JsonEncoderTest() {
    pg::TypeRegistry* types = cache_.mutable_types();
    types->Add(Type(23, "int4"));
    types->Add(Type(25, "text"));
    types->Add(Type(17, "bytea"));
    pg::RelationMessage orders;
    orders.relation_oid = kOrders;
    orders.namespace_name = "public";
    orders.relation_name = "orders";
    orders.replica_identity = 'd';
    orders.columns = {Col("id", 23, true), Col("name", 25), Col("blob", 17)};
    cache_.Apply(orders);
    pg::RelationMessage notes = orders;
    notes.relation_oid = kNotes;
    notes.relation_name = "notes";
    notes.columns = {Col("body", 25)};
    cache_.Apply(notes);
    for (EnvelopeBuilder* b : {&protobuf_, &json_}) {
      b->SetPrimaryKey("public", "orders", {"id"});
      b->SetMessageTopic("pgcdc.messages");
    }
    json_.SetEncoder(std::make_unique<JsonEncoder>(kSource));
    txn_.commit_lsn = 0x16B374D848;
    txn_.xid = 777;
    txn_.commit_ts_us = 1700000000000001;
  }

  // Builds `change` in both formats and checks that each JSON record is the
  // protobuf record's message, field for field.
  void ExpectSameEvents(const pg::PgOutputMessage& change) {
    uint32_t seq_a = 0;
    uint32_t seq_b = 0;
    absl::StatusOr<std::vector<Record>> a =
        protobuf_.Build(change, txn_, 0x16B374D000, &seq_a, kNowUs);
    absl::StatusOr<std::vector<Record>> b =
        json_.Build(change, txn_, 0x16B374D000, &seq_b, kNowUs);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) {
      const Record& p = (*a)[i];
      const Record& j = (*b)[i];
      EXPECT_EQ(p.topic, j.topic);
      EXPECT_EQ(p.op, j.op);
      v1::ChangeEvent from_protobuf;
      ASSERT_TRUE(from_protobuf.ParseFromString(p.value));
      v1::ChangeEvent from_json;
      ASSERT_TRUE(
          google::protobuf::util::JsonStringToMessage(j.value, &from_json).ok())
          << j.value;
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
          from_protobuf, from_json))
          << j.value;
      ASSERT_EQ(p.key.has_value(), j.key.has_value());
      if (p.key.has_value()) {
        v1::Row key_protobuf;
        ASSERT_TRUE(key_protobuf.ParseFromString(*p.key));
        v1::Row key_json;
        ASSERT_TRUE(
            google::protobuf::util::JsonStringToMessage(*j.key, &key_json).ok())
            << *j.key;
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
            key_protobuf, key_json));
      }
    }
  }

  const SourceInfo kSource{"pgcdc", "0.1.0", "shop", "pgcdc_slot"};
  pg::RelationCache cache_;
  EnvelopeBuilder protobuf_{kSource, "pgcdc", &cache_};
  EnvelopeBuilder json_{kSource, "pgcdc", &cache_};
  TxnContext txn_;
};

TEST_F(JsonEncoderTest, InsertIsTheSameEventInCanonicalJson) {
  pg::InsertMessage insert;
  insert.relation_oid = kOrders;
  insert.new_tuple = pg::TupleData{{T("1"), T("widget"), T("\\x00ff")}};
  ExpectSameEvents(insert);
  uint32_t seq = 0;
  absl::StatusOr<std::vector<Record>> json =
      json_.Build(insert, txn_, 0x16B374D000, &seq, kNowUs);
  ASSERT_TRUE(json.ok());
  // The mapping's own spelling: lowerCamelCase names, 64-bit integers as
  // strings, enums by name.
  const std::string& value = (*json)[0].value;
  EXPECT_NE(value.find("\"op\":\"CREATE\""), std::string::npos) << value;
  EXPECT_NE(value.find("\"commitLsn\":\"97500059720\""), std::string::npos)
      << value;
  EXPECT_EQ(*(*json)[0].key,
            "{\"columns\":[{\"name\":\"id\",\"type\":\"int4\",\"value\":"
            "{\"intValue\":\"1\"},\"typeOid\":23,\"key\":true}]}");
}

TEST_F(JsonEncoderTest, KeyChangeTruncateAndMessageAndNoKey) {
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'K';
  update.old_tuple = pg::TupleData{{T("1"), Null(), Null()}};
  update.new_tuple = pg::TupleData{{T("2"), T("w"), Null()}};
  ExpectSameEvents(update);
  pg::TruncateMessage truncate;
  truncate.relation_oids = {kOrders, kNotes};
  ExpectSameEvents(truncate);
  pg::LogicalMessage message;
  message.transactional = true;
  message.prefix = "audit";
  message.content = std::string("\x01\x02", 2);
  ExpectSameEvents(message);
  pg::InsertMessage keyless;
  keyless.relation_oid = kNotes;
  keyless.new_tuple = pg::TupleData{{T("note")}};
  ExpectSameEvents(keyless);
}

}  // namespace
}  // namespace cdc::envelope
