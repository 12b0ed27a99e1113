#include "tests/integration/harness/three_tables.h"

#include "absl/strings/str_cat.h"

namespace cdc::testing {

// Bounded values, unlike RandomAccountsChange's doubling, which overflows in
// a long load.
std::string AccountsChange(std::mt19937& rng, int i) {
  const int id = static_cast<int>(rng() % 200);
  switch (rng() % 3) {
    case 0:
      return absl::StrCat("INSERT INTO accounts VALUES (", id, ", ", i, ", 'n",
                          i,
                          "') ON CONFLICT (id) DO UPDATE SET balance = "
                          "accounts.balance % 1000 + 1, note = EXCLUDED.note");
    case 1:
      return absl::StrCat("UPDATE accounts SET balance = balance % 1000 + ", i,
                          " WHERE id BETWEEN ", id, " AND ", id + 10);
    default:
      return absl::StrCat("DELETE FROM accounts WHERE id = ", id);
  }
}

std::string OrdersChange(std::mt19937& rng, int i) {
  const int id = static_cast<int>(rng() % 200);
  switch (rng() % 3) {
    case 0:
      return absl::StrCat(
          "INSERT INTO orders VALUES (", id, ", ", id % 20, ", ", i,
          ".25, 'new', timestamptz '2024-01-01 00:00:00+00' + interval "
          "'1 second' * ",
          i,
          ") ON CONFLICT (id) DO UPDATE SET status = 'amended', amount = "
          "orders.amount % 1000 + 1");
    case 1:
      return absl::StrCat("UPDATE orders SET status = 'shipped-", i,
                          "' WHERE account = ", id % 20);
    default:
      return absl::StrCat("DELETE FROM orders WHERE id BETWEEN ", id, " AND ",
                          id + 2);
  }
}

// Its updates also move keys (published as DELETE + CREATE).
std::string ItemsChange(std::mt19937& rng, int i) {
  const int id = static_cast<int>(rng() % 150);
  switch (rng() % 3) {
    case 0:
      return absl::StrCat(
          "INSERT INTO items VALUES (", id, ", ARRAY['a', NULL, 't", i, "'], ",
          i % 2 == 0 ? "true" : "false", ", decode(md5('", i,
          "'), 'hex')) ON CONFLICT (id) DO UPDATE SET flag = "
          "NOT items.flag, tags = EXCLUDED.tags || 'again'::text");
    case 1:
      return absl::StrCat(
          "UPDATE items SET id = (id + 37) % 150 WHERE id = ", id,
          " AND NOT EXISTS (SELECT 1 FROM items WHERE id = ", (id + 37) % 150,
          ")");
    default:
      return absl::StrCat("DELETE FROM items WHERE id = ", id);
  }
}

std::string ThreeTablesChange(std::mt19937& rng, int i) {
  switch (rng() % 5) {
    case 0:
      return AccountsChange(rng, i);
    case 1:
      return OrdersChange(rng, i);
    case 2:
      return ItemsChange(rng, i);
    default:
      return absl::StrCat("BEGIN; ", AccountsChange(rng, i), "; ",
                          OrdersChange(rng, i), "; ", ItemsChange(rng, i),
                          "; COMMIT");
  }
}

}  // namespace cdc::testing
