#include "cdc/envelope/envelope_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cdc/pg/relation_cache.h"
#include "tests/unit/envelope/rows.h"

namespace cdc::envelope {
namespace {

using ::testing::HasSubstr;

constexpr pg::Oid kOrders = 16400;
constexpr pg::Oid kItems = 16500;
constexpr int64_t kNowMs = 1700000000123;
// When events are made, to the microsecond; ts_ms is its millisecond.
constexpr int64_t kNowUs = kNowMs * 1000 + 456;

// public.orders(id int4 key, name text, amount numeric), identity default.
pg::RelationMessage Orders(char identity = 'd') {
  pg::RelationMessage relation;
  relation.relation_oid = kOrders;
  relation.namespace_name = "public";
  relation.relation_name = "orders";
  relation.replica_identity = identity;
  relation.columns = {Col("id", 23, identity != 'n'),
                      Col("name", 25, identity == 'f'),
                      Col("amount", 1700, identity == 'f')};
  return relation;
}

v1::ChangeEvent Event(const Record& record) {
  v1::ChangeEvent event;
  EXPECT_TRUE(event.ParseFromString(record.value));
  // Row changes are encoded by hand: byte for byte what protobuf writes.
  EXPECT_EQ(event.SerializeAsString(), record.value)
      << "not protobuf's encoding of the same event";
  return event;
}

v1::Row Key(const Record& record) {
  v1::Row row;
  EXPECT_TRUE(record.key.has_value());
  if (record.key.has_value()) {
    EXPECT_TRUE(row.ParseFromString(*record.key));
    EXPECT_EQ(row.SerializeAsString(), *record.key)
        << "not protobuf's encoding of the same key";
  }
  return row;
}

std::vector<std::string> Names(const v1::Row& row) {
  std::vector<std::string> names;
  for (const v1::Column& column : row.columns()) names.push_back(column.name());
  return names;
}

class EnvelopeBuilderTest : public ::testing::Test {
 protected:
  EnvelopeBuilderTest()
      : builder_(SourceInfo{"pgcdc", "0.1.0", "shop", "pgcdc_slot"}, "pgcdc",
                 &cache_) {
    cache_.SetBuiltinTypeNames({{23, "int4"}, {25, "text"}, {1700, "numeric"}});
    cache_.Apply(Orders());
    txn_.commit_lsn = 0x16B374D848;
    txn_.xid = 777;
    txn_.commit_ts_us = 1700000000000001;
  }

  absl::StatusOr<std::vector<Record>> Build(const pg::PgOutputMessage& change,
                                            Lsn lsn = 0x100) {
    return builder_.Build(change, txn_, lsn, &seq_, kNowUs);
  }

  Record BuildOne(const pg::PgOutputMessage& change) {
    auto records = Build(change);
    EXPECT_TRUE(records.ok()) << records.status();
    if (!records.ok()) return Record();
    EXPECT_EQ(records->size(), 1u);
    return records->empty() ? Record() : (*records)[0];
  }

  pg::InsertMessage Insert(pg::Oid oid = kOrders) {
    pg::InsertMessage insert;
    insert.relation_oid = oid;
    insert.new_tuple = Tuple({T("1"), T("widget"), T("9.50")});
    return insert;
  }

  pg::RelationCache cache_;
  EnvelopeBuilder builder_;
  TxnContext txn_;
  uint32_t seq_ = 0;
};

TEST_F(EnvelopeBuilderTest, Insert) {
  Record record = BuildOne(Insert());
  EXPECT_EQ(record.topic, "pgcdc.public.orders");
  EXPECT_EQ(record.schema, "public");
  EXPECT_EQ(record.table, "orders");
  EXPECT_EQ(record.op, v1::CREATE);

  v1::ChangeEvent event = Event(record);
  EXPECT_EQ(event.op(), v1::CREATE);
  EXPECT_FALSE(event.has_before());
  EXPECT_FALSE(event.has_truncate());
  EXPECT_EQ(event.ts_ms(), kNowMs);
  ASSERT_EQ(event.after().columns_size(), 3);
  const v1::Column& id = event.after().columns(0);
  EXPECT_EQ(id.name(), "id");
  EXPECT_EQ(id.type(), "int4");
  EXPECT_EQ(id.type_oid(), 23u);
  EXPECT_TRUE(id.key());
  EXPECT_EQ(id.value().int_value(), 1);
  const v1::Column& name = event.after().columns(1);
  EXPECT_EQ(name.type(), "text");
  EXPECT_FALSE(name.key());
  EXPECT_EQ(name.value().text(), "widget");
  const v1::Column& amount = event.after().columns(2);
  EXPECT_EQ(amount.type(), "numeric");
  EXPECT_EQ(amount.value().numeric_value().value(), "9.50");
  EXPECT_EQ(amount.value().numeric_value().scale(), 2);

  const v1::Source& source = event.source();
  EXPECT_EQ(source.connector(), "pgcdc");
  EXPECT_EQ(source.version(), "0.1.0");
  EXPECT_EQ(source.db(), "shop");
  EXPECT_EQ(source.slot(), "pgcdc_slot");
  EXPECT_EQ(source.schema(), "public");
  EXPECT_EQ(source.table(), "orders");
  EXPECT_EQ(source.lsn(), 0x100u);
  EXPECT_EQ(source.commit_lsn(), 0x16B374D848u);
  EXPECT_EQ(source.txid(), 777u);
  EXPECT_EQ(source.commit_ts_us(), 1700000000000001);
  EXPECT_EQ(source.seq(), 0u);
  EXPECT_FALSE(source.snapshot());

  v1::Row key = Key(record);
  ASSERT_EQ(key.columns_size(), 1);
  EXPECT_EQ(key.columns(0).name(), "id");
  EXPECT_EQ(key.columns(0).type(), "int4");
  EXPECT_EQ(key.columns(0).type_oid(), 23u);
  EXPECT_TRUE(key.columns(0).key());
  EXPECT_EQ(key.columns(0).value().int_value(), 1);
}

TEST_F(EnvelopeBuilderTest, UpdateWithoutOldTuple) {
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.new_tuple = Tuple({T("1"), T("gadget"), Toast()});
  Record record = BuildOne(update);
  EXPECT_EQ(record.op, v1::UPDATE);
  v1::ChangeEvent event = Event(record);
  EXPECT_EQ(event.op(), v1::UPDATE);
  EXPECT_FALSE(event.has_before());
  ASSERT_EQ(event.after().columns_size(), 3);
  EXPECT_EQ(event.after().columns(1).value().text(), "gadget");
  EXPECT_EQ(event.after().columns(2).value().kind_case(),
            v1::Value::kUnchangedToast);
  EXPECT_EQ(Key(record).columns(0).value().int_value(), 1);
}

TEST_F(EnvelopeBuilderTest, UpdateWithKeyImageKeepsOnlyKeyColumnsAndNewKey) {
  builder_.SetKeyChange(EnvelopeBuilder::KeyChange::kUpdate);
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'K';
  update.old_tuple = Tuple({T("1"), Null(), Null()});
  update.new_tuple = Tuple({T("2"), T("widget"), T("9.50")});
  Record record = BuildOne(update);
  v1::ChangeEvent event = Event(record);
  ASSERT_TRUE(event.has_before());
  EXPECT_EQ(Names(event.before()), std::vector<std::string>{"id"});
  EXPECT_EQ(event.before().columns(0).value().int_value(), 1);
  EXPECT_TRUE(event.before().columns(0).key());
  EXPECT_EQ(event.after().columns(0).value().int_value(), 2);
  // The record is keyed by the new key.
  EXPECT_EQ(Key(record).columns(0).value().int_value(), 2);
}

TEST_F(EnvelopeBuilderTest, KeyChangeBecomesDeleteThenCreate) {
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'K';
  update.old_tuple = Tuple({T("1"), Null(), Null()});
  update.new_tuple = Tuple({T("2"), T("widget"), T("9.50")});
  auto records = Build(update, 0x180);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  v1::ChangeEvent del = Event((*records)[0]);
  v1::ChangeEvent create = Event((*records)[1]);
  EXPECT_EQ(del.op(), v1::DELETE);
  EXPECT_EQ(Names(del.before()), std::vector<std::string>{"id"});
  EXPECT_FALSE(del.has_after());
  EXPECT_EQ(Key((*records)[0]).columns(0).value().int_value(), 1);
  EXPECT_EQ(create.op(), v1::CREATE);
  EXPECT_FALSE(create.has_before());
  EXPECT_EQ(create.after().columns(1).value().text(), "widget");
  EXPECT_EQ(Key((*records)[1]).columns(0).value().int_value(), 2);
  // Two events of one change: consecutive seq, the same lsn.
  EXPECT_EQ(del.source().seq() + 1, create.source().seq());
  EXPECT_EQ(del.source().lsn(), 0x180u);
  EXPECT_EQ(create.source().lsn(), 0x180u);
  EXPECT_EQ(seq_, 2u);
}

TEST_F(EnvelopeBuilderTest, FullImageUpdateKeepingTheKeyStaysAnUpdate) {
  cache_.Apply(Orders('f'));
  builder_.SetPrimaryKey("public", "orders", {"id"});
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'O';
  update.old_tuple = Tuple({T("1"), T("widget"), T("9.50")});
  update.new_tuple = Tuple({T("1"), T("widget"), T("10.00")});
  EXPECT_EQ(Event(BuildOne(update)).op(), v1::UPDATE);
  // The same with the key moved: DELETE + CREATE, the DELETE with the
  // whole old row.
  update.new_tuple = Tuple({T("5"), T("widget"), T("10.00")});
  auto records = Build(update);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ(Names(Event((*records)[0]).before()),
            (std::vector<std::string>{"id", "name", "amount"}));
  EXPECT_EQ(Key((*records)[0]).columns(0).value().int_value(), 1);
  EXPECT_EQ(Key((*records)[1]).columns(0).value().int_value(), 5);
}

TEST_F(EnvelopeBuilderTest, KeyOutsideTheIdentityImageCannotBeCompared) {
  // Primary key "name", replica identity index on "id": a 'K' image holds
  // only id, so whether the primary key moved is unknown: one UPDATE.
  builder_.SetPrimaryKey("public", "orders", {"name"});
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'K';
  update.old_tuple = Tuple({T("1"), Null(), Null()});
  update.new_tuple = Tuple({T("2"), T("widget"), T("9.50")});
  EXPECT_EQ(Event(BuildOne(update)).op(), v1::UPDATE);
}

TEST_F(EnvelopeBuilderTest, UnchangedToastKeyIsNotAKeyChange) {
  cache_.Apply(Orders('f'));
  builder_.SetPrimaryKey("public", "orders", {"name"});
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'O';
  update.old_tuple = Tuple({T("1"), T("a long name"), T("9.50")});
  update.new_tuple = Tuple({T("1"), Toast(), T("10.00")});
  EXPECT_EQ(Event(BuildOne(update)).op(), v1::UPDATE);
}

TEST_F(EnvelopeBuilderTest, UpdateWithFullOldImage) {
  cache_.Apply(Orders('f'));
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'O';
  update.old_tuple = Tuple({T("1"), T("widget"), T("9.50")});
  update.new_tuple = Tuple({T("1"), T("widget"), T("10.00")});
  Record record = BuildOne(update);
  v1::ChangeEvent event = Event(record);
  EXPECT_EQ(Names(event.before()),
            (std::vector<std::string>{"id", "name", "amount"}));
  EXPECT_EQ(event.before().columns(2).value().numeric_value().value(), "9.50");
  EXPECT_EQ(event.after().columns(2).value().numeric_value().value(), "10.00");
  // FULL without a primary key: no key.
  EXPECT_FALSE(record.key.has_value());
  for (const v1::Column& column : event.after().columns()) {
    EXPECT_FALSE(column.key());
  }
}

TEST_F(EnvelopeBuilderTest, DeleteWithKeyImage) {
  pg::DeleteMessage del;
  del.relation_oid = kOrders;
  del.old_kind = 'K';
  del.old_tuple = Tuple({T("5"), Null(), Null()});
  Record record = BuildOne(del);
  EXPECT_EQ(record.op, v1::DELETE);
  v1::ChangeEvent event = Event(record);
  EXPECT_EQ(event.op(), v1::DELETE);
  EXPECT_FALSE(event.has_after());
  EXPECT_EQ(Names(event.before()), std::vector<std::string>{"id"});
  EXPECT_EQ(event.before().columns(0).value().int_value(), 5);
  EXPECT_EQ(Key(record).columns(0).value().int_value(), 5);
}

TEST_F(EnvelopeBuilderTest, DeleteWithFullOldImage) {
  builder_.SetPrimaryKey("public", "orders", {"id"});
  cache_.Apply(Orders('f'));
  pg::DeleteMessage del;
  del.relation_oid = kOrders;
  del.old_kind = 'O';
  del.old_tuple = Tuple({T("5"), T("widget"), Null()});
  Record record = BuildOne(del);
  v1::ChangeEvent event = Event(record);
  EXPECT_FALSE(event.has_after());
  ASSERT_EQ(Names(event.before()),
            (std::vector<std::string>{"id", "name", "amount"}));
  EXPECT_TRUE(event.before().columns(0).key());
  EXPECT_FALSE(event.before().columns(1).key());
  EXPECT_EQ(event.before().columns(2).value().kind_case(), v1::Value::kNull);
  // FULL flags every column, but the primary key decides the key.
  v1::Row key = Key(record);
  EXPECT_EQ(Names(key), std::vector<std::string>{"id"});
  EXPECT_EQ(key.columns(0).value().int_value(), 5);
}

TEST_F(EnvelopeBuilderTest, TruncateBuildsOneRecordPerRelation) {
  pg::RelationMessage items = Orders();
  items.relation_oid = kItems;
  items.relation_name = "items";
  cache_.Apply(items);

  pg::TruncateMessage truncate;
  truncate.options =
      pg::TruncateMessage::kCascade | pg::TruncateMessage::kRestartIdentity;
  truncate.relation_oids = {kOrders, kItems};
  seq_ = 3;
  auto records = Build(truncate);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ(seq_, 5u);
  const char* tables[] = {"orders", "items"};
  for (int i = 0; i < 2; ++i) {
    const Record& record = (*records)[i];
    EXPECT_EQ(record.op, v1::TRUNCATE);
    EXPECT_EQ(record.table, tables[i]);
    EXPECT_EQ(record.topic, std::string("pgcdc.public.") + tables[i]);
    EXPECT_FALSE(record.key.has_value());
    v1::ChangeEvent event = Event(record);
    EXPECT_EQ(event.op(), v1::TRUNCATE);
    EXPECT_TRUE(event.truncate().cascade());
    EXPECT_TRUE(event.truncate().restart_identity());
    EXPECT_FALSE(event.has_before());
    EXPECT_FALSE(event.has_after());
    EXPECT_EQ(event.source().table(), tables[i]);
    EXPECT_EQ(event.source().seq(), 3u + i);
  }

  truncate.options = pg::TruncateMessage::kRestartIdentity;
  truncate.relation_oids = {kItems};
  records = Build(truncate);
  ASSERT_TRUE(records.ok());
  v1::ChangeEvent event = Event((*records)[0]);
  EXPECT_FALSE(event.truncate().cascade());
  EXPECT_TRUE(event.truncate().restart_identity());
}

TEST_F(EnvelopeBuilderTest, KeyFromPrimaryKeyInKeyOrder) {
  // Replica identity index on (name) while the primary key is (amount, id).
  pg::RelationMessage relation = Orders('i');
  relation.columns[0].flags = 0;
  relation.columns[1].flags = 1;
  cache_.Apply(relation);
  builder_.SetPrimaryKey("public", "orders", {"amount", "id"});
  Record record = BuildOne(Insert());
  v1::Row key = Key(record);
  EXPECT_EQ(Names(key), (std::vector<std::string>{"amount", "id"}));
  EXPECT_EQ(key.columns(0).value().numeric_value().value(), "9.50");
  EXPECT_EQ(key.columns(1).value().int_value(), 1);
  v1::ChangeEvent event = Event(record);
  EXPECT_TRUE(event.after().columns(0).key());
  EXPECT_FALSE(event.after().columns(1).key());
  EXPECT_TRUE(event.after().columns(2).key());
}

TEST_F(EnvelopeBuilderTest, KeyFromReplicaIdentityIndexWithoutPrimaryKey) {
  pg::RelationMessage relation = Orders('i');
  relation.columns[0].flags = 0;
  relation.columns[1].flags = 1;
  cache_.Apply(relation);
  Record record = BuildOne(Insert());
  v1::Row key = Key(record);
  EXPECT_EQ(Names(key), std::vector<std::string>{"name"});
  EXPECT_EQ(key.columns(0).value().text(), "widget");
}

TEST_F(EnvelopeBuilderTest, PrimaryKeyColumnMissingFallsBackToFlags) {
  builder_.SetPrimaryKey("public", "orders", {"id", "gone"});
  EXPECT_EQ(Names(Key(BuildOne(Insert()))), std::vector<std::string>{"id"});
}

TEST_F(EnvelopeBuilderTest, EmptyPrimaryKeyIsIgnored) {
  builder_.SetPrimaryKey("public", "orders", {});
  EXPECT_EQ(Names(Key(BuildOne(Insert()))), std::vector<std::string>{"id"});
}

TEST_F(EnvelopeBuilderTest, FullWithoutPrimaryKeyHasNullKey) {
  cache_.Apply(Orders('f'));
  EXPECT_FALSE(BuildOne(Insert()).key.has_value());
}

TEST_F(EnvelopeBuilderTest, NothingHasNullKey) {
  cache_.Apply(Orders('n'));
  EXPECT_FALSE(BuildOne(Insert()).key.has_value());
}

TEST_F(EnvelopeBuilderTest, DefaultWithoutFlaggedColumnsHasNullKey) {
  pg::RelationMessage relation = Orders('d');
  relation.columns[0].flags = 0;
  cache_.Apply(relation);
  EXPECT_FALSE(BuildOne(Insert()).key.has_value());
}

TEST_F(EnvelopeBuilderTest, PrimaryKeySetAfterFirstEventTakesEffect) {
  EXPECT_EQ(Names(Key(BuildOne(Insert()))), std::vector<std::string>{"id"});
  builder_.SetPrimaryKey("public", "orders", {"name"});
  EXPECT_EQ(Names(Key(BuildOne(Insert()))), std::vector<std::string>{"name"});
}

TEST_F(EnvelopeBuilderTest, NewShapeIsPickedUp) {
  ASSERT_EQ(Event(BuildOne(Insert())).after().columns_size(), 3);
  pg::RelationMessage relation = Orders();
  relation.columns.insert(relation.columns.begin(), Col("tenant", 25, true));
  cache_.Apply(relation);
  ASSERT_EQ(cache_.Find(kOrders)->shape_version, 2u);

  pg::InsertMessage insert;
  insert.relation_oid = kOrders;
  insert.new_tuple = Tuple({T("acme"), T("1"), T("widget"), T("9.50")});
  Record record = BuildOne(insert);
  EXPECT_EQ(Names(Key(record)), (std::vector<std::string>{"tenant", "id"}));
  EXPECT_EQ(Event(record).after().columns_size(), 4);
  // The old shape's tuple no longer fits.
  EXPECT_EQ(Build(Insert()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(EnvelopeBuilderTest, SeqAdvancesPerRecordAndNotOnError) {
  seq_ = 10;
  EXPECT_EQ(Event(BuildOne(Insert())).source().seq(), 10u);
  EXPECT_EQ(Event(BuildOne(Insert())).source().seq(), 11u);
  EXPECT_EQ(seq_, 12u);
  EXPECT_FALSE(Build(Insert(999)).ok());
  EXPECT_EQ(seq_, 12u);
  pg::TruncateMessage truncate;
  truncate.relation_oids = {kOrders, 999};
  EXPECT_FALSE(Build(truncate).ok());
  EXPECT_EQ(seq_, 12u);
}

TEST_F(EnvelopeBuilderTest, ColumnCountMismatchIsDataLoss) {
  pg::InsertMessage insert = Insert();
  insert.new_tuple.values.pop_back();
  auto status = Build(insert).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("public.orders"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("2"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("3"));

  pg::DeleteMessage del;
  del.relation_oid = kOrders;
  del.old_tuple = Tuple({T("1")});
  EXPECT_EQ(Build(del).status().code(), absl::StatusCode::kDataLoss);

  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'K';
  update.old_tuple = Tuple({T("1"), Null(), Null(), Null()});
  update.new_tuple = Insert().new_tuple;
  EXPECT_EQ(Build(update).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(EnvelopeBuilderTest, UnknownRelationIsDataLoss) {
  auto status = Build(Insert(4242)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("4242"));

  pg::TruncateMessage truncate;
  truncate.relation_oids = {4343};
  status = Build(truncate).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("4343"));
}

TEST_F(EnvelopeBuilderTest, BadValueIsDataLossNamingColumn) {
  pg::InsertMessage insert = Insert();
  insert.new_tuple.values[0] = T("one");
  auto status = Build(insert).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr("public.orders.id"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("\"one\""));
}

TEST_F(EnvelopeBuilderTest, NonChangeMessageIsInvalidArgument) {
  EXPECT_EQ(Build(pg::BeginMessage{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Build(pg::RelationMessage{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EnvelopeBuilderTest, LogicalMessageGoesToTheMessageTopic) {
  pg::LogicalMessage message;
  message.transactional = true;
  message.lsn = 0x200;
  message.prefix = "outbox";
  message.content = std::string("{\"id\":1}\0\xff", 10);
  EXPECT_EQ(Build(message).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "no message topic configured";
  builder_.SetMessageTopic("pgcdc.messages");
  Record record = BuildOne(message);
  EXPECT_EQ(record.topic, "pgcdc.messages");
  EXPECT_EQ(record.op, v1::MESSAGE);
  v1::ChangeEvent event;
  ASSERT_TRUE(event.ParseFromString(record.value));
  EXPECT_EQ(event.op(), v1::MESSAGE);
  EXPECT_EQ(event.message().prefix(), "outbox");
  EXPECT_EQ(event.message().content(), message.content);
  EXPECT_TRUE(event.message().transactional());
  EXPECT_FALSE(event.has_before());
  EXPECT_FALSE(event.has_after());
  EXPECT_EQ(event.source().commit_lsn(), txn_.commit_lsn);
  EXPECT_EQ(event.source().lsn(), 0x100u);
  EXPECT_EQ(event.source().table(), "");
  ASSERT_TRUE(record.key.has_value());
  v1::Row key;
  ASSERT_TRUE(key.ParseFromString(*record.key));
  ASSERT_EQ(key.columns_size(), 1);
  EXPECT_EQ(key.columns(0).name(), "prefix");
  EXPECT_EQ(key.columns(0).value().text(), "outbox");
  EXPECT_EQ(seq_, 1u);
}

TEST_F(EnvelopeBuilderTest, EmptyNamespaceIsPgCatalog) {
  pg::RelationMessage relation = Orders();
  relation.relation_oid = kItems;
  relation.namespace_name = "";
  relation.relation_name = "pg_thing";
  cache_.Apply(relation);
  Record record = BuildOne(Insert(kItems));
  EXPECT_EQ(record.schema, "pg_catalog");
  EXPECT_EQ(record.topic, "pgcdc.pg_catalog.pg_thing");
  EXPECT_EQ(Event(record).source().schema(), "pg_catalog");
}

TEST_F(EnvelopeBuilderTest, TopicIsSanitized) {
  pg::RelationMessage relation = Orders();
  relation.relation_oid = kItems;
  relation.namespace_name = "my schema";
  relation.relation_name = "order$items";
  cache_.Apply(relation);
  Record record = BuildOne(Insert(kItems));
  EXPECT_EQ(record.topic, "pgcdc.my_schema.order_items");
  EXPECT_EQ(record.schema, "my schema");
  EXPECT_EQ(record.table, "order$items");
}

TEST_F(EnvelopeBuilderTest, ReusedEventCarriesNothingOver) {
  pg::DeleteMessage del;
  del.relation_oid = kOrders;
  del.old_tuple = Tuple({T("5"), Null(), Null()});
  BuildOne(del);
  pg::TruncateMessage truncate;
  truncate.options = pg::TruncateMessage::kCascade;
  truncate.relation_oids = {kOrders};
  Build(truncate).IgnoreError();
  v1::ChangeEvent event = Event(BuildOne(Insert()));
  EXPECT_FALSE(event.has_before());
  EXPECT_FALSE(event.has_truncate());
  EXPECT_EQ(event.after().columns_size(), 3);
}

// BuildInto reuses the caller's records: whatever a record held before
// (a key, two records of a key change, a longer topic) must not leak into
// the next build. Each build into the reused vector equals a fresh Build.
TEST_F(EnvelopeBuilderTest, ReusedRecordsEqualFreshOnes) {
  pg::RelationMessage items = Orders();
  items.relation_oid = kItems;
  items.namespace_name = "a_much_longer_schema_name_than_public";
  items.relation_name = "items";
  cache_.Apply(items);
  builder_.SetMessageTopic("pgcdc.messages");

  pg::UpdateMessage key_change;
  key_change.relation_oid = kOrders;
  key_change.old_kind = 'K';
  key_change.old_tuple = Tuple({T("1"), Null(), Null()});
  key_change.new_tuple = Tuple({T("2"), T("gadget"), T("1.00")});
  pg::TruncateMessage truncate;
  truncate.relation_oids = {kItems};
  pg::LogicalMessage message;
  message.transactional = true;
  message.prefix = "outbox";
  message.content = "x";
  pg::DeleteMessage del;
  del.relation_oid = kItems;
  del.old_tuple = Tuple({T("7"), Null(), Null()});
  const std::vector<pg::PgOutputMessage> changes = {
      key_change, truncate, Insert(kItems), message, del, Insert()};

  std::vector<Record> reused;
  uint32_t reused_seq = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(builder_
                    .BuildInto(changes[i], txn_, 0x100 + i, &reused_seq, kNowUs,
                               &reused)
                    .ok());
    uint32_t fresh_seq = reused_seq - static_cast<uint32_t>(reused.size());
    auto fresh =
        builder_.Build(changes[i], txn_, 0x100 + i, &fresh_seq, kNowUs);
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    ASSERT_EQ(reused.size(), fresh->size());
    for (size_t r = 0; r < reused.size(); ++r) {
      EXPECT_EQ(reused[r].topic, (*fresh)[r].topic);
      EXPECT_EQ(reused[r].key, (*fresh)[r].key);
      EXPECT_EQ(reused[r].value, (*fresh)[r].value);
      EXPECT_EQ(reused[r].schema, (*fresh)[r].schema);
      EXPECT_EQ(reused[r].table, (*fresh)[r].table);
      EXPECT_EQ(reused[r].op, (*fresh)[r].op);
    }
  }
}

TEST_F(EnvelopeBuilderTest, UnchangedToastKeyTakesOldValue) {
  pg::UpdateMessage update;
  update.relation_oid = kOrders;
  update.old_kind = 'K';
  update.old_tuple = Tuple({T("8"), Null(), Null()});
  update.new_tuple = Tuple({Toast(), T("x"), T("1")});
  EXPECT_EQ(Key(BuildOne(update)).columns(0).value().int_value(), 8);
}

TEST_F(EnvelopeBuilderTest, LateTypeNameReachesEvents) {
  pg::RelationMessage relation = Orders();
  relation.columns[1].type_oid = 99999;
  cache_.Apply(relation);
  EXPECT_EQ(Event(BuildOne(Insert())).after().columns(1).type(), "oid:99999");
  pg::TypeMessage type;
  type.type_oid = 99999;
  type.namespace_name = "public";
  type.type_name = "mood";
  cache_.Apply(type);
  EXPECT_EQ(Event(BuildOne(Insert())).after().columns(1).type(), "public.mood");
}

}  // namespace
}  // namespace cdc::envelope

namespace cdc::envelope {
namespace {

TEST_F(EnvelopeBuilderTest, SnapshotRowIsReadWithSnapshotIdentity) {
  TxnContext snapshot;
  snapshot.commit_lsn = 0x16B3000000;  // the consistent point
  snapshot.commit_ts_us = 1700000000000002;
  Record record;
  ASSERT_TRUE(builder_
                  .BuildRead(kOrders, Tuple({T("7"), T("gadget"), Null()}),
                             snapshot, 41, SnapshotMark::kMiddle, kNowUs,
                             &record)
                  .ok());
  EXPECT_EQ(record.op, v1::READ);
  EXPECT_EQ(record.topic, "pgcdc.public.orders");
  v1::ChangeEvent event = Event(record);
  EXPECT_EQ(event.op(), v1::READ);
  EXPECT_FALSE(event.has_before());
  EXPECT_EQ(Names(event.after()),
            (std::vector<std::string>{"id", "name", "amount"}));
  EXPECT_EQ(event.after().columns(0).value().int_value(), 7);
  EXPECT_TRUE(event.after().columns(2).value().has_null());
  EXPECT_TRUE(event.source().snapshot());
  EXPECT_EQ(event.source().commit_lsn(), 0x16B3000000u);
  EXPECT_EQ(event.source().lsn(), 0x16B3000000u);
  EXPECT_EQ(event.source().seq(), 41u);
  EXPECT_EQ(event.source().commit_ts_us(), 1700000000000002);
  EXPECT_EQ(event.ts_ms(), kNowMs);
  EXPECT_EQ(Names(Key(record)), (std::vector<std::string>{"id"}));

  // The next streamed change of the same builder is not a snapshot event.
  Record insert = BuildOne(Insert());
  EXPECT_FALSE(Event(insert).source().snapshot());
  EXPECT_EQ(Event(insert).op(), v1::CREATE);
}

TEST_F(EnvelopeBuilderTest, NegativeTimesAndZerosEncodeAsProtobufDoes) {
  // Before 1970 (a negative varint, ten bytes); zero fields left out.
  TxnContext txn;
  txn.commit_ts_us = -1;
  Record record;
  ASSERT_TRUE(builder_
                  .BuildRead(kOrders, Tuple({T("0"), T(""), T("-0.5")}), txn, 0,
                             SnapshotMark::kMiddle, /*now_us=*/-86400000000,
                             &record)
                  .ok());
  v1::ChangeEvent event = Event(record);  // checks the bytes
  EXPECT_EQ(event.source().commit_ts_us(), -1);
  EXPECT_EQ(event.ts_ms(), -86400000);
  EXPECT_EQ(event.source().seq(), 0u);
  EXPECT_EQ(event.after().columns(1).value().text(), "");
  Key(record);
}

TEST_F(EnvelopeBuilderTest, SnapshotRowOfUnknownTableOrWrongWidthIsDataLoss) {
  Record record;
  absl::Status unknown = builder_.BuildRead(
      999, Tuple({T("1")}), txn_, 0, SnapshotMark::kMiddle, kNowUs, &record);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kDataLoss);
  absl::Status narrow =
      builder_.BuildRead(kOrders, Tuple({T("1")}), txn_, 0,
                         SnapshotMark::kMiddle, kNowUs, &record);
  EXPECT_EQ(narrow.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(narrow.message(), HasSubstr("has 1 columns"));
}

}  // namespace
}  // namespace cdc::envelope
