#include "cdc/kafka/client_failure.h"

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"

namespace cdc::kafka {

ClientIdentity IdentityOf(
    const std::map<std::string, std::string>& properties) {
  ClientIdentity who;
  if (auto it = properties.find("sasl.username"); it != properties.end()) {
    who.sasl_username = it->second;
  }
  for (const char* name : {"sasl.mechanism", "sasl.mechanisms"}) {
    if (auto it = properties.find(name); it != properties.end()) {
      who.sasl_mechanism = it->second;
    }
  }
  if (who.sasl_mechanism.empty()) who.sasl_mechanism = "GSSAPI";  // default
  return who;
}

absl::Status ConnectFailure(int err, std::string_view reason,
                            const ClientIdentity& who) {
  switch (static_cast<rd_kafka_resp_err_t>(err)) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return absl::UnauthenticatedError(absl::StrCat(
          "SASL authentication failed for user ",
          who.sasl_username.empty() ? "(none)" : who.sasl_username, " (",
          who.sasl_mechanism, "): ", AsAbsl(reason),
          ". Check sasl.username and sasl.password in kafka.properties, and "
          "that the user exists on the cluster for that mechanism"));
    case RD_KAFKA_RESP_ERR__SSL:
      return absl::UnauthenticatedError(absl::StrCat(
          "TLS with the Kafka broker failed: ", AsAbsl(reason),
          ". Check ssl.ca.location in kafka.properties (the CA that signed "
          "the broker's certificate) and that the certificate names the host "
          "in bootstrap_servers"));
    default:
      return absl::OkStatus();
  }
}

}  // namespace cdc::kafka
