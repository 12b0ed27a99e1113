// HttpEndpoint: pgcdc's one HTTP listener (metrics.listen), serving
//   GET /metrics  the Prometheus text exposition of a registry;
//   GET /healthz  200 "ok" while the process serves (liveness);
//   GET /readyz   200 or 503 and one line, from Health (readiness).
// Any other path is 404; other methods are refused by civetweb (405).
//
// civetweb answers with kHttpThreads worker threads, each serving one
// connection at a time, and gives up on a connection that has not sent its
// whole request within kHttpRequestTimeoutMs (closing it): so a few idle or
// slow connections to the port — a half-open scraper, a port scanner —
// delay a scrape by at most that timeout.
//
// Owns the server; borrows the registry (shared) and the health, which must
// outlive it. The handlers run on civetweb's threads and only read what is
// thread-safe (prometheus-cpp's metrics, Health).
#ifndef CDC_METRICS_HTTP_ENDPOINT_H_
#define CDC_METRICS_HTTP_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

class CivetServer;

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace cdc::metrics {

class Health;

// civetweb's num_threads and request_timeout_ms for the endpoint.
inline constexpr int kHttpThreads = 8;
inline constexpr int kHttpRequestTimeoutMs = 5000;

class HttpEndpoint {
 public:
  // `listen` is "host:port" (port 0 picks a free one). A busy or bad
  // address is kInvalidArgument.
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
      const Health* health);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // The port actually bound.
  int port() const;

 private:
  class Handler;
  HttpEndpoint() = default;

  std::unique_ptr<Handler> handler_;
  // Declared last: destroyed first, so no request runs while the handler
  // goes.
  std::unique_ptr<CivetServer> server_;
};

}  // namespace cdc::metrics

#endif  // CDC_METRICS_HTTP_ENDPOINT_H_
