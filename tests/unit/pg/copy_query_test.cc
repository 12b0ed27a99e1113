// The COPY statement of the initial and the incremental snapshot, built from
// values with a stand-in for the connection's identifier quoting.
#include "cdc/pg/copy_query.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace cdc::pg {
namespace {

std::string Quote(std::string_view name) {
  return "\"" + std::string(name) + "\"";
}

std::vector<RelationColumn> Columns() {
  std::vector<RelationColumn> columns(2);
  columns[0].name = "id";
  columns[1].name = "Name";
  return columns;
}

TEST(CopyQueryTest, WholeTableWithoutItsChildren) {
  CopySelect select;
  select.table = TableName{"public", "t"};
  select.columns = Columns();
  EXPECT_EQ(CopyQuery(select, Quote),
            "COPY (SELECT \"id\", \"Name\" FROM ONLY \"public\".\"t\") TO "
            "STDOUT");
}

TEST(CopyQueryTest, PartitionedTableThroughItsRootInKeyOrder) {
  CopySelect select;
  select.table = TableName{"app", "Orders"};
  select.partitioned = true;
  select.columns = Columns();
  select.order_by = {"id"};
  EXPECT_EQ(CopyQuery(select, Quote),
            "COPY (SELECT \"id\", \"Name\" FROM \"app\".\"Orders\" ORDER BY "
            "\"id\") TO STDOUT");
}

TEST(CopyQueryTest, ChunkAfterAKeyWithAFilterAndALimit) {
  CopySelect select{TableName{"public", "t"},
                    false,
                    Columns(),
                    {"(\"id\") > ('7')", "(amount > 0)"},
                    {"id", "Name"},
                    1024};
  EXPECT_EQ(CopyQuery(select, Quote),
            "COPY (SELECT \"id\", \"Name\" FROM ONLY \"public\".\"t\" WHERE "
            "(\"id\") > ('7') AND (amount > 0) ORDER BY \"id\", \"Name\" "
            "LIMIT 1024) TO STDOUT");
}

// The publication's row filter joins the conditions whole, so that an OR in
// it cannot loosen the others.
TEST(CopyQueryTest, PublishedRowFilterIsOneParenthesizedCondition) {
  EXPECT_EQ(PublishedRowsCondition(""), "");
  CopySelect select;
  select.table = TableName{"public", "t"};
  select.columns = Columns();
  select.conditions = {"(\"id\") > ('7')",
                       PublishedRowsCondition("(id < 100) OR (id = 500)")};
  EXPECT_EQ(CopyQuery(select, Quote),
            "COPY (SELECT \"id\", \"Name\" FROM ONLY \"public\".\"t\" WHERE "
            "(\"id\") > ('7') AND ((id < 100) OR (id = 500))) TO STDOUT");
}

}  // namespace
}  // namespace cdc::pg
