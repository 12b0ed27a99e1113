#include "tests/integration/harness/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cdc::testing {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Small PostgreSQL messages (keepalives, status updates) must not wait for
// Nagle: the test measures silences of a few seconds.
void Tune(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(int target_port) {
  std::unique_ptr<TcpProxy> proxy(new TcpProxy());
  proxy->target_port_ = target_port;
  if (::pipe2(proxy->wake_, O_NONBLOCK | O_CLOEXEC) != 0) return Errno("pipe");
  proxy->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (proxy->listen_fd_ < 0) return Errno("socket");
  int one = 1;
  ::setsockopt(proxy->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = Loopback(0);
  if (::bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr),
             sizeof(addr)) != 0) {
    return Errno("bind");
  }
  if (::listen(proxy->listen_fd_, 64) != 0) return Errno("listen");
  socklen_t len = sizeof(addr);
  if (::getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr),
                    &len) != 0) {
    return Errno("getsockname");
  }
  proxy->port_ = ntohs(addr.sin_port);
  TcpProxy* raw = proxy.get();
  proxy->thread_ = std::thread([raw] { raw->Loop(); });
  return proxy;
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
  for (Connection& c : connections_) {
    ::close(c.client);
    ::close(c.server);
  }
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

int TcpProxy::Stall() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Connection& c : connections_) c.frozen = true;
  Wake();
  return static_cast<int>(connections_.size());
}

void TcpProxy::Resume() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Connection& c : connections_) c.frozen = false;
  Wake();
}

int TcpProxy::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(connections_.size());
}

void TcpProxy::Wake() {
  const char x = 'x';
  // A full pipe already wakes the loop.
  ssize_t n = ::write(wake_[1], &x, 1);
  (void)n;
}

void TcpProxy::Loop() {
  std::vector<pollfd> fds;
  std::vector<Connection*> owners;
  while (!stop_) {
    fds.clear();
    owners.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_[0], POLLIN, 0});
    owners.resize(2, nullptr);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (Connection& c : connections_) {
        if (c.frozen) continue;  // not even a hang-up is looked at
        // Read a side only when what it sent before is passed on, so a slow
        // reader slows its writer, as a real network would.
        auto events = [](const Direction& from, const Direction& to) {
          short e = 0;
          if (!from.eof && from.written == from.pending.size()) e |= POLLIN;
          if (to.written < to.pending.size()) e |= POLLOUT;
          return e;
        };
        // A socket with nothing to wait for is left out (-1): poll would
        // report a hang-up on it over and over.
        const short client = events(c.up, c.down);
        const short server = events(c.down, c.up);
        fds.push_back({client != 0 ? c.client : -1, client, 0});
        fds.push_back({server != 0 ? c.server : -1, server, 0});
        owners.push_back(&c);
        owners.push_back(&c);
      }
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0) continue;  // EINTR
    std::lock_guard<std::mutex> lock(mu_);
    if (fds[1].revents != 0) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof(buf)) > 0) {
      }
    }
    if (fds[0].revents & POLLIN) Accept();
    for (size_t i = 2; i < fds.size(); ++i) {
      Connection& c = *owners[i];
      // Stall() may have come between poll and here.
      if (fds[i].revents == 0 || c.frozen || c.failed) continue;
      if (!Pump(c, fds[i].fd, fds[i].revents)) c.failed = true;
    }
    for (auto it = connections_.begin(); it != connections_.end();) {
      const bool over =
          it->failed || (it->up.eof && it->down.eof &&
                         it->up.written == it->up.pending.size() &&
                         it->down.written == it->down.pending.size());
      if (!over) {
        ++it;
        continue;
      }
      ::close(it->client);
      ::close(it->server);
      it = connections_.erase(it);
    }
  }
}

void TcpProxy::Accept() {
  int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(target_port_);
  // Blocking connect: on loopback it completes (or is refused) at once.
  if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr),
                              sizeof(addr)) != 0) {
    if (server >= 0) ::close(server);
    ::close(client);  // the client sees the refusal as a closed connection
    return;
  }
  Tune(client);
  Tune(server);
  Connection& c = connections_.emplace_back();
  c.client = client;
  c.server = server;
  ++accepted_;
}

bool TcpProxy::Pump(Connection& c, int fd, short revents) {
  const bool is_client = fd == c.client;
  Direction& in = is_client ? c.up : c.down;   // read from fd
  Direction& out = is_client ? c.down : c.up;  // written to fd
  const int other = is_client ? c.server : c.client;
  // Writes what `d` holds to `to`; shuts `to` down once `d` ended and is
  // flushed. False on a write error.
  auto flush = [this](Direction& d, int to) {
    while (d.written < d.pending.size()) {
      ssize_t n = ::send(to, d.pending.data() + d.written,
                         d.pending.size() - d.written, MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      d.written += static_cast<size_t>(n);
      forwarded_ += n;
    }
    if (d.eof) ::shutdown(to, SHUT_WR);
    return true;
  };
  if ((revents & (POLLIN | POLLHUP | POLLERR)) && !in.eof &&
      in.written == in.pending.size()) {
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      in.pending.assign(buf, static_cast<size_t>(n));
      in.written = 0;
    } else if (n == 0) {
      in.eof = true;
    } else if (errno != EAGAIN && errno != EINTR) {
      return false;  // reset: close both sides, as the peer did
    }
    if (!flush(in, other)) return false;
  }
  if (revents & POLLOUT) return flush(out, fd);
  return true;
}

}  // namespace cdc::testing
