#include "cdc/snapshot/signal_auth.h"

#include <cctype>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::snapshot {
namespace {

using ::testing::HasSubstr;

TEST(SignalAuthTest, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SignalAuthTest, SealedSignalsOpenWithTheKey) {
  const SignalKeys keys({"a secret of sixteen+"});
  const std::string json = R"({"slot": "s", "xid": 7})";
  const std::string sealed = keys.Seal(json);
  EXPECT_EQ(sealed, HmacSha256Hex("a secret of sixteen+", json) + " " + json);
  absl::StatusOr<std::string_view> opened = keys.Open(sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, json);
}

TEST(SignalAuthTest, AnyOfTheKeysOpensOnlyTheFirstSeals) {
  const SignalKeys old_key({"the old key, long enough"});
  const SignalKeys both(
      {"the new key, long enough", "the old key, long enough"});
  EXPECT_TRUE(both.Open(old_key.Seal("{}")).ok());
  EXPECT_TRUE(both.Open(both.Seal("{}")).ok());
  EXPECT_FALSE(old_key.Open(both.Seal("{}")).ok());
}

TEST(SignalAuthTest, AnythingElseIsUnauthenticated) {
  const SignalKeys keys({"a secret of sixteen+"});
  const SignalKeys other({"another secret, 16+"});
  const std::string json = R"({"slot": "s"})";
  const std::string sealed = keys.Seal(json);
  auto refused = [&](const std::string& content) {
    absl::StatusOr<std::string_view> opened = keys.Open(content);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnauthenticated)
        << content;
    return std::string(opened.status().message());
  };
  EXPECT_THAT(refused(json), HasSubstr("not sealed"));
  EXPECT_THAT(refused(other.Seal(json)), HasSubstr("does not match"));
  std::string tampered = sealed;
  tampered.back() = ' ';
  EXPECT_THAT(refused(tampered), HasSubstr("does not match"));
  std::string upper = sealed;
  for (size_t i = 0; i < 64; ++i) upper[i] = std::toupper(upper[i]);
  if (upper != sealed) {
    EXPECT_THAT(refused(upper), HasSubstr("not sealed"));
  }
  EXPECT_THAT(refused(sealed.substr(0, 64)), HasSubstr("not sealed"));
  EXPECT_THAT(refused(sealed.substr(1)), HasSubstr("not sealed"));
  // The message never repeats what it was given.
  EXPECT_THAT(refused("0000 " + json), ::testing::Not(HasSubstr("slot")));
}

}  // namespace
}  // namespace cdc::snapshot
