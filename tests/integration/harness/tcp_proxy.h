// TcpProxy: a loopback TCP forwarder that can go silent, to put a stalling
// network between pgcdc and PostgreSQL.
//
// It listens on a free loopback port and forwards every accepted connection
// to 127.0.0.1:target_port, bytes both ways, on one poll-based thread.
// Stall() freezes the connections open at that moment: nothing more is read
// or written on either side and nothing is closed, so neither end sees a FIN
// or RST — only silence, as when a link or a middlebox dies. Because the
// proxy's own kernel still acknowledges what the peers send, TCP keepalives
// do not notice the stall either: only a timeout in the application does
// (what source.receive_timeout_ms is for). Connections accepted after
// Stall() are forwarded normally, so a client that gives up on a frozen
// connection can connect again through the proxy. Resume() thaws the frozen
// ones (and whatever they buffered or closed meanwhile goes through).
//
// Owns its listening socket, every forwarded socket and the thread; the
// destructor stops the thread and closes them all (so a peer blocked on a
// frozen connection sees it end). Thread-safe: Stall, Resume and the
// counters may be called from any thread.
#ifndef TESTS_INTEGRATION_HARNESS_TCP_PROXY_H_
#define TESTS_INTEGRATION_HARNESS_TCP_PROXY_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace cdc::testing {

class TcpProxy {
 public:
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Freezes every connection open now (see above); returns how many. When
  // it returns, no byte moves on them any more.
  int Stall();
  // Forwards on every frozen connection again.
  void Resume();
  // Connections accepted so far, and those still open (frozen or not).
  int accepted() const { return accepted_.load(); }
  int open() const;
  // Bytes forwarded so far, both directions together.
  int64_t forwarded_bytes() const { return forwarded_.load(); }

 private:
  // One direction of a connection: bytes read from `from`, not yet written
  // to `to`.
  struct Direction {
    std::string pending;
    size_t written = 0;
    bool eof = false;  // `from` ended; `to` is shut down once flushed
  };
  struct Connection {
    int client = -1;
    int server = -1;
    Direction up;    // client → server
    Direction down;  // server → client
    bool frozen = false;
    bool failed = false;
  };

  TcpProxy() = default;
  void Loop();
  void Accept();
  // Moves what it can between the two sockets of `c`; false once the
  // connection is over (both ways ended, or an error).
  bool Pump(Connection& c, int fd, short revents);
  void Wake();

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // self-pipe: Stall/Resume/stop interrupt poll
  int port_ = 0;
  int target_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int64_t> forwarded_{0};
  // Held by the thread whenever it touches the sockets, so that Stall()
  // returning means nothing moves on the frozen connections.
  mutable std::mutex mu_;
  std::list<Connection> connections_;
  std::thread thread_;
};

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_TCP_PROXY_H_
