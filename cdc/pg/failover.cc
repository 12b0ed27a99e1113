#include "cdc/pg/failover.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cdc::pg {
namespace {

constexpr int kFailoverVersion = 170000;

bool Names(const HostFailoverState& primary, const std::string& physical) {
  return std::any_of(
      primary.synchronized_standby_slots.begin(),
      primary.synchronized_standby_slots.end(),
      [&](const StandbySlotState& s) { return s.name == physical; });
}

}  // namespace

std::vector<std::string> StandbyProblems(const HostFailoverState& host,
                                         const HostFailoverState* primary,
                                         const std::string& slot) {
  std::vector<std::string> out;
  const std::string who = absl::StrCat("standby ", host.endpoint);
  if (host.server_version_num > 0 &&
      host.server_version_num < kFailoverVersion) {
    out.push_back(absl::StrCat(who, " runs PostgreSQL ",
                               host.server_version_num,
                               ", which cannot keep a copy of a logical slot "
                               "(17 or later can)"));
    return out;
  }
  if (host.sync_replication_slots != true) {
    out.push_back(absl::StrCat(who, ": sync_replication_slots is ",
                               host.sync_replication_slots.has_value()
                                   ? "off: set it on"
                                   : "unknown (not readable)"));
  }
  if (host.hot_standby_feedback != true) {
    out.push_back(absl::StrCat(who, ": hot_standby_feedback is ",
                               host.hot_standby_feedback.has_value()
                                   ? "off: set it on"
                                   : "unknown (not readable)"));
  }
  if (host.primary_slot_name.empty()) {
    out.push_back(absl::StrCat(
        who,
        ": primary_slot_name is not set: give it a physical slot on the "
        "primary"));
  } else if (primary != nullptr && !Names(*primary, host.primary_slot_name)) {
    out.push_back(absl::StrCat(
        who, ": its physical slot \"", host.primary_slot_name,
        "\" is not in the primary's synchronized_standby_slots, so pgcdc may "
        "publish changes this standby does not have"));
  }
  if (host.primary_conninfo_has_dbname == false) {
    out.push_back(absl::StrCat(
        who,
        ": primary_conninfo names no dbname: slot synchronisation needs "
        "one (dbname=... of any database)"));
  }
  if (!host.slot_exists) {
    out.push_back(absl::StrCat(who, " has no copy of slot \"", slot,
                               "\" yet (it appears once synchronised)"));
  } else if (host.slot_synced != true) {
    out.push_back(absl::StrCat(
        who, " has a slot \"", slot,
        "\" that is not synchronised from the primary (synced = false): "
        "drop it there so that synchronisation can make its copy"));
  } else if (host.slot_invalidated) {
    out.push_back(
        absl::StrCat(who, "'s copy of slot \"", slot, "\" is invalidated"));
  }
  return out;
}

FailoverVerdict AssessFailover(const FailoverInput& in) {
  FailoverVerdict v;
  if (!in.slot_failover) {
    v.reasons.push_back(
        "source.slot_failover is false: the slot is not synchronised to "
        "standbys and is lost when one is promoted");
  }
  std::vector<const HostFailoverState*> primaries;
  std::vector<const HostFailoverState*> standbys;
  for (const HostFailoverState& h : in.hosts) {
    if (!h.error.empty()) {
      v.notes.push_back(
          absl::StrCat("host ", h.endpoint, " not read: ", h.error));
    } else if (h.in_recovery) {
      standbys.push_back(&h);
    } else {
      primaries.push_back(&h);
    }
  }
  const HostFailoverState* primary =
      primaries.size() == 1 ? primaries.front() : nullptr;
  if (primaries.empty()) {
    v.reasons.push_back("no host of source.dsn is a reachable primary");
  } else if (primaries.size() > 1) {
    std::string list;
    for (const HostFailoverState* p : primaries) {
      absl::StrAppend(&list, list.empty() ? "" : ", ", p->endpoint);
    }
    v.reasons.push_back(
        absl::StrCat("more than one host of source.dsn is a primary (", list,
                     "): a promoted standby whose old primary still runs?"));
  }
  if (primary != nullptr) {
    const std::string& p = primary->endpoint;
    if (primary->server_version_num > 0 &&
        primary->server_version_num < kFailoverVersion) {
      v.reasons.push_back(absl::StrCat("the primary ", p, " runs PostgreSQL ",
                                       primary->server_version_num,
                                       ": failover slots need 17 or later"));
    } else {
      if (!primary->slot_exists) {
        v.reasons.push_back(absl::StrCat("slot \"", in.slot,
                                         "\" does not exist on the primary ", p,
                                         " yet (pgcdc run creates it)"));
      } else if (primary->slot_failover != true) {
        v.reasons.push_back(absl::StrCat(
            "slot \"", in.slot, "\" has failover = false on the primary ", p,
            in.slot_failover ? " (pgcdc run turns it on)"
                             : " (set source.slot_failover: true)"));
      }
      if (primary->synchronized_standby_slots.empty()) {
        v.reasons.push_back(absl::StrCat(
            "synchronized_standby_slots is empty on the primary ", p,
            ": pgcdc may publish changes no standby has, and a promoted "
            "standby's slot may be behind what was published; set it to the "
            "standbys' physical slots"));
      }
      for (const StandbySlotState& s : primary->synchronized_standby_slots) {
        if (!s.exists || !s.physical) {
          v.reasons.push_back(absl::StrCat(
              "synchronized_standby_slots on ", p, " names \"", s.name,
              "\", which is not a physical slot there: the logical stream "
              "waits for it forever; create it or remove the name"));
        } else if (!s.active) {
          v.reasons.push_back(absl::StrCat(
              "physical slot \"", s.name, "\" (synchronized_standby_slots) on ",
              p,
              " is inactive: no standby streams from it, and pgcdc is "
              "sent nothing until one does"));
        }
      }
    }
  }
  if (standbys.empty()) {
    v.reasons.push_back(
        in.hosts.size() <= 1
            ? "source.dsn names one host, so no standby can be read: list the "
              "standbys after the primary (host=a,b port=p1,p2 "
              "target_session_attrs=read-write), which is also how pgcdc "
              "reaches the promoted standby"
            : "no host of source.dsn is a reachable standby");
  }
  std::vector<std::string> not_ready;
  for (const HostFailoverState* s : standbys) {
    std::vector<std::string> problems = StandbyProblems(*s, primary, in.slot);
    if (problems.empty()) {
      v.ready_standbys.push_back(s->endpoint);
    } else {
      not_ready.insert(not_ready.end(), problems.begin(), problems.end());
    }
  }
  if (!standbys.empty() && v.ready_standbys.empty()) {
    v.reasons.insert(v.reasons.end(), not_ready.begin(), not_ready.end());
  } else {
    v.notes.insert(v.notes.end(), not_ready.begin(), not_ready.end());
  }
  v.survives = v.reasons.empty() && !v.ready_standbys.empty();
  return v;
}

}  // namespace cdc::pg
