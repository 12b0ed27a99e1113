#include "cdc/snapshot/initial_snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace cdc::snapshot {

// The pipeline, as far as the snapshot sees it: one tracker transaction at
// a time, records counted. Slots and the Snapshotter take a server and are
// covered by the integration tests; this drives the rows' side.
class FakeSnapshotHost : public InitialSnapshot::Host {
 public:
  explicit FakeSnapshotHost(offsets::AckTracker* tracker) : tracker_(tracker) {}
  absl::Status AddRelation(const pg::RelationMessage& relation) override {
    relations.push_back(relation.relation_name);
    return absl::OkStatus();
  }
  absl::Status BuildRead(pg::Oid, const pg::TupleData& row,
                         const envelope::TxnContext& snapshot, uint32_t ordinal,
                         envelope::SnapshotMark mark, int64_t,
                         envelope::Record* record) override {
    marks.push_back(mark);
    record->topic = "t";
    record->value = row.values.empty() ? "" : row.values[0].data;
    commit_lsns.push_back(snapshot.commit_lsn);
    ordinals.push_back(ordinal);
    return absl::OkStatus();
  }
  absl::Status OpenTransaction(const envelope::TxnContext& txn) override {
    absl::StatusOr<offsets::TxnId> id = tracker_->Begin(txn.commit_lsn);
    if (!id.ok()) return id.status();
    open_ = *id;
    return absl::OkStatus();
  }
  bool in_transaction() const override { return tracker_->in_transaction(); }
  offsets::TxnId open_transaction() const override { return open_; }
  absl::Status CommitSnapshotTransaction(Lsn end_lsn) override {
    committed_at.push_back(end_lsn);
    return tracker_->Commit(open_, end_lsn);
  }
  absl::Status ProduceRecord(const envelope::Record& record) override {
    produced.push_back(record.value);
    return tracker_->AddEvent(open_, record.value.size());
  }
  void ServeAcks(int) override { ++serves; }
  void AfterAcks() override {}
  absl::Status fatal() const override { return absl::OkStatus(); }
  absl::Status WriteSignal(const v1::SnapshotSignal&) override {
    return absl::OkStatus();
  }

  std::vector<std::string> relations;
  std::vector<Lsn> commit_lsns;
  std::vector<uint32_t> ordinals;
  std::vector<envelope::SnapshotMark> marks;
  std::vector<Lsn> committed_at;
  std::vector<std::string> produced;
  int serves = 0;

 private:
  offsets::AckTracker* tracker_;
  offsets::TxnId open_ = 0;
};

class InitialSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = std::make_unique<InitialSnapshot>(
        &config_, &tracker_, &keys_, metrics_.get(), &stop_, &host_);
    // As PrepareSlot leaves it for a snapshot without a journal.
    snapshot_->tables_ = &tables_;
    snapshot_->start_lsn_ = 0x50;
    snapshot_->txn_.commit_lsn = 0x80;
  }
  RowSink& sink() { return *snapshot_; }

  config::Config config_;
  offsets::AckTracker tracker_{0x50};
  SignalKeys keys_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<metrics::Metrics> metrics_ =
      metrics::Metrics::Create("").value();
  std::vector<pg::TableInfo> tables_;
  FakeSnapshotHost host_{&tracker_};
  std::unique_ptr<InitialSnapshot> snapshot_;
};

namespace {

pg::TupleData Row(const std::string& value) {
  pg::TupleData row;
  row.values.push_back({pg::TupleValue::Kind::kText, value});
  return row;
}

TEST_F(InitialSnapshotTest, NothingDueIsDoneAtOnce) {
  EXPECT_TRUE(snapshot_->Run().ok());
  EXPECT_TRUE(host_.produced.empty());
}

TEST_F(InitialSnapshotTest, ATableIsOneTransactionAtTheSlotsStart) {
  pg::RelationMessage relation;
  relation.relation_oid = 16400;
  relation.namespace_name = "public";
  relation.relation_name = "t";
  ASSERT_TRUE(sink().BeginTable(relation).ok());
  EXPECT_EQ(host_.relations, std::vector<std::string>{"t"});
  EXPECT_TRUE(tracker_.in_transaction());
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        sink()
            .Row(relation, Row("r" + std::to_string(i)), i, RowPlace::kMore)
            .ok());
  }
  ASSERT_TRUE(sink().EndTable(relation, 3).ok());
  EXPECT_EQ(host_.produced, (std::vector<std::string>{"r0", "r1", "r2"}));
  // READ events at the snapshot's point, seq the row's ordinal.
  EXPECT_EQ(host_.commit_lsns, (std::vector<Lsn>{0x80, 0x80, 0x80}));
  EXPECT_EQ(host_.ordinals, (std::vector<uint32_t>{0, 1, 2}));
  // Committed at the slot's start: acknowledging never moves the slot.
  EXPECT_EQ(host_.committed_at, std::vector<Lsn>{0x50});
  EXPECT_FALSE(tracker_.in_transaction());
  EXPECT_EQ(tracker_.inflight_events(), 3u);
  EXPECT_THAT(metrics_->Render(), ::testing::HasSubstr("table=\"public.t\""));
}

// As Debezium marks its snapshot's rows (source.snapshot): the snapshot's
// last row wins over a first, a table's last over its first, and empty
// tables take no part.
TEST_F(InitialSnapshotTest, RowsAreMarkedFirstAndLastAsDebeziumMarksThem) {
  using M = envelope::SnapshotMark;
  const std::vector<int> rows_per_table = {3, 1, 0, 2, 0};
  const size_t last_with_rows = 3;
  for (size_t t = 0; t < rows_per_table.size(); ++t) {
    pg::RelationMessage relation;
    relation.relation_oid = 16400 + t;
    relation.namespace_name = "public";
    relation.relation_name = "t" + std::to_string(t);
    ASSERT_TRUE(sink().BeginTable(relation).ok());
    const int n = rows_per_table[t];
    for (int i = 0; i < n; ++i) {
      RowPlace place = RowPlace::kMore;
      if (i == n - 1) {
        place = t == last_with_rows ? RowPlace::kLastOfSnapshot
                                    : RowPlace::kLastInTable;
      }
      ASSERT_TRUE(sink().Row(relation, Row("r"), i, place).ok());
    }
    ASSERT_TRUE(sink().EndTable(relation, n).ok());
  }
  EXPECT_EQ(host_.marks,
            (std::vector<M>{M::kFirst, M::kMiddle, M::kLastInTable,
                            M::kLastInTable, M::kFirstInTable, M::kLast}));
}

TEST_F(InitialSnapshotTest, AFullWindowWaitsAndAStopEndsTheRead) {
  config_.kafka.max_inflight_bytes = 4;
  pg::RelationMessage relation;
  relation.relation_name = "t";
  relation.namespace_name = "public";
  ASSERT_TRUE(sink().BeginTable(relation).ok());
  ASSERT_TRUE(sink().Row(relation, Row("abcd"), 0, RowPlace::kMore).ok());
  stop_ = true;
  EXPECT_EQ(sink().Row(relation, Row("e"), 1, RowPlace::kMore),
            absl::CancelledError("stopped by a signal"));
  EXPECT_GE(host_.serves, 1);  // acknowledgements were served meanwhile
  EXPECT_EQ(host_.produced.size(), 1u);
}

}  // namespace
}  // namespace cdc::snapshot
