#include "cdc/pipeline/stream_spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cdc::pipeline {
namespace {

struct Message {
  Lsn lsn;
  std::string payload;
  friend bool operator==(const Message& a, const Message& b) {
    return a.lsn == b.lsn && a.payload == b.payload;
  }
};

class StreamSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pgcdc-spool-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    // Spill files are unlinked at creation, so the directory must be empty.
    EXPECT_EQ(rmdir(dir_.c_str()), 0) << "spill directory left non-empty";
  }

  std::vector<Message> TakeAll(StreamSpool& spool, pg::TransactionId xid) {
    absl::StatusOr<std::unique_ptr<SpooledTxn>> txn = spool.Take(xid);
    EXPECT_TRUE(txn.ok()) << txn.status();
    std::vector<Message> out;
    if (!txn.ok()) return out;
    for (;;) {
      absl::StatusOr<std::optional<SpooledTxn::Entry>> e = (*txn)->Next();
      EXPECT_TRUE(e.ok()) << e.status();
      if (!e.ok() || !e->has_value()) break;
      out.push_back({(*e)->lsn, std::string((*e)->payload)});
    }
    EXPECT_EQ(out.size(), (*txn)->messages());
    return out;
  }

  std::string dir_;
};

TEST_F(StreamSpoolTest, KeepsMessagesInOrderInMemory) {
  StreamSpool spool({dir_, 1 << 20});
  ASSERT_TRUE(spool.Append(7, 7, 100, "a").ok());
  ASSERT_TRUE(spool.Append(7, 7, 110, "").ok());
  ASSERT_TRUE(spool.Append(7, 7, 120, std::string(1000, 'x')).ok());
  EXPECT_EQ(spool.open_transactions(), 1u);
  EXPECT_GT(spool.memory_bytes(), 1000u);
  EXPECT_EQ(spool.spilled_bytes_total(), 0u);
  std::vector<Message> expected = {
      {100, "a"}, {110, ""}, {120, std::string(1000, 'x')}};
  EXPECT_EQ(TakeAll(spool, 7), expected);
  EXPECT_EQ(spool.open_transactions(), 0u);
  EXPECT_EQ(spool.memory_bytes(), 0u);
}

TEST_F(StreamSpoolTest, UnknownTransactionIsEmpty) {
  StreamSpool spool({dir_, 1 << 20});
  EXPECT_TRUE(TakeAll(spool, 42).empty());
  EXPECT_TRUE(spool.Abort(42, 42).ok());
  EXPECT_TRUE(spool.Abort(42, 43).ok());
}

TEST_F(StreamSpoolTest, TopLevelAbortDropsTheTransactionOnly) {
  StreamSpool spool({dir_, 1 << 20});
  ASSERT_TRUE(spool.Append(7, 7, 100, "seven").ok());
  ASSERT_TRUE(spool.Append(8, 8, 101, "eight").ok());
  ASSERT_TRUE(spool.Abort(7, 7).ok());
  EXPECT_EQ(spool.open_transactions(), 1u);
  EXPECT_TRUE(TakeAll(spool, 7).empty());
  EXPECT_EQ(TakeAll(spool, 8), (std::vector<Message>{{101, "eight"}}));
  EXPECT_EQ(spool.memory_bytes(), 0u);
}

// SAVEPOINT a; (a writes) SAVEPOINT b; (b writes) ROLLBACK TO a: the server
// sends aborts for b and a; what a and b wrote goes, the rest stays.
TEST_F(StreamSpoolTest, SubtransactionAbortCutsAtItsFirstMessage) {
  for (bool spill : {false, true}) {
    SCOPED_TRACE(spill ? "spilled" : "in memory");
    StreamSpool spool({dir_, spill ? 0u : 1u << 20});
    ASSERT_TRUE(spool.Append(7, 7, 100, "top1").ok());
    ASSERT_TRUE(spool.Append(7, 8, 110, "a1").ok());
    ASSERT_TRUE(spool.Append(7, 9, 120, "b1").ok());
    ASSERT_TRUE(spool.Append(7, 8, 130, "a2").ok());
    ASSERT_TRUE(spool.Abort(7, 9).ok());  // b: cuts b1 and a2 after it
    ASSERT_TRUE(spool.Append(7, 7, 140, "top2").ok());
    ASSERT_TRUE(spool.Abort(7, 8).ok());  // a: cuts a1 and top2
    ASSERT_TRUE(spool.Abort(7, 9).ok());  // already gone: no error
    ASSERT_TRUE(spool.Append(7, 7, 150, "top3").ok());
    ASSERT_TRUE(spool.Append(7, 10, 160, "c1").ok());
    EXPECT_EQ(
        TakeAll(spool, 7),
        (std::vector<Message>{{100, "top1"}, {150, "top3"}, {160, "c1"}}));
  }
}

// A subtransaction that wrote, was followed by its parent, and wrote again
// keeps the offset of its first message.
TEST_F(StreamSpoolTest, SubtransactionKeepsItsFirstOffset) {
  StreamSpool spool({dir_, 1 << 20});
  ASSERT_TRUE(spool.Append(7, 8, 100, "a1").ok());
  ASSERT_TRUE(spool.Append(7, 9, 110, "b1").ok());
  ASSERT_TRUE(spool.Append(7, 8, 120, "a2").ok());
  ASSERT_TRUE(spool.Abort(7, 8).ok());
  EXPECT_TRUE(TakeAll(spool, 7).empty());
}

TEST_F(StreamSpoolTest, SpillsTheLargestTransactionPastTheBudget) {
  StreamSpool spool({dir_, 4096});
  ASSERT_TRUE(spool.Append(1, 1, 10, std::string(1000, 's')).ok());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(spool.Append(2, 2, 20 + i, std::string(1000, 'L')).ok());
  }
  // 5 records of ~1 KB > 4 KiB: the larger transaction (2) went to a file.
  EXPECT_LE(spool.memory_bytes(), 4096u);
  EXPECT_GT(spool.memory_bytes(), 1000u);  // 1 stayed in memory
  EXPECT_GE(spool.spilled_bytes_total(), 4000u);
  EXPECT_GE(spool.total_bytes(), 5000u);
  ASSERT_TRUE(spool.Append(2, 2, 30, "after").ok());
  std::vector<Message> two = TakeAll(spool, 2);
  ASSERT_EQ(two.size(), 5u);
  EXPECT_EQ(two[3], (Message{23, std::string(1000, 'L')}));
  EXPECT_EQ(two[4], (Message{30, "after"}));
  EXPECT_EQ(TakeAll(spool, 1),
            (std::vector<Message>{{10, std::string(1000, 's')}}));
  EXPECT_EQ(spool.memory_bytes(), 0u);
}

TEST_F(StreamSpoolTest, MissingSpillDirectoryIsAnError) {
  StreamSpool spool({dir_ + "/missing", 10});
  absl::Status s = spool.Append(1, 1, 10, std::string(100, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("create a spill file in"), std::string::npos) << s;
}

// Random appends and aborts over a few interleaved transactions, checked
// against a plain model, with budgets that keep everything in memory, spill
// part of it, or spill everything.
TEST_F(StreamSpoolTest, MatchesAModelUnderRandomOperations) {
  std::mt19937 rng(20261123);
  for (size_t budget : {size_t{1} << 30, size_t{2000}, size_t{0}}) {
    SCOPED_TRACE(absl::StrCat("budget ", budget));
    for (int round = 0; round < 50; ++round) {
      StreamSpool spool({dir_, budget});
      // Model: per top-level xid, (subxid, message) in order.
      std::map<pg::TransactionId,
               std::vector<std::pair<pg::TransactionId, Message>>>
          model;
      Lsn lsn = 1;
      for (int op = 0; op < 200; ++op) {
        pg::TransactionId xid = 100 * (1 + rng() % 3);
        pg::TransactionId sub = xid + rng() % 4;  // sub == xid: top level
        if (rng() % 10 == 0) {
          ASSERT_TRUE(spool.Abort(xid, sub).ok());
          auto& m = model[xid];
          if (sub == xid) {
            m.clear();
          } else {
            auto first = std::find_if(
                m.begin(), m.end(), [sub](auto& e) { return e.first == sub; });
            m.erase(first, m.end());
          }
        } else {
          Message msg{lsn++, std::string(rng() % 300, 'a' + rng() % 26)};
          ASSERT_TRUE(spool.Append(xid, sub, msg.lsn, msg.payload).ok());
          model[xid].push_back({sub, msg});
        }
        ASSERT_LE(spool.memory_bytes(), budget);
      }
      for (auto& [xid, entries] : model) {
        std::vector<Message> expected;
        for (auto& e : entries) expected.push_back(e.second);
        ASSERT_EQ(TakeAll(spool, xid), expected) << "xid " << xid;
      }
      EXPECT_EQ(spool.memory_bytes(), 0u);
    }
  }
}

}  // namespace
}  // namespace cdc::pipeline
