// The descriptor set the build ships (share/pgcdc/cdc-v1.binpb): what a
// consumer without generated code reads pgcdc's events with. It must hold
// every cdc.v1 message, and a runtime that knows only the set must read an
// event pgcdc wrote, field for field.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cdc/v1/change_event.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/message_differencer.h"

namespace cdc::envelope {
namespace {

TEST(DescriptorSetTest, ReadsAnEventWithoutGeneratedCode) {
  std::ifstream in(PGCDC_DESCRIPTOR_SET, std::ios::binary);
  ASSERT_TRUE(in.good()) << PGCDC_DESCRIPTOR_SET;
  std::stringstream bytes;
  bytes << in.rdbuf();
  google::protobuf::FileDescriptorSet set;
  ASSERT_TRUE(set.ParseFromString(bytes.str()));

  google::protobuf::DescriptorPool pool;
  for (const google::protobuf::FileDescriptorProto& file : set.file()) {
    ASSERT_NE(pool.BuildFile(file), nullptr) << file.name();
  }
  for (const char* name : {"cdc.v1.ChangeEvent", "cdc.v1.Row", "cdc.v1.Value",
                           "cdc.v1.DeadLetter", "cdc.v1.SnapshotSignal"}) {
    EXPECT_NE(pool.FindMessageTypeByName(name), nullptr) << name;
  }

  v1::ChangeEvent event;
  event.set_op(v1::UPDATE);
  event.set_ts_ms(1700000000123);
  event.mutable_source()->set_commit_lsn(0x16B374D848);
  v1::Column* column = event.mutable_after()->add_columns();
  column->set_name("id");
  column->set_type("int4");
  column->mutable_value()->set_int_value(7);
  const std::string wire = event.SerializeAsString();

  google::protobuf::DynamicMessageFactory factory(&pool);
  const google::protobuf::Descriptor* type =
      pool.FindMessageTypeByName("cdc.v1.ChangeEvent");
  ASSERT_NE(type, nullptr);
  std::unique_ptr<google::protobuf::Message> dynamic(
      factory.GetPrototype(type)->New());
  ASSERT_TRUE(dynamic->ParseFromString(wire));
  // Written back by the set's own description: the same bytes, so no field
  // was unknown to it.
  EXPECT_EQ(dynamic->SerializeAsString(), wire);
  EXPECT_EQ(dynamic->GetReflection()->GetInt64(
                *dynamic, type->FindFieldByName("ts_ms")),
            1700000000123);
}

}  // namespace
}  // namespace cdc::envelope
