#include "cdc/pg/catalog.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cdc/common/absl_compat.h"
#include "cdc/common/status.h"
#include "cdc/common/status_macros.h"

namespace cdc::pg {
namespace {

std::string Qualified(const TableName& t) {
  return absl::StrCat(t.schema, ".", t.table);
}

std::string QuotedTable(const SqlConnection& conn, const TableName& t) {
  return absl::StrCat(conn.QuoteIdentifier(t.schema), ".",
                      conn.QuoteIdentifier(t.table));
}

// The tables of `tables` ("schema.table") the current role does not own (is
// not a member of the owner's role with its privileges; superusers own
// everything). Tables that do not exist are left out.
absl::StatusOr<std::vector<std::string>> NotOwned(
    SqlConnection& conn, const std::vector<TableName>& tables) {
  std::vector<std::string> out;
  for (const TableName& t : tables) {
    absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
        "SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2",
        {t.schema, t.table});
    if (!rows.ok()) return rows.status();
    if (!rows->empty() && rows->front()[0].value_or("f") != "t") {
      out.push_back(Qualified(t));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<ServerInfo> CheckServer(SqlConnection& conn) {
  absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
      "SELECT current_setting('wal_level'), "
      "current_setting('server_version_num'), current_database(), "
      "r.rolsuper OR r.rolreplication, current_user, "
      "(SELECT setting FROM pg_settings WHERE name = 'wal_sender_timeout'), "
      "current_setting('server_encoding'), current_setting('server_version') "
      "FROM pg_roles r WHERE r.rolname = current_user");
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1) {
    return absl::FailedPreconditionError(
        "cannot read the current role from pg_roles");
  }
  const SqlRow& row = rows->front();
  ServerInfo info;
  info.database = row[2].value_or("");
  info.server_encoding = row[6].value_or("");
  info.server_version = row[7].value_or("");
  if (!absl::SimpleAtoi(row[1].value_or("0"), &info.server_version_num)) {
    info.server_version_num = 0;
  }
  // pg_settings gives wal_sender_timeout in milliseconds.
  if (!absl::SimpleAtoi(row[5].value_or("0"), &info.wal_sender_timeout_ms)) {
    info.wal_sender_timeout_ms = 0;
  }
  if (row[0].value_or("") != "logical") {
    return absl::FailedPreconditionError(absl::StrCat(
        "wal_level is '", row[0].value_or(""),
        "', but logical replication needs 'logical': set wal_level = logical "
        "in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and "
        "restart PostgreSQL"));
  }
  if (row[3].value_or("f") != "t") {
    return absl::FailedPreconditionError(absl::StrCat(
        "role \"", row[4].value_or(""),
        "\" may not use replication: ALTER ROLE ", row[4].value_or(""),
        " WITH REPLICATION (pgcdc needs REPLICATION and SELECT on the "
        "tables)"));
  }
  // 15 introduced the CREATE_REPLICATION_SLOT option list that pgcdc's slot
  // is created with, (SNAPSHOT 'export'), and pgoutput protocol 3.
  if (info.server_version_num > 0 && info.server_version_num < 150000) {
    return absl::FailedPreconditionError(
        absl::StrCat("PostgreSQL server_version_num ", info.server_version_num,
                     " is not supported: pgcdc needs PostgreSQL 15 or later"));
  }
  return info;
}

absl::StatusOr<std::vector<TableInfo>> DescribeTables(
    SqlConnection& conn, const std::vector<TableName>& tables) {
  std::vector<TableInfo> out;
  std::vector<std::string> missing;
  for (const TableName& name : tables) {
    // Names are compared as stored (case-sensitive), passed as parameters.
    absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
        "SELECT c.oid, c.relreplident, c.relkind FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2",
        {name.schema, name.table});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      missing.push_back(Qualified(name));
      continue;
    }
    const SqlRow& row = rows->front();
    std::string kind = row[2].value_or("");
    if (kind != "r" && kind != "p") {
      return absl::FailedPreconditionError(
          absl::StrCat(Qualified(name), " is not a table (relkind '", kind,
                       "'); only tables can be published"));
    }
    TableInfo info;
    info.name = name;
    info.partitioned = kind == "p";
    if (!absl::SimpleAtoi(row[0].value_or(""), &info.oid)) {
      return absl::InternalError("pg_class returned a non-numeric oid");
    }
    info.replica_identity =
        row[1].value_or("d").empty() ? 'd' : row[1].value_or("d")[0];
    absl::StatusOr<std::vector<SqlRow>> key = conn.Query(
        "SELECT a.attname FROM pg_index i "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
        "k.attnum "
        "WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord",
        {std::to_string(info.oid)});
    if (!key.ok()) return key.status();
    for (const SqlRow& k : *key) info.primary_key.push_back(k[0].value_or(""));
    out.push_back(std::move(info));
  }
  if (!missing.empty()) {
    return absl::NotFoundError(
        absl::StrCat("table(s) not found: ", absl::StrJoin(missing, ", "),
                     " (names are case-sensitive, as in pg_class)"));
  }
  return out;
}

EmitMessageSignatures EmitMessageSignaturesFor(int server_version_num) {
  if (server_version_num >= 170000) {
    return {"pg_logical_emit_message(boolean, text, text, boolean)",
            "pg_logical_emit_message(boolean, text, bytea, boolean)"};
  }
  return {"pg_logical_emit_message(boolean, text, text)",
          "pg_logical_emit_message(boolean, text, bytea)"};
}

absl::StatusOr<RoleRights> ReadRoleRights(
    SqlConnection& conn, const std::vector<TableInfo>& tables) {
  RoleRights rights;
  // has_function_privilege errs on a signature the server does not have,
  // so the server's own are asked for.
  absl::StatusOr<std::vector<SqlRow>> version =
      conn.Query("SELECT current_setting('server_version_num')");
  if (!version.ok()) return version.status();
  int server_version_num = 0;
  if (version->size() != 1 ||
      !absl::SimpleAtoi(version->front()[0].value_or(""),
                        &server_version_num)) {
    return absl::InternalError("cannot read server_version_num");
  }
  rights.signatures = EmitMessageSignaturesFor(server_version_num);
  const std::string text_fn =
      absl::StrCat("'pg_catalog.", rights.signatures.text, "'");
  const std::string bytea_fn =
      absl::StrCat("'pg_catalog.", rights.signatures.bytea, "'");
  absl::StatusOr<std::vector<SqlRow>> role = conn.Query(
      absl::StrCat("SELECT current_user, has_function_privilege(", text_fn,
                   ", 'EXECUTE'), has_function_privilege('public', ", text_fn,
                   ", 'EXECUTE') OR has_function_privilege('public', ",
                   bytea_fn, ", 'EXECUTE')"));
  if (!role.ok()) return role.status();
  if (role->size() != 1) {
    return absl::InternalError("cannot read the current role's rights");
  }
  rights.role = role->front()[0].value_or("");
  rights.public_can_emit = role->front()[2].value_or("f") == "t";
  const std::string grantee = conn.QuoteIdentifier(rights.role);
  if (role->front()[1].value_or("f") != "t") {
    rights.emit.push_back(
        {absl::StrCat("EXECUTE on function ", rights.signatures.text),
         absl::StrCat("GRANT EXECUTE ON FUNCTION ", rights.signatures.text,
                      " TO ", grantee)});
  }
  std::set<std::string> schemas;
  for (const TableInfo& t : tables) {
    absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
        "SELECT has_schema_privilege(c.relnamespace, 'USAGE'), "
        "has_table_privilege(c.oid, 'SELECT') FROM pg_class c "
        "WHERE c.oid = $1::oid",
        {std::to_string(t.oid)});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) continue;  // dropped meanwhile: DescribeTables says
    if (rows->front()[0].value_or("f") != "t" &&
        schemas.insert(t.name.schema).second) {
      rights.read.push_back(
          {absl::StrCat("USAGE on schema ", t.name.schema),
           absl::StrCat("GRANT USAGE ON SCHEMA ",
                        conn.QuoteIdentifier(t.name.schema), " TO ", grantee)});
    }
    if (rows->front()[1].value_or("f") != "t") {
      rights.read.push_back(
          {absl::StrCat("SELECT on ", Qualified(t.name)),
           absl::StrCat("GRANT SELECT ON ", QuotedTable(conn, t.name), " TO ",
                        grantee)});
    }
  }
  return rights;
}

absl::Status RequireRoleRights(const RoleRights& rights,
                               const config::Config& config,
                               std::vector<std::string>* warnings) {
  const std::string& mode = config.snapshot.mode;
  const bool snapshots = mode != "never";
  const bool journal = snapshots && mode != "initial_only";
  const bool heartbeats = config.source.heartbeat_interval_ms > 0;
  std::vector<std::string> lacks, grants;
  auto need = [&](const std::vector<MissingRight>& missing,
                  const std::string& why) {
    if (missing.empty()) return;
    std::vector<std::string> what;
    for (const MissingRight& m : missing) {
      what.push_back(m.what);
      grants.push_back(m.grant);
    }
    lacks.push_back(absl::StrCat(absl::StrJoin(what, ", "), " (", why, ")"));
  };
  auto warn = [&](const std::vector<MissingRight>& missing,
                  const std::string& what_fails) {
    for (const MissingRight& m : missing) {
      warnings->push_back(absl::StrCat("role \"", rights.role, "\" lacks ",
                                       m.what, ": ", what_fails, " (", m.grant,
                                       ")"));
    }
  };
  if (snapshots) {
    need(rights.read, "snapshots read the tables");
  } else {
    warn(rights.read, "incremental snapshots (pgcdc snapshot) will fail");
  }
  if (journal || heartbeats) {
    const char* uses = !journal ? "heartbeats"
                       : heartbeats
                           ? "the snapshot journal, incremental snapshots and "
                             "heartbeats"
                           : "the snapshot journal and incremental snapshots";
    need(rights.emit, absl::StrCat(uses, " write logical decoding messages"));
  } else if (mode == "never") {
    warn(rights.emit, "incremental snapshots (pgcdc snapshot) will fail");
  }
  if (rights.public_can_emit) {
    warnings->push_back(absl::StrCat(
        "PUBLIC may execute pg_logical_emit_message (PostgreSQL's default): "
        "any role that can log in writes into the WAL pgcdc reads, and a "
        "message with a prefix in messages.prefixes becomes a MESSAGE event "
        "(snapshot signals are refused unless sealed). To close it, in this "
        "database: REVOKE EXECUTE ON FUNCTION ",
        rights.signatures.text, ", ", rights.signatures.bytea,
        " FROM PUBLIC; GRANT EXECUTE ON FUNCTION ", rights.signatures.text,
        " TO ", rights.role, " (README, Security)"));
  }
  if (lacks.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "role \"", rights.role, "\" lacks ", absl::StrJoin(lacks, "; "),
      ". Grant them: ", absl::StrJoin(grants, "; ")));
}

absl::StatusOr<bool> EnsurePublication(
    SqlConnection& conn, const std::string& publication,
    const std::vector<TableName>& tables, bool via_root, bool dry_run,
    const std::function<absl::Status(const std::vector<std::string>&)>&
        before_adding) {
  absl::StatusOr<std::vector<SqlRow>> exists = conn.Query(
      "SELECT puballtables, pubviaroot, pg_has_role(pubowner, 'USAGE') "
      "FROM pg_publication WHERE pubname = $1",
      {publication});
  if (!exists.ok()) return exists.status();
  std::vector<std::string> quoted;
  for (const TableName& t : tables) {
    quoted.push_back(QuotedTable(conn, t));
  }
  if (exists->empty()) {
    // CREATE PUBLICATION ... FOR TABLE needs CREATE on the database and
    // ownership of every table: said before trying, and by `check` too.
    absl::StatusOr<std::vector<SqlRow>> can = conn.Query(
        "SELECT has_database_privilege(current_database(), 'CREATE'), "
        "current_user");
    if (!can.ok()) return can.status();
    absl::StatusOr<std::vector<std::string>> not_owned = NotOwned(conn, tables);
    if (!not_owned.ok()) return not_owned.status();
    const bool create = !can->empty() && can->front()[0].value_or("f") == "t";
    if (!create || !not_owned->empty()) {
      std::vector<std::string> lacks;
      if (!create) lacks.push_back("CREATE on the database");
      if (!not_owned->empty()) {
        lacks.push_back(
            absl::StrCat("ownership of ", absl::StrJoin(*not_owned, ", ")));
      }
      return absl::PermissionDeniedError(absl::StrCat(
          "publication \"", publication, "\" does not exist and role \"",
          can->empty() ? "" : can->front()[1].value_or(""),
          "\" cannot create it: CREATE PUBLICATION ... FOR TABLE needs CREATE "
          "on the database and ownership of every table, and the role lacks ",
          absl::StrJoin(lacks, " and "),
          ". Create it yourself, as the tables' owner: CREATE PUBLICATION ",
          conn.QuoteIdentifier(publication), " FOR TABLE ",
          absl::StrJoin(quoted, ", "),
          via_root ? " WITH (publish_via_partition_root = true)" : ""));
    }
    if (dry_run) return true;
    absl::StatusOr<std::vector<SqlRow>> created = conn.Query(absl::StrCat(
        "CREATE PUBLICATION ", conn.QuoteIdentifier(publication), " FOR TABLE ",
        absl::StrJoin(quoted, ", "),
        via_root ? " WITH (publish_via_partition_root = true)" : ""));
    if (!created.ok()) {
      return absl::Status(
          created.status().code(),
          absl::StrCat("cannot create publication \"", publication,
                       "\": ", created.status().message(),
                       " (pgcdc needs CREATE on the database and ownership "
                       "of the tables to create it; or create it yourself: "
                       "CREATE PUBLICATION ",
                       conn.QuoteIdentifier(publication), " FOR TABLE ",
                       absl::StrJoin(quoted, ", "), ")"));
    }
    return true;
  }
  if (exists->front()[0].value_or("f") == "t") {
    return absl::FailedPreconditionError(absl::StrCat(
        "publication \"", publication,
        "\" is FOR ALL TABLES, but the configuration lists ", tables.size(),
        " table(s); use a publication covering exactly those tables"));
  }
  if (via_root && exists->front()[1].value_or("f") != "t") {
    return absl::FailedPreconditionError(absl::StrCat(
        "publication \"", publication,
        "\" publishes partitioned tables as their partitions; fix with "
        "ALTER PUBLICATION ",
        conn.QuoteIdentifier(publication),
        " SET (publish_via_partition_root = true)"));
  }
  absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
      "SELECT schemaname, tablename FROM pg_publication_tables "
      "WHERE pubname = $1",
      {publication});
  if (!rows.ok()) return rows.status();
  std::set<std::string> configured, published;
  for (const TableName& t : tables) configured.insert(Qualified(t));
  for (const SqlRow& row : *rows) {
    published.insert(
        absl::StrCat(row[0].value_or(""), ".", row[1].value_or("")));
  }
  std::vector<std::string> missing, extra;
  std::set_difference(configured.begin(), configured.end(), published.begin(),
                      published.end(), std::back_inserter(missing));
  std::set_difference(published.begin(), published.end(), configured.begin(),
                      configured.end(), std::back_inserter(extra));
  if (missing.empty() && extra.empty()) return false;
  if (extra.empty() && before_adding) {
    // ALTER PUBLICATION ... ADD TABLE needs ownership of the publication and
    // of the tables: said before anything is asked of the WAL.
    std::vector<TableName> adding;
    std::vector<std::string> added;  // quoted, for SQL
    for (const TableName& t : tables) {
      if (std::find(missing.begin(), missing.end(), Qualified(t)) !=
          missing.end()) {
        adding.push_back(t);
        added.push_back(QuotedTable(conn, t));
      }
    }
    absl::StatusOr<std::vector<std::string>> not_owned = NotOwned(conn, adding);
    if (!not_owned.ok()) return not_owned.status();
    if (exists->front()[2].value_or("f") != "t") {
      not_owned->insert(not_owned->begin(),
                        absl::StrCat("publication \"", publication, "\""));
    }
    if (!not_owned->empty()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "publication \"", publication, "\" lacks ",
          absl::StrJoin(missing, ", "),
          " and this role cannot add them: ALTER PUBLICATION ... ADD TABLE "
          "needs ownership of the publication and of the tables, and the "
          "role does not own ",
          absl::StrJoin(*not_owned, ", "),
          ". Add them yourself, as their owner: ALTER PUBLICATION ",
          conn.QuoteIdentifier(publication), " ADD TABLE ",
          absl::StrJoin(added, ", "),
          "; then `pgcdc snapshot --table` publishes the rows they already "
          "hold"));
    }
    CDC_RETURN_IF_ERROR(before_adding(missing));
    if (dry_run) return false;
    absl::Status s =
        conn.Query(absl::StrCat("ALTER PUBLICATION ",
                                conn.QuoteIdentifier(publication),
                                " ADD TABLE ", absl::StrJoin(added, ", ")))
            .status();
    if (!s.ok()) {
      return WithPrefix(
          s, absl::StrCat("cannot add ", absl::StrJoin(missing, ", "),
                          " to publication \"", publication, "\": "));
    }
    return false;
  }
  std::string message = absl::StrCat("publication \"", publication,
                                     "\" differs from source.tables:");
  if (!missing.empty()) {
    absl::StrAppend(&message, " not published: ", absl::StrJoin(missing, ", "),
                    ";");
  }
  if (!extra.empty()) {
    absl::StrAppend(&message, " published but not configured: ",
                    absl::StrJoin(extra, ", "), ";");
  }
  absl::StrAppend(&message, " fix with ALTER PUBLICATION ",
                  conn.QuoteIdentifier(publication), " SET TABLE ",
                  absl::StrJoin(quoted, ", "), ", or change source.tables");
  return absl::FailedPreconditionError(message);
}

absl::StatusOr<SlotInfo> FindSlot(SqlConnection& conn,
                                  const std::string& slot) {
  absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
      "SELECT s.plugin, s.slot_type, d.datname = current_database(), "
      "s.confirmed_flush_lsn, s.active, s.wal_status, "
      // The column exists on 17+ only; read through to_jsonb it is NULL
      // before, with one query text for every version.
      "to_jsonb(s) ->> 'failover' "
      "FROM pg_replication_slots s LEFT JOIN pg_database d "
      "ON d.oid = s.datoid WHERE s.slot_name = $1",
      {slot});
  if (!rows.ok()) return rows.status();
  SlotInfo info;
  if (rows->empty()) return info;
  info.exists = true;
  const SqlRow& row = rows->front();
  if (row[1].value_or("") != "logical" || row[0].value_or("") != "pgoutput") {
    return absl::FailedPreconditionError(
        absl::StrCat("replication slot \"", slot,
                     "\" exists but is not a logical slot of "
                     "plugin pgoutput (it is ",
                     row[1].value_or("?"), "/", row[0].value_or("?"),
                     "); choose another source.slot"));
  }
  if (row[2].value_or("f") != "t") {
    return absl::FailedPreconditionError(
        absl::StrCat("replication slot \"", slot,
                     "\" belongs to another database; choose another "
                     "source.slot or connect to that database"));
  }
  if (row[3].has_value()) {
    absl::StatusOr<Lsn> lsn = ParseLsn(*row[3]);
    if (lsn.ok()) info.confirmed_flush = *lsn;
  }
  info.active = row[4].value_or("f") == "t";
  info.lost = row[5].value_or("") == "lost";
  if (row[6].has_value()) info.failover = *row[6] == "true";
  return info;
}

absl::StatusOr<SlotInfo> EnsureSlot(SqlConnection& conn,
                                    const std::string& slot, bool failover) {
  absl::StatusOr<SlotInfo> found = FindSlot(conn, slot);
  if (!found.ok() || found->exists) return found;
  // (slot_name, plugin, temporary, twophase, failover): the five-argument
  // form exists on 17+ only, so it is used only when asked for.
  absl::StatusOr<std::vector<SqlRow>> created = conn.Query(
      failover ? "SELECT lsn FROM pg_create_logical_replication_slot("
                 "$1, 'pgoutput', false, false, true)"
               : "SELECT lsn FROM pg_create_logical_replication_slot($1, "
                 "'pgoutput')",
      {slot});
  if (!created.ok()) {
    return WithPrefix(
        created.status(),
        absl::StrCat("cannot create replication slot \"", slot, "\": "));
  }
  SlotInfo info;
  info.exists = true;
  info.created = true;
  if (failover) info.failover = true;
  absl::StatusOr<Lsn> lsn = ParseLsn(created->front()[0].value_or(""));
  if (lsn.ok()) info.confirmed_flush = *lsn;
  return info;
}

absl::Status EnableSlotFailover(const std::string& dsn,
                                const std::string& slot) {
  absl::StatusOr<std::unique_ptr<ReplicationStream>> stream =
      ReplicationStream::Connect(dsn);
  if (!stream.ok()) return stream.status();
  return WithPrefix((*stream)->EnableSlotFailover(slot),
                    absl::StrCat("cannot turn on failover for replication "
                                 "slot \"",
                                 slot, "\" (source.slot_failover): "));
}

absl::Status RequireFailoverSupport(int server_version_num,
                                    const config::Config& config) {
  if (!config.source.slot_failover || server_version_num <= 0 ||
      server_version_num >= kFailoverSlotsVersion) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "source.slot_failover is true, but PostgreSQL ", server_version_num,
      " cannot synchronise a logical slot to a standby: failover slots need "
      "PostgreSQL 17 or later. Upgrade the server, or set "
      "source.slot_failover: "
      "false and accept that the slot is lost when a standby is promoted "
      "(docs/failover.md)"));
}

absl::Status DropSlot(SqlConnection& conn, const std::string& slot) {
  absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
      "WHERE slot_name = $1",
      {slot});
  return WithPrefix(
      rows.status(),
      absl::StrCat("cannot drop replication slot \"", slot, "\": "));
}

absl::StatusOr<RelationDescription> DescribeRelation(
    SqlConnection& conn, const TableInfo& table,
    const std::string& publication) {
  const std::string oid = std::to_string(table.oid);
  // The key flags follow pgoutput's logicalrep_write_attrs: the replica
  // identity index is the primary key under DEFAULT and the chosen index
  // under USING INDEX (RelationGetIdentityKeyBitmap).
  absl::StatusOr<std::vector<SqlRow>> head = conn.Query(
      "SELECT n.nspname, c.relname, c.relreplident, "
      "CASE WHEN c.relkind = 'p' THEN (SELECT sum(greatest(l.reltuples, 0)) "
      "  FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid "
      "  WHERE t.isleaf)::int8 "
      "ELSE c.reltuples::int8 END "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.oid = $1::oid",
      {oid});
  if (!head.ok()) return head.status();
  if (head->empty()) {
    return absl::NotFoundError(absl::StrCat(
        "table ", Qualified(table.name), " (oid ", oid, ") no longer exists"));
  }
  RelationDescription out;
  RelationMessage& relation = out.relation;
  relation.relation_oid = table.oid;
  const SqlRow& h = head->front();
  relation.namespace_name = h[0].value_or("");
  if (relation.namespace_name == "pg_catalog") relation.namespace_name = "";
  relation.relation_name = h[1].value_or("");
  relation.replica_identity =
      h[2].value_or("d").empty() ? 'd' : h[2].value_or("d")[0];
  if (!h[3].has_value() || !absl::SimpleAtoi(*h[3], &out.estimated_rows)) {
    out.estimated_rows = -1;
  }

  // The publication's entry for the table, found by OID: the view names
  // tables by schema and name.
  constexpr char kPublished[] =
      "SELECT pt.attnames, pt.rowfilter "
      "FROM pg_catalog.pg_publication_tables pt "
      "JOIN pg_catalog.pg_namespace pn ON pn.nspname = pt.schemaname "
      "JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.oid "
      "AND pc.relname = pt.tablename "
      "WHERE pt.pubname = $2 AND pc.oid = $1::oid";
  absl::StatusOr<std::vector<SqlRow>> published =
      conn.Query(absl::StrCat("SELECT p.rowfilter FROM (", kPublished, ") p"),
                 {oid, publication});
  if (!published.ok()) return published.status();
  if (published->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "publication \"", publication, "\" does not publish ",
        Qualified(table.name), ", so its changes would not be streamed"));
  }
  out.row_filter = published->front()[0].value_or("");

  // A column the publication lists is published; with no list (a NULL
  // attnames), every live one. Generated columns only from 18 on:
  // before, pgoutput never sends them (logicalrep_write_attrs skips
  // attgenerated columns), although 15's view lists them when the
  // publication has no column list; 18's view says which it publishes
  // (publish_generated_columns).
  absl::StatusOr<std::vector<SqlRow>> columns = conn.Query(
      absl::StrCat(
          "WITH published AS (", kPublished,
          ") SELECT a.attname, a.atttypid, a.atttypmod, "
          "c.relreplident = 'f' OR COALESCE(a.attnum = ANY(("
          "  SELECT i.indkey FROM pg_index i WHERE i.indrelid = c.oid AND ("
          "    (c.relreplident = 'd' AND i.indisprimary) OR "
          "    (c.relreplident = 'i' AND i.indisreplident)) LIMIT 1)::int2[]), "
          "  false) "
          "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
          "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
          "AND COALESCE(a.attname = ANY((SELECT attnames FROM published)"
          "::name[]), true) AND (a.attgenerated = '' OR "
          "current_setting('server_version_num')::int >= 180000) "
          "ORDER BY a.attnum"),
      {oid, publication});
  if (!columns.ok()) return columns.status();
  for (const SqlRow& row : *columns) {
    RelationColumn column;
    column.name = row[0].value_or("");
    if (!absl::SimpleAtoi(row[1].value_or(""), &column.type_oid) ||
        !absl::SimpleAtoi(row[2].value_or(""), &column.type_modifier)) {
      return absl::InternalError("pg_attribute returned a non-numeric type");
    }
    column.flags = row[3].value_or("f") == "t" ? 1 : 0;
    relation.columns.push_back(std::move(column));
  }
  return out;
}

namespace {

// One row per type; the array element only for true arrays (see
// TypeInfo::array_element).
constexpr char kTypeColumns[] =
    "SELECT t.oid, n.nspname, t.typname, t.typtype, t.typdelim, "
    "CASE WHEN EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid) "
    "THEN t.typelem ELSE 0 END, t.typbasetype, t.typrelid, t.typtypmod "
    "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace ";

std::string OidArrayLiteral(const std::vector<Oid>& oids) {
  return absl::StrCat("{", absl::StrJoin(oids, ","), "}");
}

absl::StatusOr<std::vector<TypeInfo>> ReadTypes(SqlConnection& conn,
                                                const std::string& where,
                                                const std::vector<Oid>& oids) {
  absl::StatusOr<std::vector<SqlRow>> rows =
      oids.empty() ? conn.Query(absl::StrCat(kTypeColumns, where))
                   : conn.Query(absl::StrCat(kTypeColumns, where),
                                {OidArrayLiteral(oids)});
  if (!rows.ok()) return rows.status();
  std::vector<TypeInfo> types;
  absl::flat_hash_map<Oid, size_t> by_relid;  // composite typrelid → index
  absl::flat_hash_map<Oid, size_t> by_enum;   // enum oid → index
  for (const SqlRow& row : *rows) {
    TypeInfo info;
    Oid relid = 0;
    if (!absl::SimpleAtoi(row[0].value_or(""), &info.oid) ||
        !absl::SimpleAtoi(row[5].value_or(""), &info.array_element) ||
        !absl::SimpleAtoi(row[6].value_or(""), &info.domain_base) ||
        !absl::SimpleAtoi(row[7].value_or(""), &relid) ||
        !absl::SimpleAtoi(row[8].value_or("-1"), &info.domain_typmod)) {
      return absl::InternalError("pg_type returned a non-numeric oid");
    }
    const std::string nspname = row[1].value_or("");
    info.name = nspname == "pg_catalog"
                    ? row[2].value_or("")
                    : absl::StrCat(nspname, ".", row[2].value_or(""));
    const std::string typtype = row[3].value_or("b");
    info.kind = static_cast<TypeInfo::Kind>(typtype.empty() ? 'b' : typtype[0]);
    const std::string typdelim = row[4].value_or(",");
    info.delimiter = typdelim.empty() ? ',' : typdelim[0];
    if (info.kind == TypeInfo::Kind::kEnum) by_enum[info.oid] = types.size();
    if (info.kind == TypeInfo::Kind::kComposite && relid != 0) {
      by_relid[relid] = types.size();
    }
    types.push_back(std::move(info));
  }
  if (!by_enum.empty()) {
    std::vector<Oid> enums;
    for (const auto& [oid, index] : by_enum) enums.push_back(oid);
    absl::StatusOr<std::vector<SqlRow>> labels = conn.Query(
        "SELECT enumtypid, enumlabel FROM pg_enum "
        "WHERE enumtypid = ANY($1::oid[]) ORDER BY enumtypid, enumsortorder",
        {OidArrayLiteral(enums)});
    if (!labels.ok()) return labels.status();
    for (const SqlRow& row : *labels) {
      Oid oid = 0;
      if (!absl::SimpleAtoi(row[0].value_or(""), &oid)) {
        return absl::InternalError("pg_enum returned a non-numeric oid");
      }
      if (auto it = by_enum.find(oid); it != by_enum.end()) {
        types[it->second].enum_labels.push_back(row[1].value_or(""));
      }
    }
  }
  if (by_relid.empty()) return types;
  std::vector<Oid> relids;
  for (const auto& [relid, index] : by_relid) relids.push_back(relid);
  absl::StatusOr<std::vector<SqlRow>> attributes = conn.Query(
      "SELECT a.attrelid, a.attname, a.atttypid FROM pg_attribute a "
      "WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 "
      "AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum",
      {OidArrayLiteral(relids)});
  if (!attributes.ok()) return attributes.status();
  for (const SqlRow& row : *attributes) {
    Oid relid = 0;
    TypeInfo::Attribute attribute;
    if (!absl::SimpleAtoi(row[0].value_or(""), &relid) ||
        !absl::SimpleAtoi(row[2].value_or(""), &attribute.type_oid)) {
      return absl::InternalError("pg_attribute returned a non-numeric oid");
    }
    attribute.name = row[1].value_or("");
    if (auto it = by_relid.find(relid); it != by_relid.end()) {
      types[it->second].attributes.push_back(std::move(attribute));
    }
  }
  return types;
}

}  // namespace

absl::StatusOr<std::vector<TypeInfo>> LoadBuiltinTypes(SqlConnection& conn) {
  return ReadTypes(conn, "WHERE t.oid < 16384", {});
}

absl::StatusOr<std::vector<TypeInfo>> LoadTypes(SqlConnection& conn,
                                                const std::vector<Oid>& oids) {
  if (oids.empty()) return std::vector<TypeInfo>{};
  return ReadTypes(conn, "WHERE t.oid = ANY($1::oid[])", oids);
}

absl::Status RefreshTypes(SqlConnection& conn, const std::vector<Oid>& roots,
                          TypeRegistry* types) {
  constexpr Oid kFirstNormalObjectId = 16384;
  absl::flat_hash_set<Oid> visited;
  std::vector<Oid> wanted = roots;
  while (!wanted.empty()) {
    std::vector<Oid> load;
    std::vector<Oid> next;
    for (Oid oid : wanted) {
      if (oid == 0 || !visited.insert(oid).second) continue;
      // A known built-in type refers only to built-in types, all loaded at
      // startup, so its references need no walk.
      if (oid >= kFirstNormalObjectId || !types->Contains(oid)) {
        load.push_back(oid);
      }
    }
    absl::StatusOr<std::vector<TypeInfo>> loaded = LoadTypes(conn, load);
    if (!loaded.ok()) return loaded.status();
    for (TypeInfo& info : *loaded) {
      next.push_back(info.array_element);
      next.push_back(info.domain_base);
      for (const TypeInfo::Attribute& a : info.attributes) {
        next.push_back(a.type_oid);
      }
      types->Add(std::move(info));
    }
    wanted = std::move(next);
  }
  return absl::OkStatus();
}

absl::StatusOr<Lsn> EmitLogicalMessage(SqlConnection& conn,
                                       const std::string& prefix,
                                       const std::string& content,
                                       bool transactional) {
  absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
      transactional ? "SELECT pg_logical_emit_message(true, $1, $2)"
                    : "SELECT pg_logical_emit_message(false, $1, $2)",
      {prefix, content});
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1 || !rows->front()[0].has_value()) {
    return absl::DataLossError("pg_logical_emit_message returned no LSN");
  }
  absl::StatusOr<Lsn> lsn = ParseLsn(*rows->front()[0]);
  if (!lsn.ok()) return absl::DataLossError(lsn.status().message());
  return lsn;
}

absl::StatusOr<std::vector<ColumnFacts>> ReadColumnFacts(SqlConnection& conn,
                                                         Oid relation_oid) {
  // pg_get_expr prints a constant with the session's output function, so
  // the read runs under the replication session's settings: a default then
  // has the one text form the stream gives the column's values (an ISO
  // 8601 interval, say), which the codec reads.
  std::string begin = "BEGIN READ ONLY";
  for (absl::string_view option :
       absl::StrSplit(kReplicationSessionOptions, "-c ", absl::SkipEmpty())) {
    const std::pair<absl::string_view, absl::string_view> setting =
        absl::StrSplit(absl::StripAsciiWhitespace(option), '=');
    absl::StrAppend(&begin, "; SET LOCAL ", setting.first, " = '",
                    setting.second, "'");
  }
  CDC_RETURN_IF_ERROR(conn.Query(begin).status());
  absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
      "SELECT a.attname, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull), "
      "pg_catalog.pg_get_expr(d.adbin, d.adrelid) "
      "FROM pg_catalog.pg_attribute a "
      "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
      "LEFT JOIN pg_catalog.pg_attrdef d "
      "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
      "ORDER BY a.attnum",
      {absl::StrCat(relation_oid)});
  // Ends the transaction whether the read failed or not.
  absl::Status ended = conn.Query(rows.ok() ? "COMMIT" : "ROLLBACK").status();
  if (!rows.ok()) return rows.status();
  CDC_RETURN_IF_ERROR(ended);
  std::vector<ColumnFacts> facts;
  facts.reserve(rows->size());
  for (SqlRow& row : *rows) {
    ColumnFacts f;
    f.name = row[0].value_or("");
    f.not_null = row[1].value_or("f") == "t";
    f.default_expr = std::move(row[2]);
    facts.push_back(std::move(f));
  }
  return facts;
}

}  // namespace cdc::pg
