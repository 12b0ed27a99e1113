#include "cdc/snapshot/incremental.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"
#include "cdc/snapshot/signal.h"

namespace cdc::snapshot {
namespace {

// Finished request ids a journal keeps: enough to recognise a request
// replayed after its snapshot ended, without growing without bound.
constexpr int kMaxFinished = 32;

absl::flat_hash_set<std::string> Listed(const v1::SnapshotState& state) {
  absl::flat_hash_set<std::string> ids;
  for (const v1::SnapshotTask& task : state.tasks())
    ids.insert(task.request_id());
  for (const std::string& id : state.finished()) ids.insert(id);
  return ids;
}

void AddFinished(const std::string& id, v1::SnapshotState* state) {
  for (const std::string& done : state->finished()) {
    if (done == id) return;
  }
  state->add_finished(id);
  while (state->finished_size() > kMaxFinished) {
    state->mutable_finished()->erase(state->mutable_finished()->begin());
  }
}

bool HasRequest(const v1::SnapshotState& state, const std::string& id) {
  for (const v1::SnapshotTask& task : state.tasks()) {
    if (task.request_id() == id) return true;
  }
  return false;
}

v1::SnapshotTask* FindTask(const std::string& request_id,
                           const std::string& table, v1::SnapshotState* state) {
  for (v1::SnapshotTask& task : *state->mutable_tasks()) {
    if (task.request_id() == request_id && task.table() == table) return &task;
  }
  return nullptr;
}

}  // namespace

std::string EncodeKey(const std::vector<std::string_view>& values) {
  std::string key;
  for (std::string_view v : values) {
    absl::StrAppend(&key, v.size(), ":", cdc::AsAbsl(v));
  }
  return key;
}

IncrementalSnapshot::IncrementalSnapshot(std::string slot, std::string nonce,
                                         size_t chunk_rows,
                                         size_t watch_budget_bytes)
    : slot_(std::move(slot)),
      nonce_(std::move(nonce)),
      chunk_rows_(std::max<size_t>(1, chunk_rows)),
      watch_budget_(watch_budget_bytes) {}

void IncrementalSnapshot::ClearReadChanges() {
  read_changes_.clear();
  read_changes_bytes_ = 0;
  read_truncated_ = false;
}

v1::SnapshotSignal IncrementalSnapshot::Signal() const {
  v1::SnapshotSignal signal;
  signal.set_slot(slot_);
  *signal.mutable_state() = acked_;
  return signal;
}

bool IncrementalSnapshot::Known(const std::string& request_id) const {
  if (HasRequest(published_, request_id)) return true;
  for (const std::string& id : published_.finished()) {
    if (id == request_id) return true;
  }
  return false;
}

void IncrementalSnapshot::Release(const v1::SnapshotState& state, Effects* e) {
  const absl::flat_hash_set<std::string> listed = Listed(state);
  auto covered = [&](const Held& held) {
    return std::all_of(
        held.ids.begin(), held.ids.end(),
        [&](const std::string& id) { return listed.contains(id); });
  };
  for (const Held& held : held_) {
    if (covered(held)) e->release.push_back(held.token);
  }
  held_.erase(std::remove_if(held_.begin(), held_.end(), covered), held_.end());
}

void IncrementalSnapshot::Adopt(const v1::SnapshotState& state) {
  // A journal written before this run: what it says was acknowledged, so it
  // replaces what this run knows only from requests.
  for (const std::string& id : state.finished()) {
    for (v1::SnapshotState* mine : {&published_, &acked_}) {
      auto* tasks = mine->mutable_tasks();
      tasks->erase(std::remove_if(tasks->begin(), tasks->end(),
                                  [&](const v1::SnapshotTask& t) {
                                    return t.request_id() == id;
                                  }),
                   tasks->end());
      AddFinished(id, mine);
    }
  }
  // Each request the journal lists tasks of is, as far as this run knows,
  // exactly what is left of it: tables it no longer lists are done.
  absl::flat_hash_set<std::string> listed;
  for (const v1::SnapshotTask& task : state.tasks()) {
    listed.insert(task.request_id());
  }
  for (v1::SnapshotState* mine : {&published_, &acked_}) {
    auto* tasks = mine->mutable_tasks();
    tasks->erase(std::remove_if(tasks->begin(), tasks->end(),
                                [&](const v1::SnapshotTask& t) {
                                  return listed.contains(t.request_id());
                                }),
                 tasks->end());
    for (const v1::SnapshotTask& task : state.tasks()) {
      bool finished = false;
      for (const std::string& id : mine->finished()) {
        finished = finished || id == task.request_id();
      }
      if (!finished) *mine->add_tasks() = task;
    }
  }
  // Said once this run's own first signal shows that no older journal is
  // left to read (NoteResumed): a journal adopted here may be followed by
  // later ones of the same run that finished its tables, and then nothing is
  // resumed.
  adopted_ = adopted_ || !state.tasks().empty() || !state.finished().empty();
}

void IncrementalSnapshot::NoteResumed(Effects* e) const {
  if (!adopted_ || published_.tasks().empty()) return;
  const v1::SnapshotTask& next = published_.tasks(0);
  e->notes.push_back(absl::StrCat(
      "resuming a snapshot from its journal: ", published_.tasks_size(),
      " table(s) to read; ", next.table(), " after ", next.rows(), " rows"));
}

bool IncrementalSnapshot::Sync(Effects* e) {
  if (own_seen_) return false;
  // An empty state: adopting it (a later run, should this one die before
  // it comes back) changes nothing, and it vouches for nothing.
  v1::SnapshotSignal signal;
  signal.set_slot(slot_);
  signal.mutable_progress()->set_nonce(nonce_);
  signal.mutable_progress()->set_chunk(0);
  e->emit = std::move(signal);
  phase_ = Phase::kSyncing;
  return true;
}

void IncrementalSnapshot::StartChunk(Effects* e) {
  if (Sync(e)) return;
  expected_chunk_ = next_chunk_++;
  v1::SnapshotSignal signal = Signal();
  signal.mutable_open()->set_nonce(nonce_);
  signal.mutable_open()->set_chunk(expected_chunk_);
  e->emit = std::move(signal);
  phase_ = Phase::kOpening;
}

void IncrementalSnapshot::MaybeFinish(Effects* e) {
  if (!published_.tasks().empty()) {
    StartChunk(e);
    return;
  }
  if (!held_.empty() && Sync(e)) return;
  if (!unacked_.empty()) {
    phase_ = Phase::kDraining;
    return;
  }
  if (held_.empty()) {
    phase_ = Phase::kIdle;
    return;
  }
  v1::SnapshotSignal signal = Signal();
  signal.mutable_progress()->set_nonce(nonce_);
  signal.mutable_progress()->set_chunk(expected_chunk_);
  e->emit = std::move(signal);
  phase_ = Phase::kFinishing;
}

IncrementalSnapshot::Effects IncrementalSnapshot::OnSignal(
    const v1::SnapshotSignal& signal, Token token) {
  Effects e;
  if (signal.slot() != slot_) return e;

  if (signal.has_request()) {
    const v1::SnapshotRequest& request = signal.request();
    if (Known(request.id())) return e;
    for (const std::string& table : request.tables()) {
      for (v1::SnapshotState* state : {&published_, &acked_}) {
        if (FindTask(request.id(), table, state) != nullptr) continue;
        v1::SnapshotTask* task = state->add_tasks();
        task->set_request_id(request.id());
        task->set_table(table);
        task->set_where(request.where());
      }
    }
    e.notes.push_back(absl::StrCat(
        "snapshot \"", request.id(), "\" requested: ", request.tables_size(),
        " table(s)",
        request.where().empty() ? ""
                                : absl::StrCat(" where ", request.where())));
    e.hold = true;
    held_.push_back({token, {request.id()}});
    if (phase_ == Phase::kIdle || phase_ == Phase::kDraining) StartChunk(&e);
    return e;
  }

  const v1::SnapshotWatermark& mark = signal.has_open()    ? signal.open()
                                      : signal.has_close() ? signal.close()
                                                           : signal.progress();
  const bool own = mark.nonce() == nonce_;
  Release(signal.state(), &e);
  if (!own && !own_seen_) {
    // Every journal a dead run wrote lies before this run's first signal.
    Adopt(signal.state());
  }
  if (own && !own_seen_) {
    own_seen_ = true;
    NoteResumed(&e);
  }
  if (!signal.state().tasks().empty()) {
    e.hold = true;
    Held held{token, {}};
    for (const v1::SnapshotTask& task : signal.state().tasks()) {
      held.ids.push_back(task.request_id());
    }
    held_.push_back(std::move(held));
  }

  if (own && signal.has_progress() && phase_ == Phase::kSyncing) {
    phase_ = Phase::kIdle;
    MaybeFinish(&e);
    return e;
  }
  if (own && signal.has_open() && phase_ == Phase::kOpening &&
      mark.chunk() == expected_chunk_) {
    if (published_.tasks().empty()) {
      MaybeFinish(&e);
      return e;
    }
    const v1::SnapshotTask& task = published_.tasks(0);
    Chunk chunk;
    chunk.number = expected_chunk_;
    chunk.request_id = task.request_id();
    chunk.table = task.table();
    chunk.where = task.where();
    chunk.after_key = AfterKey(task);
    chunk.limit = chunk_rows_;
    window_table_ = chunk.table;  // watched from now on
    ClearReadChanges();
    e.read = std::move(chunk);
    phase_ = Phase::kReading;
    return e;
  }
  if (own && signal.has_close() && phase_ == Phase::kWindow &&
      mark.chunk() == expected_chunk_) {
    uint64_t rows = 0;
    for (bool gone : superseded_) rows += gone ? 0 : 1;
    window_result_.rows = rows;
    e.publish = true;
    e.published_chunk = window_result_.chunk;
    Apply(window_result_, &published_);
    if (window_result_.table_done) {
      e.notes.push_back(absl::StrCat("snapshot \"", window_result_.request_id,
                                     "\": ", window_result_.table, " read"));
    }
    unacked_.push_back(window_result_);
    MaybeFinish(&e);
    return e;
  }
  if (own && signal.has_progress() && phase_ == Phase::kFinishing) {
    phase_ = Phase::kIdle;
    MaybeFinish(&e);  // a request may have come meanwhile
    return e;
  }
  if (phase_ == Phase::kIdle && !published_.tasks().empty()) StartChunk(&e);
  return e;
}

IncrementalSnapshot::Effects IncrementalSnapshot::ChunkRead(
    std::vector<ChunkRow> rows, std::vector<std::string> last_key,
    bool cut_short) {
  Effects e;
  if (phase_ != Phase::kReading) return e;
  const v1::SnapshotTask& task = published_.tasks(0);
  window_table_ = task.table();
  window_result_ = ChunkResult();
  window_result_.chunk = expected_chunk_;
  window_result_.request_id = task.request_id();
  window_result_.table = task.table();
  window_result_.table_done =
      !(cut_short && !rows.empty()) && rows.size() < chunk_rows_;
  if (rows.empty()) {
    window_result_.after_key = AfterKey(task);
  } else {
    window_result_.after_key = std::move(last_key);
  }
  window_rows_ = std::move(rows);
  superseded_.assign(window_rows_.size(), read_truncated_);
  window_index_.clear();
  for (size_t i = 0; i < window_rows_.size(); ++i) {
    window_index_.emplace(window_rows_[i].key, i);
    if (read_changes_.contains(window_rows_[i].key)) superseded_[i] = true;
  }
  ClearReadChanges();
  v1::SnapshotSignal signal = Signal();
  signal.mutable_close()->set_nonce(nonce_);
  signal.mutable_close()->set_chunk(expected_chunk_);
  e.emit = std::move(signal);
  phase_ = Phase::kWindow;
  return e;
}

IncrementalSnapshot::Effects IncrementalSnapshot::DropTask() {
  Effects e;
  if (published_.tasks().empty()) return e;
  const std::string request_id = published_.tasks(0).request_id();
  const std::string table = published_.tasks(0).table();
  DropTable(request_id, table, &published_);
  DropTable(request_id, table, &acked_);
  window_rows_.clear();
  window_index_.clear();
  superseded_.clear();
  window_table_.clear();
  ClearReadChanges();
  MaybeFinish(&e);
  return e;
}

IncrementalSnapshot::Effects IncrementalSnapshot::RetryLater() {
  window_rows_.clear();
  window_index_.clear();
  superseded_.clear();
  window_table_.clear();
  ClearReadChanges();
  phase_ = Phase::kIdle;
  return Effects();
}

IncrementalSnapshot::Effects IncrementalSnapshot::Tick() {
  Effects e;
  if (phase_ == Phase::kIdle) MaybeFinish(&e);
  return e;
}

void IncrementalSnapshot::OnChange(std::string_view table,
                                   std::string_view key) {
  if (!Watching(table)) return;
  if (phase_ == Phase::kReading) {
    if (read_changes_.emplace(key).second) read_changes_bytes_ += key.size();
    return;
  }
  auto it = window_index_.find(std::string(key));
  if (it != window_index_.end()) superseded_[it->second] = true;
}

void IncrementalSnapshot::OnTruncate(std::string_view table) {
  if (!Watching(table)) return;
  if (phase_ == Phase::kReading) {
    read_truncated_ = true;
    return;
  }
  superseded_.assign(superseded_.size(), true);
}

std::vector<ChunkRow> IncrementalSnapshot::TakeWindow() {
  std::vector<ChunkRow> rows;
  rows.reserve(window_rows_.size());
  for (size_t i = 0; i < window_rows_.size(); ++i) {
    if (!superseded_[i]) rows.push_back(std::move(window_rows_[i]));
  }
  window_rows_.clear();
  window_index_.clear();
  superseded_.clear();
  window_table_.clear();
  return rows;
}

IncrementalSnapshot::Effects IncrementalSnapshot::ChunkAcked(uint64_t chunk) {
  Effects e;
  for (ChunkResult& result : unacked_) {
    if (result.chunk == chunk) result.acked = true;
  }
  // In order: a later chunk's key says nothing of an earlier one's rows.
  while (!unacked_.empty() && unacked_.front().acked) {
    Apply(unacked_.front(), &acked_);
    unacked_.pop_front();
  }
  if (phase_ == Phase::kDraining) MaybeFinish(&e);
  return e;
}

void IncrementalSnapshot::Apply(const ChunkResult& result,
                                v1::SnapshotState* state) {
  v1::SnapshotTask* task = FindTask(result.request_id, result.table, state);
  if (task == nullptr) return;  // given up meanwhile
  SetAfterKey(result.after_key, task);
  task->set_rows(task->rows() + result.rows);
  if (result.table_done) DropTable(result.request_id, result.table, state);
}

void IncrementalSnapshot::DropTable(const std::string& request_id,
                                    const std::string& table,
                                    v1::SnapshotState* state) {
  auto* tasks = state->mutable_tasks();
  tasks->erase(std::remove_if(tasks->begin(), tasks->end(),
                              [&](const v1::SnapshotTask& t) {
                                return t.request_id() == request_id &&
                                       t.table() == table;
                              }),
               tasks->end());
  if (!HasRequest(*state, request_id)) AddFinished(request_id, state);
}

}  // namespace cdc::snapshot
