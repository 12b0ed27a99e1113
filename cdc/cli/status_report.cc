#include "cdc/cli/status_report.h"

#include <cstdio>
#include <optional>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/lsn.h"
#include "cdc/common/utf8.h"

namespace cdc::cli {
namespace {

// Text from the server or the configuration, safe to print: valid UTF-8,
// no control characters.
std::string Safe(std::string_view text) {
  return EscapeBytes(text, /*max_bytes=*/256);
}

// A JSON string of `text`: valid UTF-8 as it is, with '"', '\\' and
// controls escaped; text that is not valid UTF-8 first as EscapeBytes shows
// it (\xNN for the bad bytes), so that the output is always valid JSON.
std::string JsonString(std::string_view text) {
  const std::string valid =
      IsValidUtf8(text) ? std::string(text) : EscapeBytes(text, text.size());
  std::string out = "\"";
  for (char c : valid) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += absl::StrFormat("\\u%04x", u);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string JsonInt(const std::optional<int64_t>& v) {
  return v.has_value() ? absl::StrCat(*v) : "null";
}

std::string JsonLsn(const std::optional<Lsn>& v) {
  return v.has_value() ? JsonString(FormatLsn(*v)) : "null";
}

std::string JsonStrings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ',';
    out += JsonString(item);
  }
  return out + "]";
}

std::string JsonBool(bool b) { return b ? "true" : "false"; }

std::string BytesOrUnknown(const std::optional<int64_t>& v) {
  return v.has_value() ? absl::StrCat(FormatByteSize(*v), " (", *v, " bytes)")
                       : "unknown (NULL)";
}

std::string LsnOrNone(const std::optional<Lsn>& v) {
  return v.has_value() ? FormatLsn(*v) : "none (NULL)";
}

std::string LimitText(const std::optional<int64_t>& max) {
  if (!max.has_value()) return "not supported by this server";
  if (*max < 0) return "-1 (unbounded)";
  return FormatByteSize(*max);
}

std::string YesNo(const std::optional<bool>& v) {
  if (!v.has_value()) return "unknown";
  return *v ? "yes" : "no";
}

std::string OnOff(const std::optional<bool>& v) {
  if (!v.has_value()) return "unknown";
  return *v ? "on" : "off";
}

std::string JsonOptBool(const std::optional<bool>& v) {
  return v.has_value() ? JsonBool(*v) : "null";
}

// One host's line of the failover section.
std::string HostText(const pg::HostFailoverState& h) {
  if (!h.error.empty()) return absl::StrCat("not read: ", Safe(h.error));
  std::string out = absl::StrCat(h.in_recovery ? "standby" : "primary",
                                 ", server_version_num ", h.server_version_num);
  if (h.in_recovery) {
    absl::StrAppend(&out, "; sync_replication_slots ",
                    OnOff(h.sync_replication_slots), ", hot_standby_feedback ",
                    OnOff(h.hot_standby_feedback), ", primary_slot_name ",
                    h.primary_slot_name.empty()
                        ? std::string("(none)")
                        : absl::StrCat("\"", Safe(h.primary_slot_name), "\""),
                    ", dbname in primary_conninfo ",
                    YesNo(h.primary_conninfo_has_dbname));
  }
  if (!h.slot_exists) {
    absl::StrAppend(&out, "; slot: none");
  } else {
    absl::StrAppend(
        &out, "; slot: failover ", YesNo(h.slot_failover), ", synced ",
        YesNo(h.slot_synced), h.slot_invalidated ? ", invalidated" : "",
        ", confirmed_flush_lsn ", LsnOrNone(h.slot_confirmed_flush));
  }
  return out;
}

void AppendFailoverText(const pg::FailoverInput& in,
                        const pg::FailoverVerdict& v, std::string* out) {
  absl::StrAppend(out, "failover (source.slot_failover: ",
                  in.slot_failover ? "true" : "false", ")\n");
  auto line = [out](std::string_view label, const std::string& value) {
    absl::StrAppend(out, "  ", AsAbsl(label),
                    std::string(label.size() < 25 ? 25 - label.size() : 1, ' '),
                    value, "\n");
  };
  for (const pg::HostFailoverState& h : in.hosts) {
    if (!h.error.empty() || h.in_recovery) continue;
    std::string names;
    for (const pg::StandbySlotState& s : h.synchronized_standby_slots) {
      absl::StrAppend(&names, names.empty() ? "" : ", ", "\"", Safe(s.name),
                      "\" (",
                      !s.exists     ? "missing"
                      : !s.physical ? "not physical"
                      : s.active    ? "active"
                                    : "inactive",
                      ")");
    }
    line("synchronized_standby_slots:",
         names.empty() ? std::string("(empty)") : names);
  }
  for (const pg::HostFailoverState& h : in.hosts) {
    line(absl::StrCat("host ", Safe(h.endpoint), ":"), HostText(h));
  }
  std::string ready;
  for (const std::string& s : v.ready_standbys) {
    absl::StrAppend(&ready, ready.empty() ? "" : ", ", Safe(s));
  }
  line("survives a failover:",
       v.survives ? absl::StrCat("yes (to ", ready, ")") : "no");
  for (const std::string& n : v.notes) {
    absl::StrAppend(out, "  note: ", Safe(n), "\n");
  }
  if (!in.slot_failover) {
    for (const std::string& r : v.reasons) {
      absl::StrAppend(out, "  why not: ", Safe(r), "\n");
    }
  }
}

std::string FailoverJson(const pg::FailoverInput& in,
                         const pg::FailoverVerdict& v) {
  std::string hosts = "[";
  for (const pg::HostFailoverState& h : in.hosts) {
    if (hosts.size() > 1) hosts += ',';
    absl::StrAppend(
        &hosts, "{\"endpoint\":", JsonString(h.endpoint), ",\"error\":",
        h.error.empty() ? std::string("null") : JsonString(h.error));
    if (h.error.empty()) {
      std::string slots = "[";
      for (const pg::StandbySlotState& s : h.synchronized_standby_slots) {
        if (slots.size() > 1) slots += ',';
        absl::StrAppend(&slots, "{\"name\":", JsonString(s.name),
                        ",\"exists\":", JsonBool(s.exists),
                        ",\"physical\":", JsonBool(s.physical),
                        ",\"active\":", JsonBool(s.active), "}");
      }
      slots += ']';
      absl::StrAppend(
          &hosts, ",\"role\":", h.in_recovery ? "\"standby\"" : "\"primary\"",
          ",\"server_version_num\":", h.server_version_num,
          ",\"slot_exists\":", JsonBool(h.slot_exists),
          ",\"slot_failover\":", JsonOptBool(h.slot_failover),
          ",\"slot_synced\":", JsonOptBool(h.slot_synced),
          ",\"slot_invalidated\":", JsonBool(h.slot_invalidated),
          ",\"slot_confirmed_flush_lsn\":", JsonLsn(h.slot_confirmed_flush),
          ",\"synchronized_standby_slots\":", slots,
          ",\"sync_replication_slots\":", JsonOptBool(h.sync_replication_slots),
          ",\"hot_standby_feedback\":", JsonOptBool(h.hot_standby_feedback),
          ",\"primary_slot_name\":",
          h.primary_slot_name.empty() ? std::string("null")
                                      : JsonString(h.primary_slot_name),
          ",\"primary_conninfo_has_dbname\":",
          JsonOptBool(h.primary_conninfo_has_dbname));
    }
    hosts += '}';
  }
  hosts += ']';
  return absl::StrCat("{\"slot_failover\":", JsonBool(in.slot_failover),
                      ",\"survives\":", JsonBool(v.survives),
                      ",\"ready_standbys\":", JsonStrings(v.ready_standbys),
                      ",\"reasons\":", JsonStrings(v.reasons),
                      ",\"notes\":", JsonStrings(v.notes), ",\"hosts\":", hosts,
                      "}");
}

}  // namespace

std::string FormatByteSize(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB",
                                           "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return value < 10 ? absl::StrFormat("%.1f %s", value, kUnits[unit])
                    : absl::StrFormat("%.0f %s", value, kUnits[unit]);
}

RiskAssessment AssessRisk(const StatusInput& in) {
  RiskAssessment r;
  r.failover = pg::AssessFailover(in.failover);
  // A slot that does not exist yet is not at risk (exit 0, as documented).
  if (in.failover.slot_failover && in.state.exists && !r.failover.survives) {
    // Configured to survive a failover, and would not: the slot, and the
    // changes only it keeps, would be lost with the primary.
    r.at_risk = true;
    for (const std::string& reason : r.failover.reasons) {
      r.warnings.push_back(absl::StrCat(
          "the slot would not survive a failover: ", Safe(reason)));
    }
  }
  const pg::SlotState& s = in.state;
  const std::string slot = absl::StrCat("slot \"", Safe(in.slot), "\"");
  if (s.in_recovery) {
    r.notes.push_back(
        "the server is a standby: its WAL position is the replay position");
  }
  if (!s.exists) {
    r.notes.push_back(absl::StrCat(
        slot,
        " does not exist: pgcdc has not run against this database yet (or "
        "the slot was dropped); `pgcdc run` creates it"));
    return r;
  }
  if (s.slot_type != "logical" || s.plugin != "pgoutput") {
    r.notes.push_back(absl::StrCat(slot, " is not a logical pgoutput slot (",
                                   Safe(s.slot_type), "/", Safe(s.plugin),
                                   "): not one pgcdc made"));
  }
  const std::optional<int64_t>& max = s.max_slot_wal_keep_size;
  switch (s.wal_status) {
    case pg::WalStatus::kLost:
      r.at_risk = true;
      r.warnings.push_back(absl::StrCat(
          slot,
          " is lost (invalidated): the server removed WAL it still needed, "
          "so it can never stream again and the changes in between are "
          "gone. Drop it (SELECT pg_drop_replication_slot(...)) and let "
          "pgcdc make a new one with a new snapshot (snapshot.mode "
          "when_needed does this by itself)"));
      break;
    case pg::WalStatus::kUnreserved:
      r.at_risk = true;
      r.warnings.push_back(absl::StrCat(
          slot,
          " is unreserved: it retains more WAL than max_slot_wal_keep_size (",
          LimitText(max),
          ") and the next checkpoint may remove what it needs, invalidating "
          "it. Get pgcdc streaming now, or raise max_slot_wal_keep_size"));
      break;
    case pg::WalStatus::kExtended:
      if (max.has_value() && *max < 0) {
        r.at_risk = true;
        r.warnings.push_back(absl::StrCat(
            slot,
            " retains more WAL than max_wal_size and max_slot_wal_keep_size "
            "is -1 (unbounded): the WAL grows until the disk is full. Get "
            "pgcdc streaming, or set max_slot_wal_keep_size to bound it (at "
            "the price of invalidating the slot beyond it)"));
      }
      break;
    default:
      break;
  }
  if (s.wal_status != pg::WalStatus::kLost &&
      s.wal_status != pg::WalStatus::kUnreserved && s.safe_wal_size &&
      max.has_value() && *max > 0 &&
      static_cast<double>(*s.safe_wal_size) <
          kSafeWalFraction * static_cast<double>(*max)) {
    r.at_risk = true;
    r.warnings.push_back(absl::StrCat(
        slot, " is close to invalidation: only ",
        FormatByteSize(*s.safe_wal_size),
        " more WAL may be written before it exceeds max_slot_wal_keep_size (",
        LimitText(max), ")"));
  }
  if (!s.active && s.retained_wal_bytes &&
      *s.retained_wal_bytes >= kInactiveRetainedBytes &&
      s.wal_status != pg::WalStatus::kLost) {
    r.at_risk = true;
    r.warnings.push_back(absl::StrCat(
        slot, " is inactive (no pgcdc streams from it) and retains ",
        FormatByteSize(*s.retained_wal_bytes),
        " of WAL, which grows with every write: start pgcdc, or drop the "
        "slot if pgcdc is gone for good"));
  }
  if (s.wal_status == pg::WalStatus::kOther) {
    r.notes.push_back(absl::StrCat("wal_status \"", Safe(s.wal_status_text),
                                   "\" is not one this pgcdc knows"));
  }
  return r;
}

std::string FormatStatusText(const StatusInput& in,
                             const RiskAssessment& risk) {
  const pg::SlotState& s = in.state;
  std::string out;
  auto line = [&out](std::string_view label, const std::string& value) {
    absl::StrAppend(&out, "  ", AsAbsl(label),
                    std::string(label.size() < 25 ? 25 - label.size() : 1, ' '),
                    value, "\n");
  };
  absl::StrAppend(&out, "replication slot \"", Safe(in.slot), "\"\n");
  if (!s.exists) {
    line("exists:", "no");
  } else {
    line("exists:",
         absl::StrCat("yes (", Safe(s.slot_type), ", plugin ", Safe(s.plugin),
                      ", database ", Safe(s.database),
                      s.temporary ? ", temporary" : "", ")"));
    line("active:",
         s.active ? absl::StrCat("yes, pid ", s.active_pid
                                                  ? absl::StrCat(*s.active_pid)
                                                  : std::string("unknown"))
                  : "no (nothing streams from it)");
    line("confirmed_flush_lsn:", LsnOrNone(s.confirmed_flush_lsn));
    line("restart_lsn:", LsnOrNone(s.restart_lsn));
  }
  line(s.in_recovery ? "server replay LSN:" : "server WAL LSN:",
       FormatLsn(s.server_lsn));
  if (s.exists) {
    line("lag:", BytesOrUnknown(s.lag_bytes));
    line("retained WAL:", BytesOrUnknown(s.retained_wal_bytes));
    line("wal_status:", s.wal_status == pg::WalStatus::kNull
                            ? std::string("none (NULL)")
                            : Safe(s.wal_status_text));
    line("safe_wal_size:", s.safe_wal_size.has_value()
                               ? BytesOrUnknown(s.safe_wal_size)
                               : std::string("unbounded or unknown (NULL)"));
  }
  line("max_slot_wal_keep_size:", LimitText(s.max_slot_wal_keep_size));
  absl::StrAppend(&out, "publication \"", Safe(in.publication), "\"\n");
  line("exists:", in.activity.publication_exists ? "yes" : "no");
  absl::StrAppend(&out, "snapshot\n");
  if (in.activity.copies.empty()) {
    line("in progress:", "no table being read (no COPY by pgcdc)");
  } else {
    for (const pg::CopyProgress& c : in.activity.copies) {
      line("reading:", absl::StrCat(c.table.empty() ? "a table" : Safe(c.table),
                                    ", ", c.tuples_processed, " rows (",
                                    FormatByteSize(c.bytes_processed),
                                    ") so far, pid ", c.pid));
    }
  }
  AppendFailoverText(in.failover, risk.failover, &out);
  for (const std::string& n : risk.notes)
    absl::StrAppend(&out, "note: ", n, "\n");
  for (const std::string& w : risk.warnings) {
    absl::StrAppend(&out, "WARNING: ", w, "\n");
  }
  if (!risk.at_risk) {
    absl::StrAppend(&out, "OK: the slot is not at risk of invalidation\n");
  }
  return out;
}

std::string FormatStatusJson(const StatusInput& in,
                             const RiskAssessment& risk) {
  const pg::SlotState& s = in.state;
  std::string out = "{";
  auto field = [&out](std::string_view name, const std::string& value) {
    if (out.size() > 1) out += ',';
    absl::StrAppend(&out, "\"", AsAbsl(name), "\":", value);
  };
  auto text_or_null = [&s](const std::string& v) {
    return s.exists ? JsonString(v) : std::string("null");
  };
  field("slot", JsonString(in.slot));
  field("exists", JsonBool(s.exists));
  field("plugin", text_or_null(s.plugin));
  field("slot_type", text_or_null(s.slot_type));
  field("database", text_or_null(s.database));
  field("temporary", s.exists ? JsonBool(s.temporary) : "null");
  field("active", s.exists ? JsonBool(s.active) : "null");
  field("active_pid", JsonInt(s.active_pid));
  field("confirmed_flush_lsn", JsonLsn(s.confirmed_flush_lsn));
  field("restart_lsn", JsonLsn(s.restart_lsn));
  field("server_lsn", JsonString(FormatLsn(s.server_lsn)));
  field("in_recovery", JsonBool(s.in_recovery));
  field("lag_bytes", JsonInt(s.lag_bytes));
  field("retained_wal_bytes", JsonInt(s.retained_wal_bytes));
  field("wal_status", s.wal_status == pg::WalStatus::kNull
                          ? std::string("null")
                          : JsonString(s.wal_status_text));
  field("safe_wal_size_bytes", JsonInt(s.safe_wal_size));
  field("max_slot_wal_keep_size_bytes", JsonInt(s.max_slot_wal_keep_size));
  field("publication", JsonString(in.publication));
  field("publication_exists", JsonBool(in.activity.publication_exists));
  std::string copies = "[";
  for (const pg::CopyProgress& c : in.activity.copies) {
    if (copies.size() > 1) copies += ',';
    absl::StrAppend(&copies, "{\"pid\":", c.pid, ",\"table\":",
                    c.table.empty() ? std::string("null") : JsonString(c.table),
                    ",\"rows\":", c.tuples_processed,
                    ",\"bytes\":", c.bytes_processed, "}");
  }
  copies += ']';
  field("snapshot_copies", copies);
  field("failover", FailoverJson(in.failover, risk.failover));
  field("at_risk", JsonBool(risk.at_risk));
  field("warnings", JsonStrings(risk.warnings));
  field("notes", JsonStrings(risk.notes));
  out += "}\n";
  return out;
}

}  // namespace cdc::cli
