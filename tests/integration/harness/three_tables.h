// A mixed load on three tables of different shapes (accounts, orders,
// items): upserts, range updates, deletes, key-moving updates and
// transactions over all three, with bounded values so that a load may run as
// long as a test needs. Statement generators for Load (load.h); stateless,
// so thread-safe.
#ifndef TESTS_INTEGRATION_HARNESS_THREE_TABLES_H_
#define TESTS_INTEGRATION_HARNESS_THREE_TABLES_H_

#include <random>
#include <string>

namespace cdc::testing {

inline constexpr char kAccounts[] =
    "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint, note text)";
// The two tables beside accounts.
inline constexpr char kOrdersAndItems[] =
    "CREATE TABLE orders (id int PRIMARY KEY, account int NOT NULL, "
    "amount numeric(12,2), status text, placed timestamptz); "
    "CREATE TABLE items (id int PRIMARY KEY, tags text[], flag bool, "
    "digest bytea)";

// Upserts, range updates and deletes of accounts (ids below 200).
std::string AccountsChange(std::mt19937& rng, int i);
// Upserts, updates of one account's orders and range deletes.
std::string OrdersChange(std::mt19937& rng, int i);
// Upserts, updates that move a key (published as DELETE + CREATE), deletes.
std::string ItemsChange(std::mt19937& rng, int i);
// One change to one of the three tables, or a transaction over all three
// (whose events go to three topics and must all be acknowledged before its
// commit is confirmed).
std::string ThreeTablesChange(std::mt19937& rng, int i);

}  // namespace cdc::testing

#endif  // TESTS_INTEGRATION_HARNESS_THREE_TABLES_H_
