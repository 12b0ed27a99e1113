// Microbenchmarks of pgcdc's per-event hot path, each stage alone and all
// together: copy-frame parsing, pgoutput decoding, envelope building and
// serialization, ack tracking. Inputs are built with the same encoders the
// unit tests use, shaped like what PostgreSQL 15 sends for a 6-column row.
//
// Run: build/bin/pgcdc_bench (Google Benchmark flags apply). Each benchmark
// reports events per second (items_per_second) and heap allocations per
// event (allocs_per_event, counted by this binary's operator new); the
// context block names the machine.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "cdc/envelope/debezium_json_encoder.h"
#include "cdc/envelope/envelope_builder.h"
#include "cdc/offsets/ack_tracker.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/pg/replication_protocol.h"

// Every allocation of the process goes through these, so a benchmark can
// tell how many its loop made.
namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// GCC takes free() of what this operator new returned for a mismatch; it
// is the same malloc underneath.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace cdc {
namespace {

// Reports the allocations per item the benchmark's loop made, counted from
// when it is constructed (after the setup) until it goes out of scope.
class AllocationCounter {
 public:
  explicit AllocationCounter(benchmark::State& state,
                             int items_per_iteration = 1)
      : state_(state),
        items_per_iteration_(items_per_iteration),
        start_(g_allocations.load()) {}
  ~AllocationCounter() {
    const double items =
        static_cast<double>(state_.iterations()) * items_per_iteration_;
    state_.counters["allocs_per_event"] =
        items > 0 ? static_cast<double>(g_allocations.load() - start_) / items
                  : 0;
  }

 private:
  benchmark::State& state_;
  int items_per_iteration_;
  uint64_t start_;
};

constexpr pg::Oid kRelationOid = 16384;

pg::RelationMessage SixColumnRelation() {
  pg::RelationMessage r;
  r.relation_oid = kRelationOid;
  r.namespace_name = "public";
  r.relation_name = "orders";
  r.replica_identity = 'd';
  r.columns = {{1, "id", 20, -1},      {0, "customer_id", 23, -1},
               {0, "total", 1700, -1}, {0, "status", 25, -1},
               {0, "paid", 16, -1},    {0, "note", 1043, 68}};
  return r;
}

pg::InsertMessage SixColumnInsert(int64_t id) {
  pg::InsertMessage m;
  m.relation_oid = kRelationOid;
  auto text = [](std::string s) {
    return pg::TupleValue{pg::TupleValue::Kind::kText, std::move(s)};
  };
  m.new_tuple.values = {
      text(std::to_string(id)), text("4711"), text("1234.50"),
      text("shipped"),          text("t"),    text("leave at the door")};
  return m;
}

std::string InsertFrame(int64_t id) {
  return pg::EncodeXLogData(0x16B374D848 + id, 0x16B374D848 + id, 0,
                            pg::EncodePgOutput(SixColumnInsert(id)));
}

pg::RelationCache MakeCache() {
  pg::RelationCache cache;
  cache.SetBuiltinTypeNames({{16, "bool"},
                             {20, "int8"},
                             {23, "int4"},
                             {25, "text"},
                             {1043, "varchar"},
                             {1700, "numeric"}});
  cache.Apply(SixColumnRelation());
  return cache;
}

void BM_ParseCopyFrame(benchmark::State& state) {
  const std::string frame = InsertFrame(1);
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto parsed = pg::ParseServerFrame(frame);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseCopyFrame);

void BM_DecodeInsert(benchmark::State& state) {
  const std::string payload = pg::EncodePgOutput(SixColumnInsert(1));
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto message = pg::DecodePgOutput(payload);
    benchmark::DoNotOptimize(message);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * payload.size());
}
BENCHMARK(BM_DecodeInsert);

void BM_BuildEnvelope(benchmark::State& state) {
  pg::RelationCache cache = MakeCache();
  envelope::EnvelopeBuilder builder({"pgcdc", "bench", "app", "pgcdc"}, "app",
                                    &cache);
  builder.SetPrimaryKey("public", "orders", {"id"});
  const pg::PgOutputMessage insert = SixColumnInsert(1);
  envelope::TxnContext txn{0x16B374D900, 4242, 1700000000000000};
  uint32_t seq = 0;
  std::vector<envelope::Record> records;  // reused, as the pipeline does
  AllocationCounter allocations(state);
  for (auto _ : state) {
    absl::Status s = builder.BuildInto(insert, txn, 0x16B374D848, &seq,
                                       1700000000000, &records);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildEnvelope);

void BM_BuildEnvelopeDebeziumJson(benchmark::State& state) {
  // BM_BuildEnvelope's row, written by the debezium-json encoder.
  pg::RelationCache cache = MakeCache();
  const envelope::SourceInfo source{"pgcdc", "bench", "app", "pgcdc"};
  envelope::EnvelopeBuilder builder(source, "app", &cache);
  envelope::DebeziumJsonOptions options;
  options.topic_prefix = "app";
  builder.SetEncoder(std::make_unique<envelope::DebeziumJsonEncoder>(
      source, options, &cache.types()));
  builder.SetPrimaryKey("public", "orders", {"id"});
  const pg::PgOutputMessage insert = SixColumnInsert(1);
  envelope::TxnContext txn{0x16B374D900, 4242, 1700000000000000};
  uint32_t seq = 0;
  std::vector<envelope::Record> records;
  AllocationCounter allocations(state);
  for (auto _ : state) {
    absl::Status s = builder.BuildInto(insert, txn, 0x16B374D848, &seq,
                                       1700000000000, &records);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildEnvelopeDebeziumJson);

void BM_AckTracker(benchmark::State& state) {
  // One transaction of 100 events, acknowledged in order, per 100 items.
  offsets::AckTracker tracker(1);
  Lsn lsn = 2;
  AllocationCounter allocations(state, 100);
  for (auto _ : state) {
    auto txn = *tracker.Begin();
    for (int i = 0; i < 100; ++i) (void)tracker.AddEvent(txn, 200);
    (void)tracker.Commit(txn, ++lsn);
    for (int i = 0; i < 100; ++i) (void)tracker.Ack(txn, 200);
    benchmark::DoNotOptimize(tracker.confirmed());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_AckTracker);

void BM_AckTrackerBehindStuckEvent(benchmark::State& state) {
  // One event is never acknowledged. Per 10 items: a transaction of 10
  // events acknowledged in reverse order after its commit, and one with
  // none, both complete behind the stuck one.
  offsets::AckTracker tracker(1);
  Lsn lsn = 2;
  const offsets::TxnId stuck = *tracker.Begin();
  (void)tracker.AddEvent(stuck, 200);
  (void)tracker.Commit(stuck, ++lsn);
  AllocationCounter allocations(state, 10);
  for (auto _ : state) {
    auto txn = *tracker.Begin();
    for (int i = 0; i < 10; ++i) (void)tracker.AddEvent(txn, 200);
    (void)tracker.Commit(txn, ++lsn);
    (void)tracker.Commit(*tracker.Begin(), ++lsn);
    for (int i = 0; i < 10; ++i) (void)tracker.Ack(txn, 200);
    benchmark::DoNotOptimize(tracker.confirmed());
  }
  state.counters["entries"] = static_cast<double>(tracker.pending_entries());
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BM_AckTrackerBehindStuckEvent);

void BM_AckTrackerTwoPartitions(benchmark::State& state) {
  // Transactions of 4 events alternate between two partitions: one
  // acknowledges at once, the other 16 transactions later, so that
  // transactions complete out of order. Per 4 items: one transaction.
  offsets::AckTracker tracker(1);
  Lsn lsn = 2;
  std::vector<offsets::TxnId> slow(16, 0);
  size_t next = 0;
  AllocationCounter allocations(state, 4);
  for (auto _ : state) {
    auto txn = *tracker.Begin();
    for (int i = 0; i < 4; ++i) (void)tracker.AddEvent(txn, 200);
    (void)tracker.Commit(txn, ++lsn);
    offsets::TxnId acked = txn;
    if (txn % 2 == 0) {
      acked = slow[next];
      slow[next] = txn;
      next = (next + 1) % slow.size();
    }
    if (acked != 0) {
      for (int i = 0; i < 4; ++i) (void)tracker.Ack(acked, 200);
    }
    benchmark::DoNotOptimize(tracker.confirmed());
  }
  state.SetItemsProcessed(state.iterations() * 4);
}
BENCHMARK(BM_AckTrackerTwoPartitions);

// Everything pgcdc does per event before handing it to librdkafka.
void BM_FrameToRecord(benchmark::State& state) {
  pg::RelationCache cache = MakeCache();
  envelope::EnvelopeBuilder builder({"pgcdc", "bench", "app", "pgcdc"}, "app",
                                    &cache);
  builder.SetPrimaryKey("public", "orders", {"id"});
  std::vector<std::string> frames;
  for (int i = 0; i < 1024; ++i) frames.push_back(InsertFrame(i));
  envelope::TxnContext txn{0x16B374D900, 4242, 1700000000000000};
  uint32_t seq = 0;
  size_t i = 0;
  std::vector<envelope::Record> records;
  AllocationCounter allocations(state);
  for (auto _ : state) {
    auto frame = pg::ParseServerFrame(frames[i++ & 1023]);
    const auto& data = std::get<pg::XLogData>(*frame);
    auto message = pg::DecodePgOutput(data.payload);
    absl::Status s = builder.BuildInto(*message, txn, data.wal_start, &seq,
                                       1700000000000, &records);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameToRecord);

}  // namespace
}  // namespace cdc
