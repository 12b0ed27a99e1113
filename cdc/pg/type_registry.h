// TypeRegistry: the catalog facts about PostgreSQL types that the value
// codec needs and the stream does not carry — whether a type is an array (and
// of what, split by which delimiter), a domain (over what), a composite (with
// which attributes), an enum.
//
// Pure data: filled at the edges (the built-in types once at startup, user
// types when a Relation first uses them, see catalog.h) and read by the pure
// codec, which never touches a connection. A type it does not know is not an
// error: its values travel as PostgreSQL's text form.
//
// Thread-compatible: one owner (the pipeline's reader).
#ifndef CDC_PG_TYPE_REGISTRY_H_
#define CDC_PG_TYPE_REGISTRY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "cdc/pg/pgoutput.h"

namespace cdc::pg {

// One pg_type row, reduced to what decoding needs.
struct TypeInfo {
  // pg_type.typtype.
  enum class Kind : char {
    kBase = 'b',
    kComposite = 'c',
    kDomain = 'd',
    kEnum = 'e',
    kPseudo = 'p',
    kRange = 'r',
    kMultirange = 'm',
  };
  struct Attribute {
    std::string name;
    Oid type_oid = 0;
  };

  Oid oid = 0;
  // typname in pg_catalog; "schema.typname" otherwise.
  std::string name;
  Kind kind = Kind::kBase;
  // For a true array type (one some type's typarray points at): its element
  // type; 0 otherwise. (typelem alone is not enough: name, point and the
  // int2vector family have one too but do not print as array literals.)
  Oid array_element = 0;
  // typdelim: what separates this type's values inside an array literal
  // (',' for all built-ins but box, which uses ';').
  char delimiter = ',';
  Oid domain_base = 0;                // kDomain: typbasetype
  int32_t domain_typmod = -1;         // kDomain: typtypmod (-1: none)
  std::vector<Attribute> attributes;  // kComposite: live attributes in order
  // kEnum: the labels in sort order (pg_enum.enumsortorder), when the
  // catalog reader loaded them (DebeziumJsonEncoder's `allowed`).
  std::vector<std::string> enum_labels;
};

class TypeRegistry {
 public:
  TypeRegistry() = default;

  // Adds or replaces one type.
  void Add(TypeInfo info);
  // nullptr when the type is unknown.
  const TypeInfo* Find(Oid oid) const;
  bool Contains(Oid oid) const { return types_.contains(oid); }
  size_t size() const { return types_.size(); }

  // The type a domain finally stands for (following domains over domains);
  // `oid` itself for any other type, known or not. Cycles, which the catalog
  // cannot hold, end the walk rather than loop.
  Oid ResolveDomain(Oid oid) const;

  // The type OIDs `oid` refers to that the registry does not know yet:
  // itself, its array element, domain base and attribute types,
  // transitively. What the caller should look up in the catalog.
  std::vector<Oid> Missing(Oid oid) const;

 private:
  absl::flat_hash_map<Oid, TypeInfo> types_;
};

}  // namespace cdc::pg

#endif  // CDC_PG_TYPE_REGISTRY_H_
