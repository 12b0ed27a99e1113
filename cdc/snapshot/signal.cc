#include "cdc/snapshot/signal.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status_macros.h"
#include "cdc/common/utf8.h"
#include "cdc/snapshot/row_filter.h"
#include "google/protobuf/util/json_util.h"

namespace cdc::snapshot {
namespace {

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("snapshot signal: ", AsAbsl(what)));
}

absl::Status CheckWatermark(const v1::SnapshotWatermark& mark,
                            std::string_view kind) {
  if (mark.nonce().empty()) {
    return Invalid(absl::StrCat(AsAbsl(kind), " without a nonce"));
  }
  return absl::OkStatus();
}

absl::Status CheckState(const v1::SnapshotState& state) {
  for (const v1::SnapshotTask& task : state.tasks()) {
    if (!task.after_key().empty() && !task.after_key_bytes().empty()) {
      return Invalid(absl::StrCat("task for \"", task.table(),
                                  "\" has both after_key and after_key_bytes"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> AfterKey(const v1::SnapshotTask& task) {
  if (!task.after_key_bytes().empty()) {
    return {task.after_key_bytes().begin(), task.after_key_bytes().end()};
  }
  return {task.after_key().begin(), task.after_key().end()};
}

void SetAfterKey(const std::vector<std::string>& key, v1::SnapshotTask* task) {
  task->clear_after_key();
  task->clear_after_key_bytes();
  const bool utf8 = std::all_of(key.begin(), key.end(),
                                [](const auto& v) { return IsValidUtf8(v); });
  for (const std::string& v : key) {
    if (utf8) {
      task->add_after_key(v);
    } else {
      task->add_after_key_bytes(v);
    }
  }
}

absl::StatusOr<v1::SnapshotSignal> ParseSignal(std::string_view content) {
  v1::SnapshotSignal signal;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(content.data(), content.size()), &signal,
      options);
  if (!parsed.ok()) {
    return Invalid(absl::StrCat("not a SnapshotSignal in JSON (",
                                std::string(parsed.message()), ")"));
  }
  if (signal.slot().empty()) return Invalid("no \"slot\"");
  if (signal.xid() == 0) {
    return Invalid(
        "no \"xid\" (the id of the transaction the signal is written in)");
  }
  CDC_RETURN_IF_ERROR(CheckState(signal.state()));
  switch (signal.kind_case()) {
    case v1::SnapshotSignal::kRequest: {
      const v1::SnapshotRequest& request = signal.request();
      if (request.id().empty()) return Invalid("request without an \"id\"");
      if (request.tables().empty()) {
        return Invalid(
            absl::StrCat("request \"", request.id(), "\" names no \"tables\""));
      }
      if (absl::Status s = CheckRowFilter(request.where()); !s.ok()) {
        return Invalid(
            absl::StrCat("request \"", request.id(), "\": ", s.message()));
      }
      for (const std::string& table : request.tables()) {
        const size_t dot = table.find('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == table.size()) {
          return Invalid(absl::StrCat("request \"", request.id(),
                                      "\": table \"", table,
                                      "\" is not \"schema.table\""));
        }
      }
      return signal;
    }
    case v1::SnapshotSignal::kOpen:
      CDC_RETURN_IF_ERROR(CheckWatermark(signal.open(), "open"));
      return signal;
    case v1::SnapshotSignal::kClose:
      CDC_RETURN_IF_ERROR(CheckWatermark(signal.close(), "close"));
      return signal;
    case v1::SnapshotSignal::kProgress:
      CDC_RETURN_IF_ERROR(CheckWatermark(signal.progress(), "progress"));
      return signal;
    case v1::SnapshotSignal::KIND_NOT_SET:
      break;
  }
  return Invalid("none of \"request\", \"open\", \"close\", \"progress\"");
}

v1::SnapshotSignal RequestSignal(const std::string& slot, const std::string& id,
                                 const std::vector<std::string>& tables,
                                 const std::string& where) {
  v1::SnapshotSignal signal;
  signal.set_slot(slot);
  v1::SnapshotRequest* request = signal.mutable_request();
  request->set_id(id);
  for (const std::string& table : tables) request->add_tables(table);
  request->set_where(where);
  return signal;
}

std::string FormatSignal(const v1::SnapshotSignal& signal) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Cannot fail for a message of this (string and integer) schema.
  (void)google::protobuf::util::MessageToJsonString(signal, &out, options);
  return out;
}

}  // namespace cdc::snapshot
