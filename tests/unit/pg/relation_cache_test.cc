#include "cdc/pg/relation_cache.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace cdc::pg {
namespace {

RelationMessage Relation(Oid oid, std::vector<Oid> type_oids) {
  RelationMessage relation;
  relation.relation_oid = oid;
  relation.namespace_name = "public";
  relation.relation_name = "t";
  for (size_t i = 0; i < type_oids.size(); ++i) {
    RelationColumn column;
    column.name = "c" + std::to_string(i);
    column.type_oid = type_oids[i];
    relation.columns.push_back(column);
  }
  return relation;
}

TypeMessage Type(Oid oid, std::string ns, std::string name) {
  TypeMessage type;
  type.type_oid = oid;
  type.namespace_name = std::move(ns);
  type.type_name = std::move(name);
  return type;
}

TEST(RelationCacheTest, FindUnknownIsNull) {
  RelationCache cache;
  EXPECT_EQ(cache.Find(42), nullptr);
}

TEST(RelationCacheTest, ShapeVersionCountsRelationMessagesPerOid) {
  RelationCache cache;
  cache.Apply(Relation(100, {23}));
  ASSERT_NE(cache.Find(100), nullptr);
  EXPECT_EQ(cache.Find(100)->shape_version, 1u);

  cache.Apply(Relation(100, {23, 25}));
  EXPECT_EQ(cache.Find(100)->shape_version, 2u);
  EXPECT_EQ(cache.Find(100)->relation.columns.size(), 2u);
  EXPECT_EQ(cache.Find(100)->column_type_names.size(), 2u);

  cache.Apply(Relation(200, {23}));
  EXPECT_EQ(cache.Find(200)->shape_version, 1u);
  EXPECT_EQ(cache.Find(100)->shape_version, 2u);
}

TEST(RelationCacheTest, ColumnFactsFollowTheColumnsByName) {
  RelationCache cache;
  cache.Apply(Relation(100, {23}));
  EXPECT_TRUE(cache.Find(100)->column_facts.empty());  // none given

  // The catalog's order and columns need not be the Relation's: a
  // publication's column list or a generated column leaves some out.
  cache.SetColumnFacts(100, {{"gone", true, "1"},
                             {"c0", true, std::string("42")},
                             {"c1", false, std::nullopt}});
  const std::vector<ColumnFacts>* facts = &cache.Find(100)->column_facts;
  ASSERT_EQ(facts->size(), 1u);
  EXPECT_TRUE((*facts)[0].not_null);
  EXPECT_EQ((*facts)[0].default_expr, "42");

  // A later Relation message (a column added) is matched again; a column
  // the facts lack is nullable, without a default.
  cache.Apply(Relation(100, {23, 25, 16}));
  facts = &cache.Find(100)->column_facts;
  ASSERT_EQ(facts->size(), 3u);
  EXPECT_TRUE((*facts)[0].not_null);
  EXPECT_FALSE((*facts)[1].not_null);
  EXPECT_EQ((*facts)[2].name, "c2");
  EXPECT_FALSE((*facts)[2].not_null);
  EXPECT_EQ((*facts)[2].default_expr, std::nullopt);

  // A copy of the cache keeps them for a relation it has not seen yet
  // (an incremental snapshot's chunk builder).
  cache.SetColumnFacts(200, {{"c0", true, std::nullopt}});
  RelationCache copy = cache;
  copy.Apply(Relation(200, {23}));
  ASSERT_EQ(copy.Find(200)->column_facts.size(), 1u);
  EXPECT_TRUE(copy.Find(200)->column_facts[0].not_null);
}

TEST(RelationCacheTest, TypeNameOrder) {
  RelationCache cache;
  cache.SetBuiltinTypeNames({{23, "int4"}, {25, "text"}});
  EXPECT_EQ(cache.TypeName(23), "int4");
  EXPECT_EQ(cache.TypeName(99999), "oid:99999");

  cache.Apply(Type(99999, "public", "mood"));
  EXPECT_EQ(cache.TypeName(99999), "public.mood");
  cache.Apply(Type(88888, "pg_catalog", "weird"));
  EXPECT_EQ(cache.TypeName(88888), "weird");
  cache.Apply(Type(77777, "", "bare"));
  EXPECT_EQ(cache.TypeName(77777), "bare");
  // A stream Type message wins over the builtin table.
  cache.Apply(Type(25, "my schema", "text"));
  EXPECT_EQ(cache.TypeName(25), "my schema.text");
}

TEST(RelationCacheTest, ColumnTypeNamesResolvedAtApply) {
  RelationCache cache;
  cache.SetBuiltinTypeNames({{23, "int4"}});
  cache.Apply(Type(99999, "public", "mood"));
  cache.Apply(Relation(100, {23, 99999, 12345}));
  const RelationInfo* info = cache.Find(100);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->column_type_names,
            (std::vector<std::string>{"int4", "public.mood", "oid:12345"}));
}

TEST(RelationCacheTest, LateTypeMessageRefreshesCachedRelations) {
  RelationCache cache;
  cache.Apply(Relation(100, {99999, 23, 99999}));
  cache.Apply(Relation(200, {99999}));
  EXPECT_EQ(cache.Find(100)->column_type_names[0], "oid:99999");

  cache.Apply(Type(99999, "public", "mood"));
  EXPECT_EQ(cache.Find(100)->column_type_names,
            (std::vector<std::string>{"public.mood", "oid:23", "public.mood"}));
  EXPECT_EQ(cache.Find(200)->column_type_names[0], "public.mood");
  // Types are not shapes: no version bump.
  EXPECT_EQ(cache.Find(100)->shape_version, 1u);
}

TEST(RelationCacheTest, LateBuiltinNamesRefreshCachedRelations) {
  RelationCache cache;
  cache.Apply(Relation(100, {23}));
  cache.SetBuiltinTypeNames({{23, "int4"}});
  EXPECT_EQ(cache.Find(100)->column_type_names[0], "int4");
}

}  // namespace
}  // namespace cdc::pg

namespace cdc::pg {
namespace {

// pgoutput's Type message for a domain carries the base type's name; the
// catalog's (registry's) name is the domain's and must win.
TEST(RelationCacheTest, RegistryNameWinsOverTypeMessage) {
  RelationCache cache;
  TypeMessage type;
  type.type_oid = 30000;
  type.namespace_name = "pg_catalog";
  type.type_name = "numeric";
  cache.Apply(type);
  RelationMessage relation;
  relation.relation_oid = 1;
  relation.columns.push_back(RelationColumn{});
  relation.columns[0].type_oid = 30000;
  cache.Apply(relation);
  EXPECT_EQ(cache.Find(1)->column_type_names[0], "numeric");
  TypeInfo domain;
  domain.oid = 30000;
  domain.name = "public.price";
  domain.kind = TypeInfo::Kind::kDomain;
  domain.domain_base = 1700;
  cache.mutable_types()->Add(domain);
  cache.RefreshTypeNames();
  EXPECT_EQ(cache.Find(1)->column_type_names[0], "public.price");
  cache.Apply(type);  // a later Type message does not undo it
  EXPECT_EQ(cache.Find(1)->column_type_names[0], "public.price");
}

TEST(RelationCacheTest, ShapeIdFollowsTheShapeNotTheSession) {
  RelationMessage relation = Relation(16400, {23, 25});
  const uint64_t id = ShapeId(relation);
  EXPECT_NE(id, 0u);
  EXPECT_EQ(ShapeId(Relation(16400, {23, 25})), id) << "same shape, same id";
  RelationCache cache;
  cache.Apply(relation);
  cache.Apply(relation);
  EXPECT_EQ(cache.Find(16400)->shape_id, id);
  EXPECT_EQ(cache.Find(16400)->shape_version, 2u);

  RelationMessage added = relation;
  added.columns.push_back(added.columns.back());
  added.columns.back().name = "extra";
  RelationMessage renamed = relation;
  renamed.columns[1].name = "renamed";
  RelationMessage retyped = relation;
  retyped.columns[0].type_oid = 20;
  RelationMessage typmod = relation;
  typmod.columns[1].type_modifier = 68;
  RelationMessage identity = relation;
  identity.replica_identity = 'f';
  RelationMessage key = relation;
  key.columns[1].flags = 1;
  for (const RelationMessage* changed :
       {&added, &renamed, &retyped, &typmod, &identity, &key}) {
    EXPECT_NE(ShapeId(*changed), id);
  }
}

}  // namespace
}  // namespace cdc::pg
