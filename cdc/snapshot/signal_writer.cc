#include "cdc/snapshot/signal_writer.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cdc/common/absl_compat.h"
#include "cdc/pg/catalog.h"
#include "cdc/snapshot/signal.h"

namespace cdc::snapshot {

absl::StatusOr<Lsn> WriteSignal(pg::SqlConnection& sql,
                                const v1::SnapshotSignal& signal) {
  return pg::EmitLogicalMessage(sql, kSignalPrefix, FormatSignal(signal));
}

std::string NewRequestId(std::string_view prefix) {
  absl::BitGen gen;
  return absl::StrCat(AsAbsl(prefix), "-", absl::ToUnixSeconds(absl::Now()),
                      "-", absl::Hex(absl::Uniform<uint32_t>(gen)));
}

}  // namespace cdc::snapshot
