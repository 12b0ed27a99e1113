#include "cdc/pg/replication_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <variant>

#include "tests/unit/pg/bytes.h"

namespace cdc::pg {
namespace {

using ::testing::HasSubstr;

TEST(ReplicationProtocolTest, ParsesXLogData) {
  const std::string frame =
      Bytes({'w',  0x00, 0x00, 0x00, 0x16, 0xb3, 0x74, 0xd8, 0x48,  // wal_start
             0x00, 0x00, 0x00, 0x16, 0xb3, 0x74, 0xd9, 0x00,        // wal_end
             0x00, 0x02, 0x92, 0x49, 0x2d, 0x0f, 0x8a, 0xe6}) +     // send_time
      "payload";
  absl::StatusOr<ServerFrame> parsed = ParseServerFrame(frame);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const XLogData* data = std::get_if<XLogData>(&*parsed);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->wal_start, 0x16B374D848u);
  EXPECT_EQ(data->wal_end, 0x16B374D900u);
  EXPECT_EQ(data->send_time, 723792939682534);
  EXPECT_EQ(data->payload, "payload");
  // The payload is a view into the frame, not a copy.
  EXPECT_EQ(data->payload.data(), frame.data() + 25);
}

TEST(ReplicationProtocolTest, XLogDataRoundTrips) {
  for (std::string_view payload :
       {std::string_view(), std::string_view("B\0\0\0", 4),
        std::string_view("x")}) {
    const std::string frame =
        EncodeXLogData(0x1532438, 0xFFFFFFFFFFFFFFFF, -1, payload);
    EXPECT_EQ(frame.size(), 25 + payload.size());
    absl::StatusOr<ServerFrame> parsed = ParseServerFrame(frame);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    const XLogData& data = std::get<XLogData>(*parsed);
    EXPECT_EQ(data.wal_start, 0x1532438u);
    EXPECT_EQ(data.wal_end, 0xFFFFFFFFFFFFFFFFu);
    EXPECT_EQ(data.send_time, -1);
    EXPECT_EQ(data.payload, payload);
  }
}

TEST(ReplicationProtocolTest, ParsesKeepalive) {
  const std::string frame =
      Bytes({'k', 0x00, 0x00, 0x00, 0x00, 0x01, 0x53, 0x24, 0x68,  // wal_end
             0x00, 0x03, 0x03, 0xe6, 0x8f, 0x19, 0x88, 0x96,       // send_time
             0x01});  // reply asked
  absl::StatusOr<ServerFrame> parsed = ParseServerFrame(frame);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const PrimaryKeepalive* keepalive = std::get_if<PrimaryKeepalive>(&*parsed);
  ASSERT_NE(keepalive, nullptr);
  EXPECT_EQ(keepalive->wal_end, 0x1532468u);
  EXPECT_EQ(keepalive->send_time, 0x000303e68f198896);
  EXPECT_TRUE(keepalive->reply_requested);
}

TEST(ReplicationProtocolTest, KeepaliveRoundTrips) {
  for (bool reply : {false, true}) {
    const PrimaryKeepalive keepalive{0xABCDEF0123, 723792939682534, reply};
    const std::string frame = EncodePrimaryKeepalive(keepalive);
    EXPECT_EQ(frame.size(), 18u);
    absl::StatusOr<ServerFrame> parsed = ParseServerFrame(frame);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    const PrimaryKeepalive& got = std::get<PrimaryKeepalive>(*parsed);
    EXPECT_EQ(got.wal_end, keepalive.wal_end);
    EXPECT_EQ(got.send_time, keepalive.send_time);
    EXPECT_EQ(got.reply_requested, reply);
  }
}

TEST(ReplicationProtocolTest, StandbyStatusUpdateHasTheDocumentedLayout) {
  const StandbyStatusUpdate update{0x0102030405060708, 0x1112131415161718,
                                   0x2122232425262728, -2, true};
  EXPECT_EQ(
      EncodeStandbyStatusUpdate(update),
      Bytes({'r',  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // written
             0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,        // flushed
             0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,        // applied
             0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,        // clock
             0x01}));
}

TEST(ReplicationProtocolTest, StandbyStatusUpdateRoundTrips) {
  for (bool reply : {false, true}) {
    const StandbyStatusUpdate update{0x16B374D848, 0x16B374D800, 0x16B374D000,
                                     723792939682534, reply};
    absl::StatusOr<StandbyStatusUpdate> parsed =
        ParseStandbyStatusUpdate(EncodeStandbyStatusUpdate(update));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->written, update.written);
    EXPECT_EQ(parsed->flushed, update.flushed);
    EXPECT_EQ(parsed->applied, update.applied);
    EXPECT_EQ(parsed->client_time, update.client_time);
    EXPECT_EQ(parsed->reply_requested, reply);
  }
}

TEST(ReplicationProtocolTest, EveryTruncationIsDataLoss) {
  const std::string keepalive =
      EncodePrimaryKeepalive({0x1532468, 723792939682534, false});
  for (size_t n = 0; n < keepalive.size(); ++n) {
    absl::StatusOr<ServerFrame> parsed =
        ParseServerFrame(std::string_view(keepalive).substr(0, n));
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
    if (n > 0) {
      EXPECT_THAT(parsed.status().message(), HasSubstr("keepalive"));
    }
  }

  // XLogData's payload has no length of its own: any cut through the header
  // is an error, any cut through the payload a shorter payload.
  const std::string xlog = EncodeXLogData(1, 2, 3, "payload");
  for (size_t n = 0; n < 25; ++n) {
    absl::StatusOr<ServerFrame> parsed =
        ParseServerFrame(std::string_view(xlog).substr(0, n));
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
    if (n > 0) {
      EXPECT_THAT(parsed.status().message(), HasSubstr("XLogData"));
    }
  }

  const std::string update = EncodeStandbyStatusUpdate({1, 2, 3, 4, true});
  for (size_t n = 0; n < update.size(); ++n) {
    absl::StatusOr<StandbyStatusUpdate> parsed =
        ParseStandbyStatusUpdate(std::string_view(update).substr(0, n));
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(ReplicationProtocolTest, TrailingBytesAreDataLoss) {
  absl::StatusOr<ServerFrame> keepalive =
      ParseServerFrame(EncodePrimaryKeepalive({1, 2, true}) + "x");
  ASSERT_FALSE(keepalive.ok());
  EXPECT_EQ(keepalive.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(keepalive.status().message(), HasSubstr("trailing"));

  absl::StatusOr<StandbyStatusUpdate> update = ParseStandbyStatusUpdate(
      EncodeStandbyStatusUpdate({1, 2, 3, 4, false}) + "x");
  ASSERT_FALSE(update.ok());
  EXPECT_EQ(update.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(update.status().message(), HasSubstr("trailing"));
}

TEST(ReplicationProtocolTest, UnknownOrMisplacedTypeIsDataLoss) {
  absl::StatusOr<ServerFrame> parsed = ParseServerFrame("Zxyz");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(parsed.status().message(), HasSubstr("'Z'"));

  // A client frame is not a server frame, and vice versa.
  parsed = ParseServerFrame(EncodeStandbyStatusUpdate({1, 2, 3, 4, false}));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("'r'"));
  absl::StatusOr<StandbyStatusUpdate> update =
      ParseStandbyStatusUpdate(EncodePrimaryKeepalive({1, 2, false}));
  ASSERT_FALSE(update.ok());
  EXPECT_EQ(update.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(update.status().message(), HasSubstr("'k'"));

  EXPECT_EQ(ParseServerFrame("").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseStandbyStatusUpdate("").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ReplicationProtocolTest, NonBooleanReplyFlagIsDataLoss) {
  std::string frame = EncodePrimaryKeepalive({1, 2, true});
  frame.back() = 2;
  absl::StatusOr<ServerFrame> parsed = ParseServerFrame(frame);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(parsed.status().message(), HasSubstr("reply_requested"));
}

TEST(ReplicationProtocolTest, RandomFramesNeverCrash) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    std::string frame(rng() % 48, '\0');
    for (char& ch : frame) ch = static_cast<char>(rng());
    if (!frame.empty() && rng() % 4 != 0) frame[0] = "wkr"[rng() % 3];
    absl::StatusOr<ServerFrame> server = ParseServerFrame(frame);
    if (!server.ok()) {
      ASSERT_EQ(server.status().code(), absl::StatusCode::kDataLoss);
    }
    absl::StatusOr<StandbyStatusUpdate> client =
        ParseStandbyStatusUpdate(frame);
    if (!client.ok()) {
      ASSERT_EQ(client.status().code(), absl::StatusCode::kDataLoss);
    }
  }
}

}  // namespace
}  // namespace cdc::pg
