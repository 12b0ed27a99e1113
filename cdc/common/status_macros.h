// The early-return helpers for absl::Status and absl::StatusOr, one of each
// for all of pgcdc, so that "stop here and pass the error up" reads the same
// everywhere.
//
//   CDC_RETURN_IF_ERROR(conn.Send(frame));
//   CDC_ASSIGN_OR_RETURN(const uint32_t xid, cursor.ReadU32("Begin.xid"));
//
// The error is returned unchanged: code, message and payloads (such as a
// server error's SQLSTATE, pg/sqlstate.h). Where the caller should add
// context, use WithPrefix (status.h) instead.
//
// Macros only; no state.
#ifndef CDC_COMMON_STATUS_MACROS_H_
#define CDC_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns `expr` (an absl::Status) from the enclosing function if it is an
// error.
#define CDC_RETURN_IF_ERROR(expr)                              \
  do {                                                         \
    absl::Status cdc_status_macros_status_ = (expr);           \
    if (ABSL_PREDICT_FALSE(!cdc_status_macros_status_.ok())) { \
      return cdc_status_macros_status_;                        \
    }                                                          \
  } while (false)

// Evaluates `expr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be
// a declaration ("auto x") or an existing lvalue. Being a declaration in the
// enclosing scope, it cannot be the sole statement of an unbraced if.
#define CDC_ASSIGN_OR_RETURN(lhs, expr) \
  CDC_ASSIGN_OR_RETURN_IMPL_(           \
      CDC_STATUS_MACROS_CONCAT_(cdc_statusor_, __LINE__), lhs, expr)

// Implementation details.
#define CDC_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {             \
    return std::move(statusor).status();                \
  }                                                     \
  lhs = *std::move(statusor)
#define CDC_STATUS_MACROS_CONCAT_(a, b) CDC_STATUS_MACROS_CONCAT_INNER_(a, b)
#define CDC_STATUS_MACROS_CONCAT_INNER_(a, b) a##b

#endif  // CDC_COMMON_STATUS_MACROS_H_
