#include "cdc/pipeline/startup_checks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cdc::pipeline {

StatusInterval ChooseStatusInterval(int configured_ms,
                                    int wal_sender_timeout_ms) {
  StatusInterval result;
  result.interval = std::chrono::milliseconds(configured_ms);
  if (wal_sender_timeout_ms > 0 &&
      result.interval.count() > wal_sender_timeout_ms / 4) {
    result.interval =
        std::chrono::milliseconds(std::max(100, wal_sender_timeout_ms / 4));
    result.capped = true;
  }
  return result;
}

std::vector<std::string> ReplicaIdentityWarnings(
    const std::vector<pg::TableInfo>& tables) {
  std::vector<std::string> warnings;
  for (const pg::TableInfo& t : tables) {
    if (t.replica_identity == 'n' && !t.primary_key.empty()) {
      warnings.push_back(absl::StrCat(
          "table ", t.name.Qualified(),
          " has REPLICA IDENTITY NOTHING: PostgreSQL refuses UPDATE "
          "and DELETE on it while it is published. Fix: ALTER TABLE ",
          t.name.Qualified(),
          " REPLICA IDENTITY DEFAULT (or FULL for "
          "whole old rows)"));
    }
    if (t.primary_key.empty()) {
      if (t.replica_identity == 'n' || t.replica_identity == 'd') {
        warnings.push_back(absl::StrCat(
            "table ", t.name.Qualified(),
            " has no primary key and replica identity ",
            t.replica_identity == 'n' ? "NOTHING" : "DEFAULT",
            ": its events have a null Kafka key and its UPDATE/DELETE events "
            "no old image; PostgreSQL refuses UPDATE and DELETE on it while "
            "it is published. Fix: add a primary key, or ALTER TABLE ",
            t.name.Qualified(), " REPLICA IDENTITY FULL"));
      } else if (t.replica_identity == 'f') {
        warnings.push_back(absl::StrCat(
            "table ", t.name.Qualified(),
            " has no primary key: its events have a null Kafka key, so "
            "per-row order across partitions is not kept; add a "
            "primary key or REPLICA IDENTITY USING INDEX"));
      }
    }
  }
  return warnings;
}

}  // namespace cdc::pipeline
