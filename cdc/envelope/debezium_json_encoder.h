// DebeziumJsonEncoder: the `debezium-json` output format. It writes each
// event's key and value as Debezium 3.6.1.Final's PostgreSQL connector writes
// them through Kafka Connect's JsonConverter (compact JSON, fields in schema
// order, `{"schema":…,"payload":…}` unless schemas are off), so that a
// consumer written for Debezium (Flink's debezium-json, Debezium's JDBC sink,
// …) reads pgcdc's topics unchanged.
//
// What it copies, with the Debezium file each rule is read from (all at tag
// v3.6.1.Final of debezium/debezium, and apache/kafka's JsonConverter.java
// and Values.java):
//   - the value envelope `<prefix>.<schema>.<table>.Envelope` version 2:
//     before, after, source, transaction, op, ts_ms, ts_us, ts_ns
//     (Envelope.java, SchemaFactory.java);
//   - with provide.transaction.metadata, the `transaction` block of each
//     streamed event and a BEGIN and an END record per transaction on the
//     transaction topic (TransactionMonitor.java,
//     AbstractTransactionStructMaker.java; see debezium_transaction.h);
//   - skipped.operations: events of a skipped op are not written (and not
//     counted in their transaction, as EventDispatcher does not);
//   - the source block io.debezium.connector.postgresql.Source
//     (PostgresSourceInfoStructMaker.java, AbstractSourceInfoStructMaker.java,
//     SourceInfo.java: sequence = [lastCommitLsn, lsn], see TxnContext);
//   - the key struct `<…>.Key` of the key columns (TableSchemaBuilder.java);
//   - a tombstone after each DELETE and the key-change headers
//     __debezium.newkey / __debezium.oldkey written as Kafka's
//     SimpleHeaderConverter writes a Struct (RelationalChangeRecordEmitter,
//     Values.convertToString);
//   - truncate `t` and logical message `m` events
//     (LogicalDecodingMessageMonitor.java, PostgresSchemaFactory.java);
//   - every column type as PostgresValueConverter.java maps it under the
//     options below (see the .cc for each).
//
// What it does not do (see the .cc's "Known differences"): generated columns
// where pgoutput does not send them, hstore.handling.mode=map, PostGIS and
// pgvector types; where
// Debezium writes garbage (multi-dimensional arrays, say) pgcdc writes the
// value.
//
// Source positions: source.lsn is the event's LSN; source.sequence is
// [TxnContext::last_commit_lsn, lsn] (a non-transactional message is its own
// last commit); source.txId is the xid, null for 0 and for an incremental
// snapshot's rows; source.ts_ms/ts_us/ts_ns the transaction's commit time.
//
// Columns: a column's schema is optional unless TableShape::not_null says
// otherwise (without it: key columns required, the rest optional); its
// default appears in the schema when TableShape::default_expr has one that
// Debezium reads (debezium_default.h).
// Enum columns list their labels (parameter `allowed`) when the TypeRegistry
// has them (pg::TypeInfo::enum_labels), else an empty list.
//
// Ownership: it borrows a TypeRegistry (domains, arrays, enums), which must
// outlive it; nullptr means built-in types only. Per table shape it keeps in
// EncoderTableState the schema JSON and the columns' writers, so that a row
// event only writes values.
//
// Thread-compatible: one owner (its EnvelopeBuilder).
#ifndef CDC_ENVELOPE_DEBEZIUM_JSON_ENCODER_H_
#define CDC_ENVELOPE_DEBEZIUM_JSON_ENCODER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "cdc/envelope/debezium_transaction.h"
#include "cdc/envelope/encoder.h"
#include "cdc/pg/type_registry.h"

namespace cdc::envelope {

// Debezium's connector and converter settings that change what is written,
// under Debezium's names, with its defaults.
struct DebeziumJsonOptions {
  // topic.prefix: source.name, and the schema names' prefix.
  std::string topic_prefix;
  // converter's schemas.enable: {"schema":…,"payload":…}, or the payload.
  bool schemas_enable = true;
  // decimal.handling.mode (numeric and money).
  enum class DecimalMode { kPrecise, kDouble, kString };
  DecimalMode decimal_mode = DecimalMode::kPrecise;
  // time.precision.mode.
  enum class TimePrecision { kAdaptive, kAdaptiveTimeMicroseconds, kConnect };
  TimePrecision time_precision = TimePrecision::kAdaptive;
  // binary.handling.mode (bytea, and logical message content).
  enum class BinaryMode { kBytes, kBase64, kBase64UrlSafe, kHex };
  BinaryMode binary_mode = BinaryMode::kBytes;
  // tombstones.on.delete.
  bool tombstones_on_delete = true;
  // unavailable.value.placeholder: what an unchanged TOASTed value becomes.
  std::string unavailable_value_placeholder = "__debezium_unavailable_value";
  // money.fraction.digits: the scale of money as a Decimal.
  int money_fraction_digits = 2;
  // extended.headers.enabled (Debezium 3.3+): every change record (not a
  // logical message) carries __debezium.context.connectorLogicalName (the
  // topic prefix), .taskId ("0"), .connectorName ("postgresql") and .runId
  // (`run_id`, one per run).
  bool context_headers = true;
  std::string run_id;
  // source.version: the Debezium version pgcdc stands in for (consumers
  // may check it), not pgcdc's.
  std::string version = "3.6.1.Final";
  // skipped.operations: the ops whose events are not written, of 'c', 'u',
  // 'd' and 't'.
  std::string skipped_operations = "t";
  // provide.transaction.metadata, and the topic of the BEGIN and END
  // records (Debezium's `<topic.prefix>.transaction`).
  bool provide_transaction_metadata = false;
  std::string transaction_topic;
};

class DebeziumJsonEncoder : public Encoder {
 public:
  // `source.db` is source.db; the rest of SourceInfo is not written.
  DebeziumJsonEncoder(SourceInfo source, DebeziumJsonOptions options,
                      const pg::TypeRegistry* types = nullptr);

  absl::Status EncodeRow(const RowEvent& event, RecordWriter* out) override;
  absl::Status EncodeTruncate(const TruncateEvent& event,
                              RecordWriter* out) override;
  absl::Status EncodeMessage(const MessageEvent& event,
                             RecordWriter* out) override;
  absl::Status BeginTransaction(const TxnContext& txn, Lsn lsn,
                                RecordWriter* out) override;
  absl::Status EndTransaction(const TxnContext& txn, Lsn lsn,
                              RecordWriter* out) override;

  const DebeziumJsonOptions& options() const { return options_; }

 private:
  friend class DebeziumJsonEncoderImpl;

  // Whether `op`'s events are left out (skipped.operations).
  bool Skips(v1::Op op) const;
  // A boundary record of the transaction in progress (BEGIN or END).
  void AppendBoundary(bool begin, const TxnContext& txn, Lsn lsn,
                      RecordWriter* out);
  // PostgresTransactionMonitor.adjustTxId: "<xid>:<lsn>", the LSN being
  // the position of the message at hand (the offset's lastSeenLsn).
  void AppendTransactionId(Lsn lsn, std::string* out) const;
  // The event's `transaction` block, counting the event in its transaction
  // (a row's or truncate's under its table, a logical message under one of
  // its own), or "null" outside of one.
  std::string_view TransactionBlock(const Event& event, bool message);

  SourceInfo source_;
  // The transaction in progress, with provide.transaction.metadata.
  DebeziumTransaction transaction_;
  std::string transaction_block_;
  std::string collection_;
  // The context headers, made once.
  std::vector<Header> context_headers_;
  DebeziumJsonOptions options_;
  const pg::TypeRegistry* types_;
  // The source block's schema JSON, the same for every event.
  std::string source_schema_;
  // The source block's constant parts: up to ts_ms's value, and from the
  // snapshot value's closing quote to the sequence's opening bracket.
  std::string source_head_;
  std::string source_db_;
  // Scratch, kept to reuse their memory: the key as header text, a
  // decimal's digits and bytes, a partial image's values by column.
  std::string header_;
  std::string digits_;
  std::string bytes_;
  std::vector<const v1::Value*> slots_;
};

}  // namespace cdc::envelope

#endif  // CDC_ENVELOPE_DEBEZIUM_JSON_ENCODER_H_
