#include "cdc/snapshot/incremental_driver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cdc/snapshot/signal.h"

namespace cdc::snapshot {
namespace {

using ::testing::HasSubstr;

// The pipeline, as far as the driver sees it: signals written are kept,
// records and failures counted. No chunk is read in these tests (that
// takes a server): a request for a table not captured is dropped before.
class FakeHost : public IncrementalDriver::Host {
 public:
  absl::Status ResolveTypes(const pg::RelationMessage&) override {
    return absl::OkStatus();
  }
  std::unique_ptr<envelope::EnvelopeBuilder> NewBuilder(
      const pg::RelationCache*) const override {
    return nullptr;
  }
  absl::Status ProduceRecord(const envelope::Record&) override {
    ++records;
    return absl::OkStatus();
  }
  absl::Status WriteSignal(const v1::SnapshotSignal& signal) override {
    written.push_back(signal);
    return absl::OkStatus();
  }
  void Fail(const absl::Status& status) override { failed = status; }

  std::vector<v1::SnapshotSignal> written;
  int records = 0;
  absl::Status failed;
};

class IncrementalDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.source.slot = "s";
    pg::TableInfo t;
    t.name.schema = "public";
    t.name.table = "t";
    t.primary_key = {"id"};
    tables_.push_back(t);
    driver_ = std::make_unique<IncrementalDriver>(
        &config_, &tables_, &relations_, &keys_, &tracker_, metrics_.get(),
        &host_);
    driver_->Restart();
  }

  // A logical decoding message of `signal` (with `xid`) sealed with the key.
  pg::LogicalMessage Sealed(v1::SnapshotSignal signal, uint32_t xid) const {
    signal.set_xid(xid);
    pg::LogicalMessage message;
    message.transactional = true;
    message.lsn = 0x100;
    message.prefix = kSignalPrefix;
    message.content = keys_.Seal(FormatSignal(signal));
    return message;
  }
  // Opens a tracker transaction for a signal to arrive in.
  IncrementalDriver::Txn Open(uint32_t xid) {
    absl::StatusOr<offsets::TxnId> id = tracker_.Begin(0x100);
    EXPECT_TRUE(id.ok());
    return IncrementalDriver::Txn{*id, xid, 0x100};
  }
  void Commit(const IncrementalDriver::Txn& txn) {
    ASSERT_TRUE(tracker_.Commit(txn.id, 0x200 + txn.id).ok());
  }
  std::string Rejected() const { return metrics_->Render(); }

  config::Config config_;
  std::vector<pg::TableInfo> tables_;
  pg::RelationCache relations_;
  SignalKeys keys_{std::vector<std::string>{"secret"}};
  offsets::AckTracker tracker_{0x10};
  std::unique_ptr<metrics::Metrics> metrics_ =
      metrics::Metrics::Create("").value();
  FakeHost host_;
  std::unique_ptr<IncrementalDriver> driver_;
};

TEST_F(IncrementalDriverTest, UnsealedOrMisplacedSignalsAreRefusedAndCounted) {
  pg::LogicalMessage unsealed =
      Sealed(RequestSignal("s", "r", {"public.t"}), 7);
  unsealed.content = FormatSignal(RequestSignal("s", "r", {"public.t"}));
  IncrementalDriver::Txn txn = Open(7);
  EXPECT_TRUE(driver_->HandleSignal(unsealed, &txn).ok());
  // Sealed, but a copy of another transaction's.
  EXPECT_TRUE(
      driver_
          ->HandleSignal(Sealed(RequestSignal("s", "r", {"public.t"}), 8), &txn)
          .ok());
  // Sealed, but written outside a transaction.
  pg::LogicalMessage outside = Sealed(RequestSignal("s", "r", {"public.t"}), 7);
  outside.transactional = false;
  EXPECT_TRUE(driver_->HandleSignal(outside, &txn).ok());
  EXPECT_THAT(Rejected(), HasSubstr("pgcdc_snapshot_signals_rejected_total 3"));
  // Nothing was asked of the host, and nothing held.
  EXPECT_TRUE(host_.written.empty());
  Commit(txn);
  EXPECT_EQ(tracker_.confirmed(), 0x200 + txn.id);
}

TEST_F(IncrementalDriverTest, SignalsOfAnotherSlotAreIgnored) {
  IncrementalDriver::Txn txn = Open(7);
  EXPECT_TRUE(
      driver_
          ->HandleSignal(Sealed(RequestSignal("other", "r", {"public.t"}), 7),
                         &txn)
          .ok());
  EXPECT_THAT(Rejected(), HasSubstr("pgcdc_snapshot_signals_rejected_total 0"));
  EXPECT_TRUE(host_.written.empty());
}

TEST_F(IncrementalDriverTest,
       TransactionalSignalOutsideATransactionIsDataLoss) {
  EXPECT_EQ(driver_->HandleSignal(
                Sealed(RequestSignal("s", "r", {"public.t"}), 7), nullptr),
            absl::DataLossError(
                "transactional logical message outside a transaction"));
}

TEST_F(IncrementalDriverTest, RequestIsHeldAndATableNotCapturedIsSkipped) {
  IncrementalDriver::Txn request = Open(7);
  ASSERT_TRUE(
      driver_
          ->HandleSignal(Sealed(RequestSignal("s", "r", {"public.missing"}), 7),
                         &request)
          .ok());
  Commit(request);
  // Held: the request's transaction stays unconfirmed.
  EXPECT_EQ(tracker_.confirmed(), 0x10u);
  // The run's sync marker, written through the host, comes back.
  ASSERT_EQ(host_.written.size(), 1u);
  IncrementalDriver::Txn marker = Open(8);
  ASSERT_TRUE(driver_->HandleSignal(Sealed(host_.written[0], 8), &marker).ok());
  Commit(marker);
  // The low watermark of the first chunk, then its table is not one pgcdc
  // captures: skipped, counted, no read started.
  ASSERT_EQ(host_.written.size(), 2u);
  ASSERT_TRUE(host_.written[1].has_open());
  IncrementalDriver::Txn open = Open(9);
  ASSERT_TRUE(driver_->HandleSignal(Sealed(host_.written[1], 9), &open).ok());
  Commit(open);
  EXPECT_EQ(driver_->wake_fd(), -1);
  EXPECT_THAT(Rejected(), HasSubstr("pgcdc_snapshot_signals_rejected_total 1"));
  EXPECT_TRUE(host_.failed.ok());
  EXPECT_EQ(host_.records, 0);
}

}  // namespace
}  // namespace cdc::snapshot
