// Microbenchmarks of pgcdc's per-event hot path, each stage alone and all
// together: copy-frame parsing, pgoutput decoding, envelope building and
// serialization, ack tracking. Inputs are built with the same encoders the
// unit tests use, shaped like what PostgreSQL 15 sends for a 6-column row.
//
// Run: build/bin/pgcdc_bench (Google Benchmark flags apply). Each benchmark
// reports events per second (items_per_second); the context block names the
// machine.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cdc/envelope/envelope_builder.h"
#include "cdc/offsets/ack_tracker.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/pg/replication_protocol.h"

namespace cdc {
namespace {

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
  for (auto _ : state) {
    auto parsed = pg::ParseServerFrame(frame);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseCopyFrame);

void BM_DecodeInsert(benchmark::State& state) {
  const std::string payload = pg::EncodePgOutput(SixColumnInsert(1));
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
  for (auto _ : state) {
    auto records =
        builder.Build(insert, txn, 0x16B374D848, &seq, 1700000000000);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildEnvelope);

void BM_AckTracker(benchmark::State& state) {
  // One transaction of 100 events, acknowledged in order, per 100 items.
  offsets::AckTracker tracker(1);
  Lsn lsn = 2;
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
  for (auto _ : state) {
    auto frame = pg::ParseServerFrame(frames[i++ & 1023]);
    const auto& data = std::get<pg::XLogData>(*frame);
    auto message = pg::DecodePgOutput(data.payload);
    auto records =
        builder.Build(*message, txn, data.wal_start, &seq, 1700000000000);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameToRecord);

}  // namespace
}  // namespace cdc
