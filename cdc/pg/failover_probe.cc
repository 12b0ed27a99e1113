#include "cdc/pg/failover_probe.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cdc/common/absl_compat.h"

namespace cdc::pg {
namespace {

// A value for keyword=value text: single-quoted, '\' and '\'' escaped.
std::string QuoteValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::vector<std::string> SplitList(const std::string& list) {
  if (list.empty()) return {};
  return absl::StrSplit(list, ',');
}

// The slot and the settings, in one row; settings through pg_settings, which
// leaves out (NULL here) what the role may not read, instead of failing.
constexpr char kHostQuery[] =
    "SELECT current_setting('server_version_num'), pg_is_in_recovery(), "
    "s.slot_name IS NOT NULL, to_jsonb(s) ->> 'failover', "
    "to_jsonb(s) ->> 'synced', "
    "COALESCE(s.wal_status = 'lost' OR "
    "(to_jsonb(s) ->> 'invalidation_reason') IS NOT NULL, false), "
    "s.confirmed_flush_lsn, "
    "(SELECT setting FROM pg_settings WHERE name = "
    "'synchronized_standby_slots'), "
    "(SELECT setting FROM pg_settings WHERE name = 'sync_replication_slots'), "
    "(SELECT setting FROM pg_settings WHERE name = 'hot_standby_feedback'), "
    "(SELECT setting FROM pg_settings WHERE name = 'primary_slot_name'), "
    "(SELECT setting FROM pg_settings WHERE name = 'primary_conninfo') "
    "FROM (SELECT 1) AS one LEFT JOIN pg_replication_slots s "
    "ON s.slot_name = $1";

std::optional<bool> OnOff(const std::optional<std::string>& v) {
  if (!v.has_value()) return std::nullopt;
  return *v == "on";
}

// synchronized_standby_slots' names: a comma-separated list of identifiers,
// each possibly double-quoted.
std::vector<std::string> ParseSlotList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::string name(absl::StripAsciiWhitespace(item));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      std::string unquoted;
      for (size_t i = 1; i + 1 < name.size(); ++i) {
        unquoted += name[i];
        if (name[i] == '"' && i + 2 < name.size() && name[i + 1] == '"') ++i;
      }
      name = unquoted;
    }
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<HostDsn>> SplitHosts(const std::string& dsn) {
  const bool keywords = dsn.rfind("postgresql://", 0) == 0 ||
                        dsn.rfind("postgres://", 0) == 0 ||
                        dsn.find('=') != std::string::npos;
  if (!keywords) {
    return std::vector<HostDsn>{
        {"(default host)", absl::StrCat("dbname=", QuoteValue(dsn),
                                        " target_session_attrs=any")}};
  }
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  if (parsed == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return absl::InvalidArgumentError(
        "source.dsn is not a valid libpq connection string or URI");
  }
  std::string rest;
  std::string host, hostaddr, port;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string keyword = o->keyword;
    if (keyword == "host") {
      host = o->val;
    } else if (keyword == "hostaddr") {
      hostaddr = o->val;
    } else if (keyword == "port") {
      port = o->val;
    } else if (keyword != "target_session_attrs" &&
               keyword != "load_balance_hosts") {
      absl::StrAppend(&rest, keyword, "=", QuoteValue(o->val), " ");
    }
  }
  PQconninfoFree(parsed);
  const std::vector<std::string> hosts = SplitList(host);
  const std::vector<std::string> addrs = SplitList(hostaddr);
  const std::vector<std::string> ports = SplitList(port);
  const size_t n = std::max<size_t>({hosts.size(), addrs.size(), 1});
  auto fits = [n](const std::vector<std::string>& list, bool one_ok) {
    return list.empty() || list.size() == n || (one_ok && list.size() == 1);
  };
  if (!fits(hosts, false) || !fits(addrs, false) || !fits(ports, true)) {
    return absl::InvalidArgumentError(
        "source.dsn: host, hostaddr and port list different numbers of "
        "hosts");
  }
  std::vector<HostDsn> out;
  for (size_t i = 0; i < n; ++i) {
    std::string one = rest;
    std::string name, number;
    if (!hosts.empty()) {
      name = hosts[i];
      absl::StrAppend(&one, "host=", QuoteValue(hosts[i]), " ");
    }
    if (!addrs.empty()) {
      if (name.empty()) name = addrs[i];
      absl::StrAppend(&one, "hostaddr=", QuoteValue(addrs[i]), " ");
    }
    if (!ports.empty()) {
      number = ports.size() == 1 ? ports[0] : ports[i];
      absl::StrAppend(&one, "port=", QuoteValue(number), " ");
    }
    absl::StrAppend(&one, "target_session_attrs=any");
    out.push_back(
        {absl::StrCat(name.empty() ? "(default host)" : name, ":", number),
         std::move(one)});
  }
  return out;
}

std::optional<bool> ConninfoHasDbname(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
  if (parsed == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return std::nullopt;
  }
  bool found = false;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "dbname") == 0 && o->val != nullptr &&
        o->val[0] != '\0') {
      found = true;
    }
  }
  PQconninfoFree(parsed);
  return found;
}

absl::StatusOr<HostFailoverState> ReadHostFailoverState(
    SqlConnection& conn, const std::string& slot) {
  absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(kHostQuery, {slot});
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1 || rows->front().size() != 12) {
    return absl::InternalError("the failover query returned no row");
  }
  const SqlRow& row = rows->front();
  HostFailoverState h;
  h.endpoint = conn.Endpoint();
  if (!absl::SimpleAtoi(row[0].value_or("0"), &h.server_version_num)) {
    h.server_version_num = 0;
  }
  h.in_recovery = row[1] == "t";
  h.slot_exists = row[2] == "t";
  if (row[3].has_value()) h.slot_failover = *row[3] == "true";
  if (row[4].has_value()) h.slot_synced = *row[4] == "true";
  h.slot_invalidated = row[5] == "t";
  if (row[6].has_value()) {
    absl::StatusOr<Lsn> lsn = ParseLsn(*row[6]);
    if (lsn.ok()) h.slot_confirmed_flush = *lsn;
  }
  h.sync_replication_slots = OnOff(row[8]);
  h.hot_standby_feedback = OnOff(row[9]);
  h.primary_slot_name = row[10].value_or("");
  if (row[11].has_value() && !row[11]->empty()) {
    h.primary_conninfo_has_dbname = ConninfoHasDbname(*row[11]);
  } else if (row[11].has_value()) {
    h.primary_conninfo_has_dbname = false;
  }
  const std::vector<std::string> names = ParseSlotList(row[7].value_or(""));
  if (!names.empty()) {
    absl::StatusOr<std::vector<SqlRow>> slots = conn.Query(
        "SELECT slot_name, slot_type = 'physical', active "
        "FROM pg_replication_slots");
    if (!slots.ok()) return slots.status();
    for (const std::string& name : names) {
      StandbySlotState s;
      s.name = name;
      for (const SqlRow& r : *slots) {
        if (r[0] != name) continue;
        s.exists = true;
        s.physical = r[1] == "t";
        s.active = r[2] == "t";
      }
      h.synchronized_standby_slots.push_back(std::move(s));
    }
  }
  return h;
}

absl::StatusOr<FailoverInput> ProbeFailover(const std::string& dsn,
                                            const std::string& slot,
                                            bool slot_failover) {
  absl::StatusOr<std::vector<HostDsn>> hosts = SplitHosts(dsn);
  if (!hosts.ok()) return hosts.status();
  FailoverInput in;
  in.slot = slot;
  in.slot_failover = slot_failover;
  for (const HostDsn& host : *hosts) {
    HostFailoverState state;
    absl::StatusOr<std::unique_ptr<SqlConnection>> conn =
        SqlConnection::Connect(host.dsn);
    absl::StatusOr<HostFailoverState> read =
        conn.ok() ? ReadHostFailoverState(**conn, slot)
                  : absl::StatusOr<HostFailoverState>(conn.status());
    if (read.ok()) {
      state = *std::move(read);
    } else {
      state.error = std::string(read.status().message());
    }
    state.endpoint = host.endpoint;
    in.hosts.push_back(std::move(state));
  }
  return in;
}

}  // namespace cdc::pg
