// The two status macros abseil 20220623 lacks. Every layer uses these.
#ifndef ANNALS_STORAGE_STATUS_MACROS_H_
#define ANNALS_STORAGE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ANNALS_CONCAT_INNER_(a, b) a##b
#define ANNALS_CONCAT_(a, b) ANNALS_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                           \
  do {                                                  \
    if (absl::Status annals_status_ = (expr);           \
        !annals_status_.ok()) {                         \
      return annals_status_;                            \
    }                                                   \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value of an
// absl::StatusOr<T> to `lhs`, or returns its status when it is not OK.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ANNALS_ASSIGN_OR_RETURN_IMPL_(ANNALS_CONCAT_(annals_statusor_, __LINE__), lhs, expr)

#define ANNALS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // ANNALS_STORAGE_STATUS_MACROS_H_
