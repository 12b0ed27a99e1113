// RelationCache: what the stream has told us about tables and types.
//
// pgoutput sends a Relation message before the first change to a table in a
// session and again whenever its shape changes, and a Type message for each
// non-built-in type a column uses. Changes carry only the relation's OID, so
// decoding them needs this cache. It is pure: it learns only from messages
// and from the type facts the caller loads from the catalog (the built-in
// types once at startup, user types when a Relation first uses them) into
// its TypeRegistry.
//
// Each Relation message for an OID bumps that table's shape version, so an
// event can say which shape it was made with.
//
// Thread-compatible: one owner (the pipeline's reader).
#ifndef CDC_PG_RELATION_CACHE_H_
#define CDC_PG_RELATION_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cdc/pg/pgoutput.h"
#include "cdc/pg/type_registry.h"

namespace cdc::pg {

// A column's facts that pgoutput does not send, as the catalog has them
// (pg_attribute, pg_attrdef): the caller reads them when a Relation message
// arrives, only for a format that writes them (debezium-json).
struct ColumnFacts {
  std::string name;
  // attnotnull, or a domain type declared NOT NULL (PgJDBC's getColumns
  // NULLABLE, which Debezium reads).
  bool not_null = false;
  // pg_get_expr(adbin, adrelid): the default as the server deparses it.
  std::optional<std::string> default_expr;
};

struct RelationInfo {
  RelationMessage relation;
  uint32_t shape_version = 0;  // 1 for the first Relation seen for the OID
  // A fingerprint of the shape (names, column names, types, type modifiers,
  // key flags, replica identity): equal shapes have equal ids, in any
  // session, so unlike shape_version it survives restarts.
  uint64_t shape_id = 0;
  std::vector<std::string> column_type_names;  // parallel to columns
  // Parallel to columns, matched by name, when the caller has given the
  // relation's facts (SetColumnFacts); else empty. A column the facts lack
  // (added after they were read) is nullable, without a default.
  std::vector<ColumnFacts> column_facts;
};

// The fingerprint RelationInfo::shape_id holds (64-bit FNV-1a).
uint64_t ShapeId(const RelationMessage& relation);

class RelationCache {
 public:
  RelationCache() = default;

  // OID → typname for built-in types (pg_type where oid < 16384), read from
  // the catalog once at startup. Unknown OIDs fall back to their number.
  void SetBuiltinTypeNames(absl::flat_hash_map<Oid, std::string> names);

  // The type facts the codec reads. After adding to them, call
  // RefreshTypeNames so that cached column type names follow.
  const TypeRegistry& types() const { return types_; }
  TypeRegistry* mutable_types() { return &types_; }
  void RefreshTypeNames();

  void Apply(const RelationMessage& relation);
  void Apply(const TypeMessage& type);

  // The catalog's column facts of a relation, kept by OID (a copy of the
  // cache keeps them too) and matched to the columns of its Relation
  // messages, this one and later ones, by name. Read them again after
  // each Relation message: a schema change may have changed them.
  void SetColumnFacts(Oid relation_oid, std::vector<ColumnFacts> facts);

  // nullptr when no Relation message has been seen for the OID.
  const RelationInfo* Find(Oid relation_oid) const;

  // typname in pg_catalog; "schema.typname" otherwise; "oid:N" if unknown.
  // The registry's name wins over a Type message's, which for a domain is
  // its base type's name; a Type message's wins over the startup names.
  std::string TypeName(Oid type_oid) const;

 private:
  TypeRegistry types_;
  absl::flat_hash_map<Oid, std::string> builtin_type_names_;
  absl::flat_hash_map<Oid, std::string> stream_type_names_;
  absl::flat_hash_map<Oid, RelationInfo> relations_;
  absl::flat_hash_map<Oid, std::vector<ColumnFacts>> column_facts_;
};

}  // namespace cdc::pg

#endif  // CDC_PG_RELATION_CACHE_H_
