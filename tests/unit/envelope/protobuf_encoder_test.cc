// ProtobufEncoder alone, from an event made by hand: what an encoder of
// another format receives, and the records RecordWriter hands it.
#include "cdc/envelope/protobuf_encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cdc/envelope/encoder.h"
#include "tests/unit/envelope/rows.h"

namespace cdc::envelope {
namespace {

ColumnType Type(std::string name) {
  ColumnType type;
  type.name = std::move(name);
  type.version = 1;
  return type;
}

class ProtobufEncoderTest : public ::testing::Test {
 protected:
  ProtobufEncoderTest() : encoder_(SourceInfo{"pgcdc", "0.1.0", "shop", "s"}) {
    relation_.relation_oid = 16400;
    relation_.namespace_name = "public";
    relation_.relation_name = "orders";
    relation_.columns = {Col("id", 23), Col("name", 25)};
    table_.schema = "public";
    table_.table = "orders";
    table_.topic = "pgcdc.public.orders";
    table_.shape_id = 42;
    table_.key_columns = {0};
    table_.in_key = {true, false};
    table_.types = {Type("int4"), Type("text")};
    id_.set_int_value(7);
    name_.set_text("widget");
    after_ = {{0, nullptr, &id_}, {1, nullptr, &name_}};
    key_ = {{0, nullptr, &id_}};
    txn_.commit_lsn = 0x200;
    txn_.xid = 9;
  }

  RowEvent Insert() {
    RowEvent event;
    event.op = v1::CREATE;
    event.table = &table_;
    event.txn = &txn_;
    event.lsn = 0x100;
    event.seq = 3;
    event.now_us = 5000;
    event.relation = &relation_;
    event.after = &after_;
    event.key = &key_;
    return event;
  }

  ProtobufEncoder encoder_;
  pg::RelationMessage relation_;
  TableShape table_;
  v1::Value id_;
  v1::Value name_;
  std::vector<ColumnValue> after_;
  std::vector<ColumnValue> key_;
  TxnContext txn_;
};

TEST_F(ProtobufEncoderTest, RowEventIsOneChangeEventKeyedByItsKeyColumns) {
  std::vector<Record> records(3);  // reused: Finish drops the extra ones
  records[0].value = "left over";
  RecordWriter writer(&records);
  ASSERT_TRUE(encoder_.EncodeRow(Insert(), &writer).ok());
  writer.Finish();
  ASSERT_EQ(records.size(), 1u);
  const Record& record = records[0];
  EXPECT_EQ(record.topic, "pgcdc.public.orders");
  EXPECT_EQ(record.schema, "public");
  EXPECT_EQ(record.table, "orders");
  EXPECT_EQ(record.op, v1::CREATE);

  v1::ChangeEvent event;
  ASSERT_TRUE(event.ParseFromString(record.value));
  EXPECT_EQ(event.SerializeAsString(), record.value);
  EXPECT_EQ(event.op(), v1::CREATE);
  EXPECT_FALSE(event.has_before());
  ASSERT_EQ(event.after().columns_size(), 2);
  EXPECT_EQ(event.after().columns(0).name(), "id");
  EXPECT_EQ(event.after().columns(0).type(), "int4");
  EXPECT_TRUE(event.after().columns(0).key());
  EXPECT_EQ(event.after().columns(1).value().text(), "widget");
  EXPECT_FALSE(event.after().columns(1).key());
  EXPECT_EQ(event.source().table(), "orders");
  EXPECT_EQ(event.source().shape_id(), 42u);
  EXPECT_EQ(event.source().lsn(), 0x100u);
  EXPECT_EQ(event.source().commit_lsn(), 0x200u);
  EXPECT_EQ(event.source().seq(), 3u);
  EXPECT_EQ(event.ts_ms(), 5);

  v1::Row key;
  ASSERT_TRUE(record.key.has_value());
  ASSERT_TRUE(key.ParseFromString(*record.key));
  ASSERT_EQ(key.columns_size(), 1);
  EXPECT_EQ(key.columns(0).value().int_value(), 7);
}

TEST_F(ProtobufEncoderTest, NewTypeNamesRemakeTheColumnParts) {
  std::vector<Record> records;
  {
    RecordWriter writer(&records);
    ASSERT_TRUE(encoder_.EncodeRow(Insert(), &writer).ok());
  }
  table_.types[1].name = "public.label";
  table_.types[1].version = 2;
  RecordWriter writer(&records);
  ASSERT_TRUE(encoder_.EncodeRow(Insert(), &writer).ok());
  writer.Finish();
  v1::ChangeEvent event;
  ASSERT_TRUE(event.ParseFromString(records[0].value));
  EXPECT_EQ(event.after().columns(1).type(), "public.label");
}

TEST_F(ProtobufEncoderTest, TableWithoutKeyHasNullKey) {
  std::vector<Record> records(1);
  records[0].key = "old";
  RowEvent event = Insert();
  event.key = nullptr;
  RecordWriter writer(&records);
  ASSERT_TRUE(encoder_.EncodeRow(event, &writer).ok());
  writer.Finish();
  EXPECT_FALSE(records[0].key.has_value());
}

}  // namespace
}  // namespace cdc::envelope
