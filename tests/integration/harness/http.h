// HttpGet: a minimal HTTP/1.0 GET on loopback, for scraping /metrics in tests.
#ifndef TESTS_INTEGRATION_HARNESS_HTTP_H_
#define TESTS_INTEGRATION_HARNESS_HTTP_H_

#include <string>

namespace cdc::testing {

// The whole response (headers and body); "" when nothing listens.
std::string HttpGet(int port, const std::string& path);

// The value of the unlabelled metric `name` in Prometheus text `text`; -1
// when it is not there.
double MetricValue(const std::string& text, const std::string& name);

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_HTTP_H_
