// DebeziumTransaction: the state of Debezium's transaction metadata
// (provide.transaction.metadata) for one connector: the transaction in
// progress, the number of its events, and its events per data collection,
// as io.debezium.pipeline.txmetadata.TransactionContext keeps them (at tag
// v3.6.1.Final of debezium/debezium).
//
// Debezium lists a transaction's data collections in its END record in the
// iteration order of the java.util.HashMap<String, Long> that counted them.
// Consumers may read that list in order, so InHashMapOrder() gives the same
// order: by bucket (String.hashCode() spread as HashMap.hash() does, over
// the table size HashMap grows to for that many keys), and within a bucket
// in insertion order, which HashMap's resize keeps. A bucket of 8 or more
// keys (where HashMap turns it into a tree or grows early) is not copied:
// for names that collide that much, the order within such a bucket stays
// insertion order.
//
// A logical message is counted under a collection of its own, as Debezium's
// LogicalDecodingMessageMonitor does (a new LogicalDecodingMessageId per
// message, which no other key equals): Debezium names it by Java's identity
// hash, a value no one can reproduce; pgcdc names it kMessageCollection and
// lists these after the tables.
//
// Pure; thread-compatible.
#ifndef CDC_ENVELOPE_DEBEZIUM_TRANSACTION_H_
#define CDC_ENVELOPE_DEBEZIUM_TRANSACTION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdc::envelope {

class DebeziumTransaction {
 public:
  // What a logical message's own data collection is called
  // (LogicalDecodingMessageId.identifier()).
  static constexpr std::string_view kMessageCollection =
      "LOGICAL_DECODING_MESSAGE";

  // Starts transaction `id` (Debezium's: the xid in decimal), forgetting
  // the counts of any before it.
  void Begin(std::string id);
  // Forgets the transaction in progress.
  void End();
  bool in_progress() const { return in_progress_; }
  const std::string& id() const { return id_; }

  // Counts one event of `collection` ("schema.table") and returns its
  // data_collection_order: its index among that collection's events, from 1.
  int64_t Count(std::string_view collection);
  // Counts one logical message, in a collection of its own: 1.
  int64_t CountMessage();
  // The transaction's events so far (total_order of the last one).
  int64_t total() const { return total_; }

  // The data collections and their event counts, in the order Debezium's
  // END record lists them (see above).
  std::vector<std::pair<std::string_view, int64_t>> InHashMapOrder() const;

  // java.lang.String.hashCode() of `utf8` (over its UTF-16 code units).
  static int32_t JavaHashCode(std::string_view utf8);

 private:
  bool in_progress_ = false;
  std::string id_;
  int64_t total_ = 0;
  // In the order first counted.
  std::vector<std::pair<std::string, int64_t>> collections_;
  int64_t messages_ = 0;
};

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_DEBEZIUM_TRANSACTION_H_
