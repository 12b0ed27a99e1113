// NowUnixMicros: wall-clock time as events' timestamps carry it (microseconds
// since the Unix epoch), read in one place.
//
// Pure apart from reading the clock; thread-safe.
#ifndef CDC_COMMON_WALL_CLOCK_H_
#define CDC_COMMON_WALL_CLOCK_H_

#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cdc {

inline int64_t NowUnixMicros() { return absl::ToUnixMicros(absl::Now()); }

}  // namespace cdc

#endif  // CDC_COMMON_WALL_CLOCK_H_
