#include "cdc/pg/relation_cache.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cdc::pg {
namespace {

// `facts` in the order of `info`'s columns, by name.
void MatchColumnFacts(const std::vector<ColumnFacts>& facts,
                      RelationInfo* info) {
  info->column_facts.clear();
  info->column_facts.resize(info->relation.columns.size());
  for (size_t i = 0; i < info->relation.columns.size(); ++i) {
    const std::string& name = info->relation.columns[i].name;
    for (const ColumnFacts& f : facts) {
      if (f.name == name) {
        info->column_facts[i] = f;
        break;
      }
    }
    info->column_facts[i].name = name;
  }
}

std::string QualifiedTypeName(const TypeMessage& type) {
  if (type.namespace_name.empty() || type.namespace_name == "pg_catalog") {
    return type.type_name;
  }
  return absl::StrCat(type.namespace_name, ".", type.type_name);
}

}  // namespace

void RelationCache::SetBuiltinTypeNames(
    absl::flat_hash_map<Oid, std::string> names) {
  builtin_type_names_ = std::move(names);
  RefreshTypeNames();
}

void RelationCache::RefreshTypeNames() {
  // Relations applied before the names were loaded would otherwise keep
  // "oid:N" until their next Relation message.
  for (auto& [oid, info] : relations_) {
    for (size_t i = 0; i < info.relation.columns.size(); ++i) {
      info.column_type_names[i] = TypeName(info.relation.columns[i].type_oid);
    }
  }
}

uint64_t ShapeId(const RelationMessage& relation) {
  uint64_t hash = 14695981039346656037ull;
  auto mix_bytes = [&hash](const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
      hash ^= p[i];
      hash *= 1099511628211ull;
    }
  };
  // Strings end with their NUL so that ("ab","c") and ("a","bc") differ.
  auto mix_string = [&](const std::string& s) {
    mix_bytes(s.c_str(), s.size() + 1);
  };
  mix_string(relation.namespace_name);
  mix_string(relation.relation_name);
  mix_bytes(&relation.replica_identity, 1);
  for (const RelationColumn& column : relation.columns) {
    mix_string(column.name);
    mix_bytes(&column.type_oid, sizeof(column.type_oid));
    mix_bytes(&column.type_modifier, sizeof(column.type_modifier));
    mix_bytes(&column.flags, sizeof(column.flags));
  }
  return hash;
}

void RelationCache::Apply(const RelationMessage& relation) {
  RelationInfo& info = relations_[relation.relation_oid];
  ++info.shape_version;
  info.shape_id = ShapeId(relation);
  info.relation = relation;
  info.column_type_names.clear();
  info.column_type_names.reserve(relation.columns.size());
  for (const RelationColumn& column : relation.columns) {
    info.column_type_names.push_back(TypeName(column.type_oid));
  }
  info.column_facts.clear();
  if (auto it = column_facts_.find(relation.relation_oid);
      it != column_facts_.end()) {
    MatchColumnFacts(it->second, &info);
  }
}

void RelationCache::SetColumnFacts(Oid relation_oid,
                                   std::vector<ColumnFacts> facts) {
  if (auto it = relations_.find(relation_oid); it != relations_.end()) {
    MatchColumnFacts(facts, &it->second);
  }
  column_facts_[relation_oid] = std::move(facts);
}

void RelationCache::Apply(const TypeMessage& type) {
  std::string name = QualifiedTypeName(type);
  // The server sends a Type message before the first Relation that uses the
  // type, but a type can be renamed or a session can replay Relation before
  // Type after a restart; re-resolving keeps cached names current. Type
  // messages are rare, so a scan of every relation is cheap enough.
  stream_type_names_[type.type_oid] = std::move(name);
  const std::string resolved = TypeName(type.type_oid);
  for (auto& [oid, info] : relations_) {
    for (size_t i = 0; i < info.relation.columns.size(); ++i) {
      if (info.relation.columns[i].type_oid == type.type_oid) {
        info.column_type_names[i] = resolved;
      }
    }
  }
}

const RelationInfo* RelationCache::Find(Oid relation_oid) const {
  auto it = relations_.find(relation_oid);
  return it == relations_.end() ? nullptr : &it->second;
}

std::string RelationCache::TypeName(Oid type_oid) const {
  // The catalog's name first: a Type message for a domain carries its base
  // type's name (pgoutput's logicalrep_write_typ), not the domain's.
  if (const TypeInfo* info = types_.Find(type_oid); info != nullptr) {
    return info->name;
  }
  if (auto it = stream_type_names_.find(type_oid);
      it != stream_type_names_.end()) {
    return it->second;
  }
  if (auto it = builtin_type_names_.find(type_oid);
      it != builtin_type_names_.end()) {
    return it->second;
  }
  return absl::StrCat("oid:", type_oid);
}

}  // namespace cdc::pg
