// gMock matchers and assertions for absl::Status / absl::StatusOr, which
// abseil 20220623 does not ship.
#ifndef ANNALS_TESTS_TESTING_STATUS_MATCHERS_H_
#define ANNALS_TESTS_TESTING_STATUS_MATCHERS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace annals::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// EXPECT_THAT(log->Append(b), IsOk());
MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::annals::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

// EXPECT_THAT(result, StatusIs(absl::StatusCode::kNotFound));
MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& s = ::annals::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

// EXPECT_THAT(result, StatusIs(code, HasSubstr("stream")));
MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& s = ::annals::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

}  // namespace annals::testing

#define ANNALS_ASSERT_OK(expr) ASSERT_THAT((expr), ::annals::testing::IsOk())
#define ANNALS_EXPECT_OK(expr) EXPECT_THAT((expr), ::annals::testing::IsOk())

// ANNALS_ASSERT_OK_AND_ASSIGN(auto result, log->Append(batch));
#define ANNALS_ASSERT_OK_AND_ASSIGN(lhs, expr)                            \
  ANNALS_ASSERT_OK_AND_ASSIGN_IMPL_(                                      \
      ANNALS_TEST_CONCAT_(annals_statusor_, __LINE__), lhs, expr)
#define ANNALS_TEST_CONCAT_INNER_(a, b) a##b
#define ANNALS_TEST_CONCAT_(a, b) ANNALS_TEST_CONCAT_INNER_(a, b)
#define ANNALS_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                      \
  ASSERT_TRUE(statusor.ok()) << statusor.status();             \
  lhs = *std::move(statusor)

#endif  // ANNALS_TESTS_TESTING_STATUS_MATCHERS_H_
