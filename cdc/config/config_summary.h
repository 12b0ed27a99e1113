// ConfigSummary: the configuration as pgcdc's start-up line states it, with
// every secret masked.
//
// Secrets are left out by construction: the dsn is described by the caller
// (pg::DescribeDsn keeps only the keywords that locate the server and the
// role), librdkafka properties are named without their values, and the
// signal secret is never shown.
#ifndef CDC_CONFIG_CONFIG_SUMMARY_H_
#define CDC_CONFIG_CONFIG_SUMMARY_H_

#include <string>
#include <string_view>

#include "cdc/config/config.h"

namespace cdc::config {

// One line: source (as `source_described`), slot, publication, tables;
// Kafka brokers, format, topic prefix, window and properties; snapshot mode;
// metrics address; log format and level.
std::string ConfigSummary(const Config& config,
                          std::string_view source_described);

}  // namespace cdc::config

#endif  // CDC_CONFIG_CONFIG_SUMMARY_H_
