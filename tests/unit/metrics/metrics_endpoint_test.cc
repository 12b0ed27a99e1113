// The HTTP endpoint over real loopback sockets: what /metrics, /healthz,
// /readyz and other paths answer; connections that send nothing, or half a
// request, must not keep a scrape from being answered, and the server must
// close them once its request timeout has passed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/metrics/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdc::metrics {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

// A connected loopback socket, closed when it goes.
class Socket {
 public:
  explicit Socket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr),
                                       sizeof(addr)) == 0;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads until the peer closes (true) or `deadline` passes (false);
  // what arrived is appended to `out`.
  bool ReadUntilClosed(Clock::time_point deadline, std::string* out) {
    char buffer[4096];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd = {fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return true;  // closed (0) or reset by the server
      out->append(buffer, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

// The whole response to `request` on `port`.
std::string Exchange(int port, const std::string& request) {
  Socket socket(port);
  std::string response;
  if (!socket.connected() || !socket.Send(request)) return response;
  socket.ReadUntilClosed(Clock::now() + std::chrono::seconds(10), &response);
  return response;
}

TEST(MetricsEndpointTest, HealthReadinessMetricsAndUnknownPaths) {
  absl::StatusOr<std::unique_ptr<Metrics>> metrics =
      Metrics::Create("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  Metrics& m = **metrics;
  const int port = m.port();
  ASSERT_GT(port, 0);
  m.CountTransaction();

  std::string r = Exchange(port, "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(r, HasSubstr("pgcdc_transactions_total 1"));

  // Alive from the start, whatever the phase.
  r = Exchange(port, "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, EndsWith("\r\n\r\nok\n"));

  r = Exchange(port, "GET /readyz HTTP/1.0\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(r, EndsWith("\r\n\r\nnot ready: starting\n"));
  m.health().SetPhase(Phase::kStreaming);
  r = Exchange(port, "GET /readyz HTTP/1.0\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, EndsWith("\r\n\r\nready: streaming\n"));
  // A query string does not change the path.
  r = Exchange(port, "GET /readyz?verbose=1 HTTP/1.0\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  // HEAD: the status and headers, no body.
  r = Exchange(port, "HEAD /readyz HTTP/1.0\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, EndsWith("\r\n\r\n"));
  m.health().SetPhase(Phase::kWaitingForSlot, "slot \"s\" held by pid 42");
  r = Exchange(port, "GET /readyz HTTP/1.0\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 503 "));
  EXPECT_THAT(r, HasSubstr("not ready: waiting for the replication slot "
                           "(slot \"s\" held by pid 42)"));

  for (const char* path :
       {"/", "/metricsx", "/healthz/x", "/../etc/passwd", "/readyz.json"}) {
    r = Exchange(port, absl::StrCat("GET ", path, " HTTP/1.0\r\n\r\n"));
    EXPECT_THAT(r, StartsWith("HTTP/1.1 404 Not Found\r\n")) << path;
  }
  r = Exchange(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n")) << r;
  EXPECT_THAT(r, HasSubstr("Allow: GET, HEAD\r\n"));
}

TEST(MetricsEndpointTest, IdleAndSlowConnectionsDoNotKeepScrapesWaiting) {
  absl::StatusOr<std::unique_ptr<Metrics>> metrics =
      Metrics::Create("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  (*metrics)->CountTransaction();
  const int port = (*metrics)->port();
  ASSERT_GT(port, 0);
  const auto timeout = std::chrono::milliseconds(kHttpRequestTimeoutMs);
  // Room for a loaded machine; far below what civetweb's default timeout
  // (30 s a connection) would take.
  const auto slack = std::chrono::seconds(4);

  // More silent connections than there are worker threads, and one that
  // sends half a request line and then nothing.
  const auto opened = Clock::now();
  std::vector<std::unique_ptr<Socket>> idle;
  for (int i = 0; i < kHttpThreads + 1; ++i) {
    idle.push_back(std::make_unique<Socket>(port));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  Socket slow(port);
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.Send("GET /metr"));

  Socket scrape(port);
  ASSERT_TRUE(scrape.connected());
  ASSERT_TRUE(scrape.Send("GET /metrics HTTP/1.0\r\n\r\n"));
  std::string response;
  ASSERT_TRUE(scrape.ReadUntilClosed(opened + timeout + slack, &response))
      << "no answer within the request timeout; got: " << response;
  EXPECT_THAT(response, HasSubstr(" 200 "));
  EXPECT_THAT(response, HasSubstr("pgcdc_transactions_total 1"));

  // Each waiting connection is dropped after the timeout. Those beyond the
  // worker threads wait their turn first, so the last go after two.
  for (size_t i = 0; i < idle.size(); ++i) {
    std::string ignored;
    EXPECT_TRUE(
        idle[i]->ReadUntilClosed(opened + 2 * timeout + slack, &ignored))
        << "idle connection " << i << " still open";
  }
  std::string answer;
  EXPECT_TRUE(slow.ReadUntilClosed(opened + 2 * timeout + slack, &answer))
      << "the slow client's connection is still open";
}

}  // namespace
}  // namespace cdc::metrics
