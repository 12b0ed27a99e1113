// Failures of a Kafka client's connection that retrying cannot mend: a SASL
// authentication the broker refused (a wrong password, an unknown user, a
// mechanism it does not offer) or a TLS handshake that failed (most often a
// certificate that does not verify, or names another host). librdkafka
// retries both forever, as it does a broker that is down; pgcdc's clients
// stop at start instead and name the cause.
//
// Pure: the kind is decided from librdkafka's error code; its reason is only
// quoted (it names the broker and the mechanism, never the password).
#ifndef CDC_KAFKA_CLIENT_FAILURE_H_
#define CDC_KAFKA_CLIENT_FAILURE_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cdc::kafka {

// Who a client authenticates as, for the message: from its librdkafka
// properties (sasl.username, sasl.mechanism or sasl.mechanisms).
struct ClientIdentity {
  std::string sasl_username;
  std::string sasl_mechanism;
};
ClientIdentity IdentityOf(const std::map<std::string, std::string>& properties);

// kUnauthenticated, naming the cause, when `err` (an rd_kafka_resp_err_t) is a
// failed authentication or TLS handshake; OK for any other error.
absl::Status ConnectFailure(int err, std::string_view reason,
                            const ClientIdentity& who);

}  // namespace cdc::kafka

#endif  // CDC_KAFKA_CLIENT_FAILURE_H_
