// SlotMonitor against a server that is not there: it keeps trying at its
// interval, warns each time, leaves the gauges alone, and stops at once.
#include "cdc/pipeline/slot_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"

namespace cdc::pipeline {
namespace {

using ::testing::HasSubstr;

// A loopback port nothing listens on: bound, never listened, then closed.
int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(SlotMonitorTest, AFailingServerIsRetriedWarnedAboutAndStopsAtOnce) {
  absl::StatusOr<std::unique_ptr<metrics::Metrics>> m =
      metrics::Metrics::Create("");
  ASSERT_TRUE(m.ok());
  testing::internal::CaptureStderr();
  const auto start = std::chrono::steady_clock::now();
  {
    SlotMonitor monitor(
        absl::StrCat("host=127.0.0.1 port=", ClosedPort(), " dbname=x"), "slot",
        m->get(), std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    monitor.Stop();
  }
  const auto took = std::chrono::steady_clock::now() - start;
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_LT(took, std::chrono::seconds(3));
  // Tried again and again (about every 50 ms), one warning each.
  size_t warnings = 0;
  for (size_t at = err.find("cannot read the replication slot's state");
       at != std::string::npos;
       at = err.find("cannot read the replication slot's state", at + 1)) {
    ++warnings;
  }
  EXPECT_GE(warnings, 3u) << err;
  // Nothing read: the gauges keep their initial values.
  EXPECT_THAT((*m)->Render(), HasSubstr("pgcdc_slot_retained_wal_bytes 0\n"));
}

}  // namespace
}  // namespace cdc::pipeline
