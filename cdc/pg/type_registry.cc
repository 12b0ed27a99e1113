#include "cdc/pg/type_registry.h"

#include <utility>

#include "absl/container/flat_hash_set.h"

namespace cdc::pg {

void TypeRegistry::Add(TypeInfo info) {
  const Oid oid = info.oid;
  types_[oid] = std::move(info);
}

const TypeInfo* TypeRegistry::Find(Oid oid) const {
  auto it = types_.find(oid);
  return it == types_.end() ? nullptr : &it->second;
}

Oid TypeRegistry::ResolveDomain(Oid oid) const {
  // Domain chains are short; the bound only guards against a corrupt map.
  for (int depth = 0; depth < 64; ++depth) {
    const TypeInfo* info = Find(oid);
    if (info == nullptr || info->kind != TypeInfo::Kind::kDomain ||
        info->domain_base == 0) {
      return oid;
    }
    oid = info->domain_base;
  }
  return oid;
}

std::vector<Oid> TypeRegistry::Missing(Oid oid) const {
  std::vector<Oid> missing;
  absl::flat_hash_set<Oid> seen;
  std::vector<Oid> todo = {oid};
  while (!todo.empty()) {
    const Oid next = todo.back();
    todo.pop_back();
    if (next == 0 || !seen.insert(next).second) continue;
    const TypeInfo* info = Find(next);
    if (info == nullptr) {
      missing.push_back(next);
      continue;
    }
    todo.push_back(info->array_element);
    todo.push_back(info->domain_base);
    for (const TypeInfo::Attribute& a : info->attributes) {
      todo.push_back(a.type_oid);
    }
  }
  return missing;
}

}  // namespace cdc::pg
