#include "cdc/snapshot/incremental.h"

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::snapshot {
namespace {

using Effects = IncrementalSnapshot::Effects;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::SnapshotSignal Request(const std::string& id,
                           std::vector<std::string> tables,
                           const std::string& slot = "s") {
  v1::SnapshotSignal signal;
  signal.set_slot(slot);
  signal.mutable_request()->set_id(id);
  for (const std::string& t : tables) signal.mutable_request()->add_tables(t);
  return signal;
}

// Rows of a table whose keys are the integers 1..n.
std::vector<ChunkRow> Rows(int from, int to) {
  std::vector<ChunkRow> rows;
  for (int k = from; k <= to; ++k) {
    ChunkRow row;
    const std::string text = absl::StrCat(k);
    row.key = EncodeKey({text});
    row.row.values.push_back({pg::TupleValue::Kind::kText, text});
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> Keys(const std::vector<ChunkRow>& rows) {
  std::vector<std::string> keys;
  for (const ChunkRow& r : rows) keys.push_back(r.row.values[0].data);
  return keys;
}

bool IsSyncMarker(const std::optional<v1::SnapshotSignal>& emit) {
  return emit.has_value() && emit->has_progress() &&
         emit->progress().chunk() == 0 && emit->state().tasks().empty() &&
         emit->state().finished().empty();
}

// A run's first signal is its sync marker: fed back (as the stream would
// bring it), the machine goes on with what it was asked.
Effects Synced(IncrementalSnapshot& snap, Effects e, uint64_t token) {
  EXPECT_TRUE(IsSyncMarker(e.emit)) << "expected the sync marker";
  if (!IsSyncMarker(e.emit)) return e;
  Effects next = snap.OnSignal(*e.emit, token);
  EXPECT_FALSE(next.hold);  // an empty state vouches for nothing
  next.release.insert(next.release.begin(), e.release.begin(), e.release.end());
  next.hold = next.hold || e.hold;
  return next;
}

TEST(EncodeKeyTest, EqualForEqualKeysOnly) {
  EXPECT_EQ(EncodeKey({"a", "bc"}), EncodeKey({"a", "bc"}));
  EXPECT_NE(EncodeKey({"a", "bc"}), EncodeKey({"ab", "c"}));
  EXPECT_NE(EncodeKey({"1:a"}), EncodeKey({"1", "a"}));
}

TEST(IncrementalSnapshotTest, ReadsATableChunkByChunkBetweenWatermarks) {
  IncrementalSnapshot snap("s", "n", 3);
  Effects e = snap.OnSignal(Request("r", {"public.t"}), 1);
  EXPECT_TRUE(e.hold);
  e = Synced(snap, e, 100);
  ASSERT_TRUE(e.emit.has_value());
  ASSERT_TRUE(e.emit->has_open());
  EXPECT_EQ(e.emit->open().chunk(), 1u);
  // The open lists the request, so the request's transaction may go.
  v1::SnapshotSignal open1 = *e.emit;
  e = snap.OnSignal(open1, 2);
  EXPECT_THAT(e.release, ElementsAre(1u));
  EXPECT_TRUE(e.hold);
  ASSERT_TRUE(e.read.has_value());
  EXPECT_EQ(e.read->table, "public.t");
  EXPECT_THAT(e.read->after_key, IsEmpty());
  EXPECT_EQ(e.read->limit, 3u);

  e = snap.ChunkRead(Rows(1, 3), {"3"});
  ASSERT_TRUE(e.emit.has_value());
  ASSERT_TRUE(e.emit->has_close());
  v1::SnapshotSignal close1 = *e.emit;
  // A change streamed inside the window wins over the chunk's copy.
  EXPECT_TRUE(snap.Watching("public.t"));
  EXPECT_FALSE(snap.Watching("public.other"));
  snap.OnChange("public.t", EncodeKey({"2"}));
  snap.OnChange("public.other", EncodeKey({"3"}));
  e = snap.OnSignal(close1, 3);
  EXPECT_THAT(e.release, ElementsAre(2u));
  EXPECT_TRUE(e.publish);
  EXPECT_EQ(e.published_chunk, 1u);
  EXPECT_THAT(Keys(snap.TakeWindow()), ElementsAre("1", "3"));
  ASSERT_TRUE(e.emit.has_value());
  ASSERT_TRUE(e.emit->has_open());
  v1::SnapshotSignal open2 = *e.emit;
  // Not acknowledged yet: the journal still says "from the start".
  ASSERT_EQ(open2.state().tasks_size(), 1);
  EXPECT_THAT(open2.state().tasks(0).after_key(), IsEmpty());

  EXPECT_FALSE(snap.ChunkAcked(1).emit.has_value());
  EXPECT_THAT(snap.acknowledged().tasks(0).after_key(), ElementsAre("3"));
  EXPECT_EQ(snap.acknowledged().tasks(0).rows(), 2u);
  e = snap.OnSignal(open2, 4);
  EXPECT_THAT(e.release, ElementsAre(3u));
  ASSERT_TRUE(e.read.has_value());
  EXPECT_THAT(e.read->after_key, ElementsAre("3"));

  // Fewer rows than the limit: the table's last chunk.
  e = snap.ChunkRead(Rows(4, 5), {"5"});
  v1::SnapshotSignal close2 = *e.emit;
  EXPECT_THAT(close2.state().tasks(0).after_key(), ElementsAre("3"));
  snap.OnTruncate("public.t");  // everything in the window superseded
  e = snap.OnSignal(close2, 5);
  EXPECT_THAT(e.release, ElementsAre(4u));
  EXPECT_TRUE(e.publish);
  EXPECT_THAT(snap.TakeWindow(), IsEmpty());
  EXPECT_FALSE(e.emit.has_value());  // waits for the acks
  EXPECT_FALSE(snap.running());

  e = snap.ChunkAcked(2);
  ASSERT_TRUE(e.emit.has_value());
  ASSERT_TRUE(e.emit->has_progress());
  EXPECT_THAT(e.emit->state().tasks(), IsEmpty());
  EXPECT_THAT(e.emit->state().finished(), ElementsAre("r"));
  e = snap.OnSignal(*e.emit, 6);
  EXPECT_THAT(e.release, ElementsAre(5u));
  EXPECT_FALSE(e.hold);
  EXPECT_FALSE(e.emit.has_value());

  // The request replayed after the end is recognised and not run again.
  e = snap.OnSignal(Request("r", {"public.t"}), 7);
  EXPECT_FALSE(e.hold);
  EXPECT_FALSE(e.emit.has_value());
}

TEST(IncrementalSnapshotTest, AChunkCutShortIsNotTheTablesEnd) {
  IncrementalSnapshot snap("s", "n", 10);
  Effects e = Synced(snap, snap.OnSignal(Request("r", {"public.t"}), 1), 100);
  e = snap.OnSignal(*e.emit, 2);
  e = snap.ChunkRead(Rows(1, 2), {"2"}, /*cut_short=*/true);
  e = snap.OnSignal(*e.emit, 3);
  ASSERT_TRUE(e.publish);
  EXPECT_TRUE(snap.running());
  ASSERT_TRUE(e.emit.has_value());
  e = snap.OnSignal(*e.emit, 4);
  ASSERT_TRUE(e.read.has_value());
  EXPECT_THAT(e.read->after_key, ElementsAre("2"));
}

TEST(IncrementalSnapshotTest, IgnoresOtherSlots) {
  IncrementalSnapshot snap("s", "n", 3);
  Effects e = snap.OnSignal(Request("r", {"public.t"}, "other"), 1);
  EXPECT_FALSE(e.hold);
  EXPECT_FALSE(e.emit.has_value());
  EXPECT_FALSE(snap.running());
}

TEST(IncrementalSnapshotTest, ResumesFromAJournalWrittenByAnotherRun) {
  v1::SnapshotSignal journal;
  journal.set_slot("s");
  journal.mutable_close()->set_nonce("dead");
  journal.mutable_close()->set_chunk(9);
  v1::SnapshotTask* task = journal.mutable_state()->add_tasks();
  task->set_request_id("r");
  task->set_table("public.t");
  task->set_where("x > 1");
  task->add_after_key("600");
  task->set_rows(600);

  IncrementalSnapshot snap("s", "alive", 100);
  // The dead run's request, replayed before its journal, then the journal.
  Effects e = snap.OnSignal(Request("r", {"public.t"}), 1);
  ASSERT_TRUE(IsSyncMarker(e.emit));  // nothing with a state yet
  v1::SnapshotSignal sync = *e.emit;
  e = snap.OnSignal(journal, 2);
  EXPECT_TRUE(e.hold);
  EXPECT_THAT(e.release, ElementsAre(1u));
  // A later journal of the dead run still counts: its state is true too.
  journal.mutable_close()->set_chunk(10);
  journal.mutable_state()->mutable_tasks(0)->set_after_key(0, "700");
  e = snap.OnSignal(journal, 3);
  EXPECT_THAT(e.release, ElementsAre(2u));
  EXPECT_THAT(e.notes, IsEmpty());  // more journals may follow
  // The first state this run writes is the journal's; the log says so once.
  e = snap.OnSignal(sync, 4);
  EXPECT_THAT(e.notes,
              ElementsAre("resuming a snapshot from its journal: 1 table(s) "
                          "to read; public.t after 600 rows"));
  ASSERT_TRUE(e.emit.has_value());
  ASSERT_TRUE(e.emit->has_open());
  ASSERT_EQ(e.emit->state().tasks_size(), 1);
  EXPECT_THAT(e.emit->state().tasks(0).after_key(), ElementsAre("700"));
  e = snap.OnSignal(*e.emit, 5);
  ASSERT_TRUE(e.read.has_value());
  EXPECT_THAT(e.read->after_key, ElementsAre("700"));
  EXPECT_EQ(e.read->where, "x > 1");
  // Once this run's own signals are seen, an old journal changes nothing.
  journal.mutable_state()->mutable_tasks(0)->set_after_key(0, "100");
  e = snap.OnSignal(journal, 6);
  EXPECT_EQ(snap.published().tasks(0).after_key(0), "700");
}

// Journals of an earlier run that went on to finish its snapshot: the last
// says every table was read, so nothing is resumed, nor said to be.
TEST(IncrementalSnapshotTest, JournalsOfAFinishedSnapshotResumeNothing) {
  IncrementalSnapshot snap("s", "alive", 100);
  Effects e = snap.OnSignal(Request("r", {"public.a", "public.b"}), 1);
  v1::SnapshotSignal journal;
  journal.set_slot("s");
  journal.mutable_close()->set_nonce("earlier");
  v1::SnapshotTask* task = journal.mutable_state()->add_tasks();
  task->set_request_id("r");
  task->set_table("public.b");
  EXPECT_THAT(snap.OnSignal(journal, 2).notes, IsEmpty());
  journal.mutable_state()->clear_tasks();
  journal.mutable_state()->add_finished("r");
  EXPECT_THAT(snap.OnSignal(journal, 3).notes, IsEmpty());
  EXPECT_EQ(snap.published().tasks_size(), 0);
  e = snap.OnSignal(*e.emit, 4);  // this run's sync marker comes back
  for (const std::string& note : e.notes) {
    EXPECT_THAT(note, ::testing::Not(::testing::HasSubstr("resuming")));
  }
  EXPECT_FALSE(e.read.has_value());
}

TEST(IncrementalSnapshotTest, AJournalSaysWhichTablesOfARequestAreLeft) {
  IncrementalSnapshot snap("s", "alive", 100);
  Effects e = snap.OnSignal(Request("r", {"public.a", "public.b"}), 1);
  v1::SnapshotSignal journal;
  journal.set_slot("s");
  journal.mutable_progress()->set_nonce("dead");
  v1::SnapshotTask* task = journal.mutable_state()->add_tasks();
  task->set_request_id("r");
  task->set_table("public.b");
  task->add_after_key("7");
  snap.OnSignal(journal, 2);
  ASSERT_EQ(snap.published().tasks_size(), 1);
  EXPECT_EQ(snap.published().tasks(0).table(), "public.b");
  e = Synced(snap, e, 3);
  e = snap.OnSignal(*e.emit, 4);
  ASSERT_TRUE(e.read.has_value());
  EXPECT_EQ(e.read->table, "public.b");
  EXPECT_THAT(e.read->after_key, ElementsAre("7"));
}

TEST(IncrementalSnapshotTest, DroppedTableMovesOnAndFinishes) {
  IncrementalSnapshot snap("s", "n", 10);
  Effects e = Synced(
      snap, snap.OnSignal(Request("r", {"public.a", "public.b"}), 1), 100);
  e = snap.OnSignal(*e.emit, 2);
  ASSERT_EQ(e.read->table, "public.a");
  e = snap.DropTask();
  ASSERT_TRUE(e.emit.has_value());
  e = snap.OnSignal(*e.emit, 3);
  ASSERT_TRUE(e.read.has_value());
  EXPECT_EQ(e.read->table, "public.b");
  e = snap.DropTask();
  ASSERT_TRUE(e.emit.has_value());
  ASSERT_TRUE(e.emit->has_progress());
  EXPECT_THAT(e.emit->state().finished(), ElementsAre("r"));
}

TEST(IncrementalSnapshotTest, RetryLaterWritesTheWatermarkAgainOnTick) {
  IncrementalSnapshot snap("s", "n", 10);
  Effects e = snap.OnSignal(Request("r", {"public.a"}), 1);
  ASSERT_TRUE(IsSyncMarker(e.emit));
  snap.RetryLater();  // the write failed
  e = snap.Tick();
  ASSERT_TRUE(IsSyncMarker(e.emit));  // written again
  e = Synced(snap, e, 2);
  ASSERT_TRUE(e.emit.has_value());
  EXPECT_EQ(e.emit->open().chunk(), 1u);
  snap.RetryLater();
  e = snap.Tick();
  ASSERT_TRUE(e.emit.has_value());
  EXPECT_EQ(e.emit->open().chunk(), 2u);
  EXPECT_FALSE(snap.Tick().emit.has_value());  // written: nothing to redo
}

// A slot's own snapshot finished before the stream started; the run stops
// before its first signal comes back, and the next run replays from after
// the finished journal. Nothing either run wrote may say the request is
// still to do: the next run would read its tables again (and stop on a
// keyless one, which cannot be resumed).
TEST(IncrementalSnapshotTest, NoRunWritesWorkThatAJournalItHasNotSeenFinished) {
  v1::SnapshotSignal finished;
  finished.set_slot("s");
  finished.mutable_progress()->set_nonce("initial-0/1");
  finished.mutable_state()->add_finished("initial-0/1");

  IncrementalSnapshot first("s", "first", 10);
  Effects e = first.OnSignal(Request("initial-0/1", {"public.k"}), 1);
  ASSERT_TRUE(e.emit.has_value());
  const v1::SnapshotSignal written = *e.emit;  // before the journal is seen
  EXPECT_THAT(written.state().tasks(), IsEmpty());
  e = first.OnSignal(finished, 2);
  EXPECT_THAT(e.release, ElementsAre(1u));
  EXPECT_FALSE(e.hold);  // confirmed past: the next run does not see it

  IncrementalSnapshot next("s", "next", 10);
  e = next.OnSignal(written, 3);
  EXPECT_FALSE(next.running());
  EXPECT_FALSE(e.read.has_value());
  EXPECT_FALSE(e.hold);
}

// The whole protocol against a simulated WAL, broker and crashes: signals
// are appended to the WAL; the slot's confirmed position never passes a
// held signal or a chunk whose events are not acknowledged; a crash loses
// the unacknowledged events and replays the WAL from the confirmed position
// into a new machine; a chunk read or a signal write fails now and then.
// The WAL starts with a slot's own snapshot that finished before the stream
// (its request and the journal that says so). However it goes, every row
// ends up acknowledged, and no table a journal has called done is read
// again.
class Simulation {
 public:
  Simulation(uint32_t seed, size_t chunk_rows)
      : rng_(seed), chunk_rows_(chunk_rows) {
    tables_["public.a"] = 47;
    tables_["public.b"] = 13;
    tables_["public.c"] = 5;
    requests_["initial-0"] = {"public.c"};
    requests_["r1"] = {"public.a"};
    requests_["r2"] = {"public.b", "public.a"};
    NewRun();
  }

  void Run() {
    Append(Request("initial-0", {"public.c"}));
    v1::SnapshotSignal finished;
    finished.set_slot("s");
    finished.mutable_progress()->set_nonce("initial-0");
    finished.mutable_state()->add_finished("initial-0");
    Append(finished);
    Append(Request("r1", {"public.a"}));
    bool second_requested = false;
    for (int step = 0; step < 100000; ++step) {
      const int dice = std::uniform_int_distribution<int>(0, 99)(rng_);
      if (!second_requested && dice == 0) {
        Append(Request("r2", {"public.b", "public.a"}));
        second_requested = true;
      } else if (dice < 4 && crashes_ < 30) {
        Crash();
      } else if (dice < 40 && !inflight_.empty()) {
        AckOne();
      } else if (pos_ < wal_.size()) {
        const size_t index = pos_++;
        Apply(snap_->OnSignal(wal_[index], index), index);
      } else if (!inflight_.empty()) {
        AckOne();
      } else {
        Apply(snap_->Tick(), 0);
        if (!snap_->running() && pos_ == wal_.size() && second_requested &&
            held_.empty()) {
          break;
        }
      }
      UpdateConfirmed();
    }
  }

  std::set<int> Acked(const std::string& table) const {
    std::set<int> keys;
    for (const auto& [t, k] : acked_) {
      if (t == table) keys.insert(k);
    }
    return keys;
  }
  int Size(const std::string& table) const { return tables_.at(table); }
  int crashes() const { return crashes_; }
  // A read of a table after a journal in the WAL had called it done.
  const std::string& reread() const { return reread_; }
  bool drained() const {
    return !snap_->running() && held_.empty() && inflight_.empty();
  }

 private:
  struct Inflight {
    size_t wal_index;
    std::string table;
    std::vector<int> keys;
  };

  // Appends a signal to the WAL, noting the tables its state calls done:
  // those of a finished request, and those a listed request no longer lists.
  void Append(const v1::SnapshotSignal& signal) {
    wal_.push_back(signal);
    const v1::SnapshotState& state = signal.state();
    for (const std::string& id : state.finished()) {
      for (const std::string& t : requests_[id]) done_.insert({id, t});
    }
    std::set<std::pair<std::string, std::string>> listed;
    for (const v1::SnapshotTask& task : state.tasks()) {
      listed.insert({task.request_id(), task.table()});
    }
    for (const auto& [id, table] : listed) {
      for (const std::string& t : requests_[id]) {
        if (!listed.count({id, t})) done_.insert({id, t});
      }
    }
  }

  void NewRun() {
    snap_ = std::make_unique<IncrementalSnapshot>(
        "s", absl::StrCat("run", runs_++), chunk_rows_);
  }

  void Crash() {
    ++crashes_;
    UpdateConfirmed();
    inflight_.clear();
    held_.clear();
    pos_ = confirmed_;
    NewRun();
  }

  void UpdateConfirmed() {
    size_t c = pos_;
    for (size_t h : held_) c = std::min(c, h);
    for (const auto& [chunk, f] : inflight_) c = std::min(c, f.wal_index);
    confirmed_ = std::max(confirmed_, c);
  }

  void AckOne() {
    auto it = inflight_.begin();
    std::advance(it, std::uniform_int_distribution<size_t>(
                         0, inflight_.size() - 1)(rng_));
    for (int k : it->second.keys) acked_.insert({it->second.table, k});
    const uint64_t chunk = it->first;
    inflight_.erase(it);
    Apply(snap_->ChunkAcked(chunk), 0);
  }

  void Apply(Effects e, size_t index) {
    for (auto token : e.release) held_.erase(token);
    if (e.hold) held_.insert(index);
    if (e.publish) {
      Inflight f{index, current_table_, {}};
      for (const ChunkRow& row : snap_->TakeWindow()) {
        f.keys.push_back(std::stoi(row.row.values[0].data));
      }
      inflight_[e.published_chunk] = std::move(f);
    }
    if (e.read.has_value()) {
      if (done_.count({e.read->request_id, e.read->table}) && reread_.empty()) {
        reread_ = absl::StrCat(e.read->request_id, " ", e.read->table);
      }
      // Now and then a read fails for a passing reason.
      if (std::uniform_int_distribution<int>(0, 9)(rng_) == 0) {
        Apply(snap_->RetryLater(), 0);
        return;
      }
      const int after =
          e.read->after_key.empty() ? 0 : std::stoi(e.read->after_key.front());
      const int last = std::min(tables_.at(e.read->table),
                                after + static_cast<int>(e.read->limit));
      current_table_ = e.read->table;
      std::vector<ChunkRow> rows = Rows(after + 1, last);
      Apply(snap_->ChunkRead(std::move(rows), {absl::StrCat(last)}), index);
    }
    if (e.emit.has_value()) {
      // Now and then the write fails (the SQL session is gone): the machine
      // idles until a later Tick, while the slot's position may move on.
      if (std::uniform_int_distribution<int>(0, 9)(rng_) == 0) {
        Apply(snap_->RetryLater(), 0);
      } else {
        Append(*e.emit);
      }
    }
  }

  std::mt19937 rng_;
  size_t chunk_rows_;
  std::map<std::string, int> tables_;
  std::map<std::string, std::vector<std::string>> requests_;
  std::set<std::pair<std::string, std::string>> done_;
  std::string reread_;
  std::vector<v1::SnapshotSignal> wal_;
  size_t pos_ = 0;
  size_t confirmed_ = 0;
  std::set<size_t> held_;
  std::map<uint64_t, Inflight> inflight_;
  std::set<std::pair<std::string, int>> acked_;
  std::string current_table_;
  std::unique_ptr<IncrementalSnapshot> snap_;
  int runs_ = 0;
  int crashes_ = 0;
};

TEST(IncrementalSnapshotTest, EveryRowIsAcknowledgedWhateverCrashes) {
  int crashes = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    Simulation sim(seed, 1 + seed % 7);
    sim.Run();
    ASSERT_TRUE(sim.drained()) << "seed " << seed;
    EXPECT_EQ(sim.reread(), "") << "seed " << seed << ": read again";
    EXPECT_TRUE(sim.Acked("public.c").empty()) << "seed " << seed;
    for (const std::string table : {"public.a", "public.b"}) {
      std::set<int> expected;
      for (int k = 1; k <= sim.Size(table); ++k) expected.insert(k);
      ASSERT_EQ(sim.Acked(table), expected) << "seed " << seed << " " << table;
    }
    crashes += sim.crashes();
  }
  EXPECT_GT(crashes, 300);  // the crashes did happen
}

}  // namespace
}  // namespace cdc::snapshot
