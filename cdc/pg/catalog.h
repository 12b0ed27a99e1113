// Catalog: the startup checks and setup pgcdc does on an ordinary session
// before it streams — server settings, rights, tables, the publication and
// the slot — and the catalog facts the pure decoder cannot learn from the
// stream (type facts, primary keys).
//
// Identifiers from the configuration are always quoted with
// PQescapeIdentifier or passed as query parameters; no SQL is built from
// config text unquoted.
//
// Errors: kFailedPrecondition for an environment that cannot work (wal_level,
// no REPLICATION, a publication that differs from the configuration),
// kPermissionDenied for other missing rights (each named, with the GRANT or
// statement that fixes it), kNotFound for a table that does not exist,
// kUnavailable for a lost connection.
//
// Stateless functions over a SqlConnection the caller owns.
#ifndef CDC_PG_CATALOG_H_
#define CDC_PG_CATALOG_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cdc/common/lsn.h"
#include "cdc/common/table_name.h"
#include "cdc/config/config.h"
#include "cdc/pg/connection.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/relation_cache.h"
#include "cdc/pg/type_registry.h"

namespace cdc::pg {

struct ServerInfo {
  int server_version_num = 0;  // e.g. 150004
  std::string server_version;  // e.g. "18.6", as the server names itself
  std::string database;
  int wal_sender_timeout_ms = 0;  // 0: the server never times a client out
  // The database's encoding, e.g. "UTF8"; "SQL_ASCII" means its text may
  // hold any bytes (connection.h).
  std::string server_encoding;
};

// What `check` and `run` say about a SQL_ASCII database, where the server
// converts nothing and text may be any bytes.
inline constexpr char kSqlAsciiWarning[] =
    "the database encoding is SQL_ASCII: PostgreSQL stores its text "
    "unchecked and cannot convert it, so pgcdc reads it with client_encoding "
    "SQL_ASCII, as stored, and a value may hold bytes that are not UTF-8; "
    "such a value is published in the text_bytes case (the bytes as stored) "
    "instead of text, and a table, column or type name or a logical message "
    "prefix that is not UTF-8 stops pgcdc with a data-loss error (a "
    "protobuf string cannot hold it)";

// wal_level must be logical; the role must be a superuser or have
// REPLICATION.
absl::StatusOr<ServerInfo> CheckServer(SqlConnection& conn);

struct TableInfo {
  TableName name;
  Oid oid = 0;
  std::vector<std::string> primary_key;  // column names, in key order
  char replica_identity = 'd';
  bool partitioned = false;  // a partitioned table (relkind 'p')
};

// Rights pgcdc's role needs beyond REPLICATION, as the server grants them:
// SELECT on the tables and USAGE on their schemas (snapshots read the
// tables), EXECUTE on pg_logical_emit_message (its text signature: the
// snapshot journal, incremental snapshots and heartbeats write logical
// decoding messages; on PostgreSQL 17+ the function has a fourth argument,
// flush, and is named with it). Each missing right comes with the GRANT
// that gives it.
struct MissingRight {
  std::string what;   // e.g. "SELECT on public.t"
  std::string grant;  // e.g. GRANT SELECT ON "public"."t" TO "cdc"
};
// The two signatures of pg_logical_emit_message as GRANT and REVOKE must
// name them: PostgreSQL 17 added a fourth argument (flush, with a default),
// so "pg_logical_emit_message(boolean, text, text)" names no function there.
struct EmitMessageSignatures {
  std::string text;   // the one pgcdc calls
  std::string bytea;  // the other, which PUBLIC may execute as well
};
// For a server of `server_version_num` (e.g. 180001). Pure.
EmitMessageSignatures EmitMessageSignaturesFor(int server_version_num);

struct RoleRights {
  std::string role;                // current_user
  std::vector<MissingRight> read;  // to read the tables
  std::vector<MissingRight> emit;  // to write logical decoding messages
  // PUBLIC may execute pg_logical_emit_message (PostgreSQL's default): any
  // role that can log in can write into the WAL pgcdc reads.
  bool public_can_emit = false;
  // The server's signatures, for the REVOKE and GRANT that close it.
  EmitMessageSignatures signatures = EmitMessageSignaturesFor(150000);
};
absl::StatusOr<RoleRights> ReadRoleRights(SqlConnection& conn,
                                          const std::vector<TableInfo>& tables);

// kPermissionDenied naming the rights `config` needs that `rights` lacks,
// with the GRANTs that give them: reading the tables unless snapshot.mode is
// never; writing messages when snapshot.mode makes a journaled or
// incremental snapshot (not never, not initial_only) or heartbeats are on.
// Missing rights that only incremental snapshots would need are appended to
// `warnings`, saying what will fail. Pure.
absl::Status RequireRoleRights(const RoleRights& rights,
                               const config::Config& config,
                               std::vector<std::string>* warnings);

// Looks up every configured table; kNotFound names the ones missing.
absl::StatusOr<std::vector<TableInfo>> DescribeTables(
    SqlConnection& conn, const std::vector<TableName>& tables);

// Creates the publication for exactly `tables` when it does not exist; when
// it does, kFailedPrecondition unless it covers exactly those tables (the
// message lists what is missing and what is extra, and how to fix it).
// With `via_root` (some table is partitioned) the publication must publish
// through the partition root, so that a partitioned table's changes arrive
// as the table's, not as its partitions'. Returns true when it created the
// publication.
// Creating it needs CREATE on the database and ownership of every table;
// adding tables needs ownership of the publication and of those tables.
// Either lacking is kPermissionDenied, said before anything is made or
// `before_adding` is called.
// With `dry_run`, a missing publication is not created: true says it would
// be.
//
// Tables added to the configuration: when the publication lacks some
// configured tables and has none that are not, and `before_adding` is given,
// it is called with the missing tables ("schema.table") and, if it returns
// OK, they are added (ALTER PUBLICATION ... ADD TABLE; not under dry_run,
// where `before_adding` is called all the same). pgcdc uses it to ask for a
// snapshot of them first.
absl::StatusOr<bool> EnsurePublication(
    SqlConnection& conn, const std::string& publication,
    const std::vector<TableName>& tables, bool via_root = false,
    bool dry_run = false,
    const std::function<absl::Status(const std::vector<std::string>&)>&
        before_adding = nullptr);

struct SlotInfo {
  bool exists = false;  // after EnsureSlot: always
  bool created = false;
  Lsn confirmed_flush = kInvalidLsn;
  bool active = false;
  // pg_replication_slots.wal_status is 'lost': the server removed WAL the
  // slot still needs, so it can no longer stream.
  bool lost = false;
  // pg_replication_slots.failover (PostgreSQL 17+): the slot is synchronised
  // to standbys with sync_replication_slots. nullopt on older servers.
  std::optional<bool> failover;
};

// The slot as pg_replication_slots shows it (exists == false when there is
// none); an existing slot must use pgoutput and belong to this database
// (kFailedPrecondition otherwise).
absl::StatusOr<SlotInfo> FindSlot(SqlConnection& conn, const std::string& slot);

// Creates the logical slot (plugin pgoutput) when missing, with
// failover = `failover` (PostgreSQL 17+: pg_create_logical_replication_slot's
// fifth argument; the caller checked the version, RequireFailoverSupport);
// an existing slot must use pgoutput and belong to this database, and is
// returned as it is.
absl::StatusOr<SlotInfo> EnsureSlot(SqlConnection& conn,
                                    const std::string& slot,
                                    bool failover = false);

// Turns `slot`'s failover flag on (ALTER_REPLICATION_SLOT ... ( FAILOVER
// true ), PostgreSQL 17+) on a replication connection of its own to `dsn`.
// The server waits while another session streams from the slot, so callers
// do this only while FindSlot says it is inactive.
absl::Status EnableSlotFailover(const std::string& dsn,
                                const std::string& slot);

// The first server version with failover slots (pg_replication_slots.failover,
// sync_replication_slots, ALTER_REPLICATION_SLOT).
inline constexpr int kFailoverSlotsVersion = 170000;

// kFailedPrecondition when source.slot_failover is set and the server is
// older than PostgreSQL 17, which cannot synchronise a slot to a standby:
// the slot would be lost at a failover although the configuration asks for
// it to survive. Pure.
absl::Status RequireFailoverSupport(int server_version_num,
                                    const config::Config& config);

// pg_drop_replication_slot; a slot that is already gone is not an error.
absl::Status DropSlot(SqlConnection& conn, const std::string& slot);

// pg_logical_emit_message(transactional, prefix, content): a logical
// decoding message, written to the WAL at once; a transactional one is
// decoded with its transaction, at its commit. Returns its LSN.
absl::StatusOr<Lsn> EmitLogicalMessage(SqlConnection& conn,
                                       const std::string& prefix,
                                       const std::string& content,
                                       bool transactional = false);

// A table as pgoutput describes it in its Relation message when it streams
// `publication`, and the rows it publishes, so that rows read by a snapshot
// are shaped, typed, keyed and chosen exactly as streamed ones.
//
// What the publication publishes is the server's answer, never re-derived:
// pg_publication_tables (PostgreSQL 15+) gives its column list (`attnames`)
// and row filter (`rowfilter`, pg_get_expr in this session) for the table,
// with everything the server folds into them: a column list, stored
// generated columns under publish_generated_columns = stored (18+; virtual
// ones never), a partition published through its root. Columns come in
// attnum order, each with its type OID and modifier and the key flag pgoutput
// sets (every column under REPLICA IDENTITY FULL; the primary key's under
// DEFAULT; the index's under USING INDEX; none under NOTHING). Before 18,
// generated columns are left out whatever the view lists: pgoutput never
// sends them there, and 15's view lists them all the same.
// `estimated_rows` is pg_class.reltuples (-1 when the table was never
// analyzed or vacuumed; for a partitioned table, the sum over its leaf
// partitions).
//
// The row filter was written by the table's owner into the catalog (only
// immutable built-in functions are allowed in one), not by whoever writes
// rows; a snapshot reads with it as the condition `(row_filter)`.
//
// kFailedPrecondition when the publication does not publish the table: its
// changes would not be streamed either.
struct RelationDescription {
  RelationMessage relation;
  int64_t estimated_rows = -1;
  std::string row_filter;  // empty: every row is published
};
absl::StatusOr<RelationDescription> DescribeRelation(
    SqlConnection& conn, const TableInfo& table,
    const std::string& publication);

// TypeInfo of every built-in type (oid < 16384), read once at startup.
absl::StatusOr<std::vector<TypeInfo>> LoadBuiltinTypes(SqlConnection& conn);

// TypeInfo of the given types (composites with their live attributes).
// OIDs the catalog does not hold are left out.
absl::StatusOr<std::vector<TypeInfo>> LoadTypes(SqlConnection& conn,
                                                const std::vector<Oid>& oids);

// Makes `types` current for the types in `roots` and everything they refer
// to (array elements, domain bases, attribute types), transitively: loads
// what it does not know and reloads user types (oid >= 16384), whose shape
// may have changed (ALTER TYPE ... ADD ATTRIBUTE / ADD VALUE). Built-in
// types never change and are not read again.
absl::Status RefreshTypes(SqlConnection& conn, const std::vector<Oid>& roots,
                          TypeRegistry* types);

// The NOT NULL flags and default expressions of a relation's live columns,
// as PgJDBC's getColumns gives them to Debezium: NOT NULL is attnotnull or
// a NOT NULL domain; the default is pg_get_expr(adbin, adrelid) in this
// session (its search_path decides which names are qualified). The OID is
// a parameter, so no name of the table is ever in the SQL text. A relation
// that no longer exists has no columns.
absl::StatusOr<std::vector<ColumnFacts>> ReadColumnFacts(SqlConnection& conn,
                                                         Oid relation_oid);

}  // namespace cdc::pg

#endif  // CDC_PG_CATALOG_H_
