#include "cdc/metrics/http_endpoint.h"

#include <exception>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "CivetServer.h"
#include "absl/strings/str_cat.h"
#include "cdc/metrics/health.h"
#include "civetweb.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace cdc::metrics {
namespace {

constexpr char kMetricsPath[] = "/metrics";
constexpr char kHealthzPath[] = "/healthz";
constexpr char kReadyzPath[] = "/readyz";
// Prometheus's text exposition format, version 0.0.4.
constexpr char kMetricsType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextType[] = "text/plain; charset=utf-8";

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
  }
  return "Error";
}

// One whole response, closing the connection after it: probes and scrapers
// open one per request anyway.
void Respond(mg_connection* conn, int status, const char* type,
             const std::string& body, bool with_body,
             const char* extra_headers = "") {
  const std::string head = absl::StrCat(
      "HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n", extra_headers,
      "Content-Type: ", type, "\r\nContent-Length: ", body.size(),
      "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
  mg_write(conn, head.data(), head.size());
  if (with_body) mg_write(conn, body.data(), body.size());
}

}  // namespace

class HttpEndpoint::Handler : public CivetHandler {
 public:
  Handler(std::shared_ptr<prometheus::Registry> registry, const Health* health)
      : registry_(std::move(registry)), health_(health) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    return Serve(conn, /*with_body=*/true);
  }
  bool handleHead(CivetServer*, mg_connection* conn) override {
    return Serve(conn, /*with_body=*/false);
  }
  // Everything is read-only.
  bool handlePost(CivetServer*, mg_connection* conn) override {
    return Refuse(conn);
  }
  bool handlePut(CivetServer*, mg_connection* conn) override {
    return Refuse(conn);
  }
  bool handleDelete(CivetServer*, mg_connection* conn) override {
    return Refuse(conn);
  }
  bool handlePatch(CivetServer*, mg_connection* conn) override {
    return Refuse(conn);
  }
  bool handleOptions(CivetServer*, mg_connection* conn) override {
    return Refuse(conn);
  }

 private:
  bool Serve(mg_connection* conn, bool with_body) {
    const mg_request_info* request = mg_get_request_info(conn);
    const std::string path = request != nullptr && request->local_uri != nullptr
                                 ? request->local_uri
                                 : "";
    if (path == kMetricsPath) {
      std::ostringstream out;
      prometheus::TextSerializer().Serialize(out, registry_->Collect());
      Respond(conn, 200, kMetricsType, out.str(), with_body);
    } else if (path == kHealthzPath) {
      Respond(conn, 200, kTextType, "ok\n", with_body);
    } else if (path == kReadyzPath) {
      const Readiness r = health_->Ready();
      Respond(conn, r.ready ? 200 : 503, kTextType, r.text + "\n", with_body);
    } else {
      Respond(conn, 404, kTextType,
              "not found: pgcdc serves /metrics, /healthz and /readyz\n",
              with_body);
    }
    return true;
  }

  static bool Refuse(mg_connection* conn) {
    Respond(conn, 405, kTextType, "only GET and HEAD are served\n",
            /*with_body=*/true, "Allow: GET, HEAD\r\n");
    return true;
  }

  std::shared_ptr<prometheus::Registry> registry_;
  const Health* health_;
};

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(
    const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
    const Health* health) {
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint());
  endpoint->handler_ = std::make_unique<Handler>(std::move(registry), health);
  try {
    endpoint->server_ = std::make_unique<CivetServer>(std::vector<std::string>{
        "listening_ports", listen,                    //
        "num_threads", std::to_string(kHttpThreads),  //
        "request_timeout_ms", std::to_string(kHttpRequestTimeoutMs)});
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics.listen: cannot serve metrics on ", listen, ": ", e.what()));
  }
  // "/" catches every path, so that unknown ones get pgcdc's 404 (the
  // handler tells the three apart by the exact path).
  endpoint->server_->addHandler("/", endpoint->handler_.get());
  return endpoint;
}

HttpEndpoint::~HttpEndpoint() {
  if (server_) server_->close();
}

int HttpEndpoint::port() const {
  std::vector<int> ports = server_->getListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace cdc::metrics
