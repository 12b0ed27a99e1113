// Pins the exact bytes EnvelopeBuilder writes for one event of each kind:
// key, value, topic, schema, table and op. The other envelope tests parse
// what is built; these catch any change in the encoding itself (field order,
// defaults left out, sizes), which a consumer of the wire format would see.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/pg/relation_cache.h"
#include "tests/unit/envelope/rows.h"

namespace cdc::envelope {
namespace {

constexpr pg::Oid kOrders = 16400;
constexpr pg::Oid kNotes = 16500;
constexpr pg::Oid kPositive = 90001;  // public.positive, a domain over int4
constexpr int64_t kNowMs = 1700000000123;
// When events are made, to the microsecond; ts_ms is its millisecond.
constexpr int64_t kNowUs = kNowMs * 1000 + 456;

// public.orders(id int4 key, name text, amount numeric, tags int4[],
// qty public.positive), identity default, primary key id.
pg::RelationMessage Orders() {
  pg::RelationMessage relation;
  relation.relation_oid = kOrders;
  relation.namespace_name = "public";
  relation.relation_name = "orders";
  relation.replica_identity = 'd';
  relation.columns = {Col("id", 23, true), Col("name", 25), Col("amount", 1700),
                      Col("tags", 1007), Col("qty", kPositive)};
  return relation;
}

// public.notes(body text, at timestamptz), identity full, no key.
pg::RelationMessage Notes() {
  pg::RelationMessage relation;
  relation.relation_oid = kNotes;
  relation.namespace_name = "public";
  relation.relation_name = "notes";
  relation.replica_identity = 'f';
  relation.columns = {Col("body", 25, true), Col("at", 1184, true)};
  return relation;
}

pg::TupleData Order(std::string id, std::string name) {
  return pg::TupleData{{T(std::move(id)), T(std::move(name)), T("9.50"),
                        T("{1,NULL,3}"), T("7")}};
}

pg::TypeInfo Type(pg::Oid oid, std::string name) {
  pg::TypeInfo type;
  type.oid = oid;
  type.name = std::move(name);
  return type;
}

// One line per record: topic, schema, table, op, key and value in hex.
std::string Dump(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records) {
    absl::StrAppend(&out, r.topic, "|", r.schema, "|", r.table, "|",
                    v1::Op_Name(r.op), "|",
                    r.key.has_value() ? absl::BytesToHexString(*r.key) : "null",
                    "|", absl::BytesToHexString(r.value), "\n");
  }
  return out;
}

class EncodedBytesTest : public ::testing::Test {
 protected:
  EncodedBytesTest()
      : builder_(SourceInfo{"pgcdc", "0.1.0", "shop", "pgcdc_slot"}, "pgcdc",
                 &cache_) {
    pg::TypeRegistry* types = cache_.mutable_types();
    types->Add(Type(23, "int4"));
    types->Add(Type(25, "text"));
    types->Add(Type(1700, "numeric"));
    types->Add(Type(1184, "timestamptz"));
    pg::TypeInfo array = Type(1007, "_int4");
    array.array_element = 23;
    types->Add(array);
    pg::TypeInfo domain = Type(kPositive, "public.positive");
    domain.kind = pg::TypeInfo::Kind::kDomain;
    domain.domain_base = 23;
    types->Add(domain);
    cache_.Apply(Orders());
    cache_.Apply(Notes());
    builder_.SetPrimaryKey("public", "orders", {"id"});
    builder_.SetMessageTopic("pgcdc.messages");
    txn_.commit_lsn = 0x16B374D848;
    txn_.xid = 777;
    txn_.commit_ts_us = 1700000000000001;
  }

  std::string Build(const pg::PgOutputMessage& change) {
    absl::StatusOr<std::vector<Record>> records =
        builder_.Build(change, txn_, 0x16B374D000, &seq_, kNowUs);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? Dump(*records) : "";
  }

  pg::RelationCache cache_;
  EnvelopeBuilder builder_;
  TxnContext txn_;
  uint32_t seq_ = 2;
};

TEST_F(EncodedBytesTest, Insert) {
  pg::InsertMessage insert;
  insert.relation_oid = kOrders;
  insert.new_tuple = Order("1", "widget");
  EXPECT_EQ(Build(insert),
            "pgcdc.public.orders|public|orders|CREATE|"
            "0a120a0269641204696e74341a02200120172801|"
            "08011aa4010a120a0269641204696e74341a022001201728010a180a046e616d"
            "651204746578741a083a0677696467657420190a200a06616d6f756e7412076e"
            "756d657269631a0a32080a04392e3530100220a40d0a2c0a047461677312055f"
            "696e74341a1a6a180a0220010a020a000a0220031201031a01012204696e7434"
            "20ef070a240a03717479120f7075626c69632e706f7369746976651a02200720"
            "91bf053204696e743422570a0570676364631205302e312e301a0473686f7022"
            "067075626c69632a066f72646572733080a0d39beb0238c8b0d39beb02408906"
            "488180f9c0c1c482035002620a70676364635f736c6f7468f2d1f4a380c6be85"
            "9c0128fbd095ffbc31\n");
}

TEST_F(EncodedBytesTest, UpdateWithoutOldImage) {
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.new_tuple = Order("1", "gadget");
  update.new_tuple.values[1] = Toast();
  EXPECT_EQ(Build(update),
            "pgcdc.public.orders|public|orders|UPDATE|"
            "0a120a0269641204696e74341a02200120172801|"
            "08021a9e010a120a0269641204696e74341a022001201728010a120a046e616d"
            "651204746578741a02120020190a200a06616d6f756e7412076e756d65726963"
            "1a0a32080a04392e3530100220a40d0a2c0a047461677312055f696e74341a1a"
            "6a180a0220010a020a000a0220031201031a01012204696e743420ef070a240a"
            "03717479120f7075626c69632e706f7369746976651a0220072091bf05320469"
            "6e743422570a0570676364631205302e312e301a0473686f7022067075626c69"
            "632a066f72646572733080a0d39beb0238c8b0d39beb02408906488180f9c0c1"
            "c482035002620a70676364635f736c6f7468f2d1f4a380c6be859c0128fbd095"
            "ffbc31\n");
}

TEST_F(EncodedBytesTest, KeyChangeIsDeleteThenCreate) {
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'K';
  update.old_tuple = pg::TupleData{{T("1"), Null(), Null(), Null(), Null()}};
  update.new_tuple = Order("2", "widget");
  EXPECT_EQ(Build(update),
            "pgcdc.public.orders|public|orders|DELETE|"
            "0a120a0269641204696e74341a02200120172801|"
            "080312140a120a0269641204696e74341a0220012017280122570a0570676364"
            "631205302e312e301a0473686f7022067075626c69632a066f72646572733080"
            "a0d39beb0238c8b0d39beb02408906488180f9c0c1c482035002620a70676364"
            "635f736c6f7468f2d1f4a380c6be859c0128fbd095ffbc31\n"
            "pgcdc.public.orders|public|orders|CREATE|"
            "0a120a0269641204696e74341a02200220172801|"
            "08011aa4010a120a0269641204696e74341a022002201728010a180a046e616d"
            "651204746578741a083a0677696467657420190a200a06616d6f756e7412076e"
            "756d657269631a0a32080a04392e3530100220a40d0a2c0a047461677312055f"
            "696e74341a1a6a180a0220010a020a000a0220031201031a01012204696e7434"
            "20ef070a240a03717479120f7075626c69632e706f7369746976651a02200720"
            "91bf053204696e743422570a0570676364631205302e312e301a0473686f7022"
            "067075626c69632a066f72646572733080a0d39beb0238c8b0d39beb02408906"
            "488180f9c0c1c482035003620a70676364635f736c6f7468f2d1f4a380c6be85"
            "9c0128fbd095ffbc31\n");
}

TEST_F(EncodedBytesTest, KeyChangeAsOneUpdate) {
  builder_.SetKeyChange(EnvelopeBuilder::KeyChange::kUpdate);
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'K';
  update.old_tuple = pg::TupleData{{T("1"), Null(), Null(), Null(), Null()}};
  update.new_tuple = Order("2", "widget");
  EXPECT_EQ(Build(update),
            "pgcdc.public.orders|public|orders|UPDATE|"
            "0a120a0269641204696e74341a02200220172801|"
            "080212140a120a0269641204696e74341a022001201728011aa4010a120a0269"
            "641204696e74341a022002201728010a180a046e616d651204746578741a083a"
            "0677696467657420190a200a06616d6f756e7412076e756d657269631a0a3208"
            "0a04392e3530100220a40d0a2c0a047461677312055f696e74341a1a6a180a02"
            "20010a020a000a0220031201031a01012204696e743420ef070a240a03717479"
            "120f7075626c69632e706f7369746976651a0220072091bf053204696e743422"
            "570a0570676364631205302e312e301a0473686f7022067075626c69632a066f"
            "72646572733080a0d39beb0238c8b0d39beb02408906488180f9c0c1c4820350"
            "02620a70676364635f736c6f7468f2d1f4a380c6be859c0128fbd095ffbc31\n");
}

TEST_F(EncodedBytesTest, DeleteWithKeyImage) {
  pg::DeleteMessage del;
  del.relation_oid = kOrders;
  del.old_kind = 'K';
  del.old_tuple = pg::TupleData{{T("1"), Null(), Null(), Null(), Null()}};
  EXPECT_EQ(Build(del),
            "pgcdc.public.orders|public|orders|DELETE|"
            "0a120a0269641204696e74341a02200120172801|"
            "080312140a120a0269641204696e74341a0220012017280122570a0570676364"
            "631205302e312e301a0473686f7022067075626c69632a066f72646572733080"
            "a0d39beb0238c8b0d39beb02408906488180f9c0c1c482035002620a70676364"
            "635f736c6f7468f2d1f4a380c6be859c0128fbd095ffbc31\n");
}

TEST_F(EncodedBytesTest, FullImagesWithoutKey) {
  pg::UpdateMessage update;
  update.relation_oid = kNotes;
  update.old_kind = 'O';
  update.old_tuple = pg::TupleData{{T("old"), T("2024-02-29 12:00:00.5+00")}};
  update.new_tuple = pg::TupleData{{Toast(), Null()}};
  EXPECT_EQ(Build(update),
            "pgcdc.public.notes|public|notes|UPDATE|null|"
            "080212380a150a04626f64791204746578741a053a036f6c6420190a1f0a0261"
            "74120b74696d657374616d70747a1a0948a0a2defdbfd0840320a0091a2e0a12"
            "0a04626f64791204746578741a02120020190a180a026174120b74696d657374"
            "616d70747a1a020a0020a00922550a0570676364631205302e312e301a047368"
            "6f7022067075626c69632a056e6f7465733080a0d39beb0238c8b0d39beb0240"
            "8906488180f9c0c1c482035002620a70676364635f736c6f7468f5bbce9dd1c9"
            "99ad7628fbd095ffbc31\n");

  pg::DeleteMessage del;
  del.relation_oid = kNotes;
  del.old_kind = 'O';
  del.old_tuple = pg::TupleData{{T(""), Null()}};
  EXPECT_EQ(Build(del),
            "pgcdc.public.notes|public|notes|DELETE|null|"
            "0803122e0a120a04626f64791204746578741a023a0020190a180a026174120b"
            "74696d657374616d70747a1a020a0020a00922550a0570676364631205302e31"
            "2e301a0473686f7022067075626c69632a056e6f7465733080a0d39beb0238c8"
            "b0d39beb02408906488180f9c0c1c482035003620a70676364635f736c6f7468"
            "f5bbce9dd1c999ad7628fbd095ffbc31\n");
}

TEST_F(EncodedBytesTest, Truncate) {
  pg::TruncateMessage truncate;
  truncate.options = pg::TruncateMessage::kCascade;
  truncate.relation_oids = {kOrders, kNotes};
  EXPECT_EQ(Build(truncate),
            "pgcdc.public.orders|public|orders|TRUNCATE|null|"
            "080522570a0570676364631205302e312e301a0473686f7022067075626c6963"
            "2a066f72646572733080a0d39beb0238c8b0d39beb02408906488180f9c0c1c4"
            "82035002620a70676364635f736c6f7468f2d1f4a380c6be859c0128fbd095ff"
            "bc3132020801\n"
            "pgcdc.public.notes|public|notes|TRUNCATE|null|"
            "080522550a0570676364631205302e312e301a0473686f7022067075626c6963"
            "2a056e6f7465733080a0d39beb0238c8b0d39beb02408906488180f9c0c1c482"
            "035003620a70676364635f736c6f7468f5bbce9dd1c999ad7628fbd095ffbc31"
            "32020801\n");
}

TEST_F(EncodedBytesTest, LogicalMessage) {
  pg::LogicalMessage message;
  message.transactional = true;
  message.prefix = "outbox";
  message.content = std::string("{\"id\":1}\0\xff", 10);
  EXPECT_EQ(Build(message),
            "pgcdc.messages|||MESSAGE|"
            "0a1c0a067072656669781204746578741a083a066f7574626f7820192801|"
            "0806223c0a0570676364631205302e312e301a0473686f703080a0d39beb0238"
            "c8b0d39beb02408906488180f9c0c1c482035002620a70676364635f736c6f74"
            "28fbd095ffbc313a160a066f7574626f78120a7b226964223a317d00ff1801\n");
}

TEST_F(EncodedBytesTest, SnapshotRead) {
  Record record;
  TxnContext snapshot;
  snapshot.commit_lsn = 0x16B3700000;
  ASSERT_TRUE(builder_
                  .BuildRead(kOrders, Order("3", "thing"), snapshot,
                             /*ordinal=*/41, SnapshotMark::kMiddle, kNowUs,
                             &record)
                  .ok());
  EXPECT_EQ(Dump({record}),
            "pgcdc.public.orders|public|orders|READ|"
            "0a120a0269641204696e74341a02200320172801|"
            "08041aa3010a120a0269641204696e74341a022003201728010a170a046e616d"
            "651204746578741a073a057468696e6720190a200a06616d6f756e7412076e75"
            "6d657269631a0a32080a04392e3530100220a40d0a2c0a047461677312055f69"
            "6e74341a1a6a180a0220010a020a000a0220031201031a01012204696e743420"
            "ef070a240a03717479120f7075626c69632e706f7369746976651a0220072091"
            "bf053204696e7434224d0a0570676364631205302e312e301a0473686f702206"
            "7075626c69632a066f7264657273308080c09beb02388080c09beb0250295801"
            "620a70676364635f736c6f7468f2d1f4a380c6be859c0128fbd095ffbc31\n");
}

}  // namespace
}  // namespace cdc::envelope
