// Reads Kafka topics for bench/vs_debezium.sh: when the records a consumer
// (pgcdc or Debezium) publishes have all arrived in the broker, and, from the
// records themselves, commit-to-arrival latency. Compiled by the bench with
// javac against scripts/kafka.sh's jars (kafka-clients); no other library.
//
//   base BOOTSTRAP OUT TOPIC...
//       writes "topic partition end-offset" of every partition to OUT.
//   wait BOOTSTRAP BASE N TIMEOUT_S TOPIC...
//       prints "ready", then polls the end offsets every 20 ms until the
//       topics hold N records more than BASE; then prints "count first_ms
//       last_ms": the broker timestamps of the first new record and of the
//       newest one (with message.timestamp.type=LogAppendTime, when the
//       broker appended them). Exits 1 on timeout.
//   latency BOOTSTRAP BASE TOPIC...
//       reads every record after BASE, takes the commit time from the
//       Debezium-JSON value's source block (ts_us, else ts_ms) and its
//       transaction (txId; without one, each record is its own), and prints "transactions records p50_ms p99_ms
//       max_ms timestamp_type commit_field": per transaction, the broker
//       timestamp of its last record to arrive minus its commit time.
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class TopicWatch {
  static KafkaConsumer<byte[], byte[]> bytesConsumer(String bootstrap) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("enable.auto.commit", "false");
    p.put("max.poll.records", "10000");
    p.put("fetch.max.bytes", "67108864");
    p.put("max.partition.fetch.bytes", "16777216");
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String[] topics) {
    List<TopicPartition> out = new ArrayList<>();
    for (String t : topics) {
      List<PartitionInfo> ps = c.partitionsFor(t, Duration.ofSeconds(30));
      if (ps == null) continue;
      for (PartitionInfo pi : ps) out.add(new TopicPartition(t, pi.partition()));
    }
    return out;
  }

  static Map<TopicPartition, Long> readBase(Path file) throws IOException {
    Map<TopicPartition, Long> base = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      String[] f = line.trim().split(" ");
      if (f.length == 3) base.put(new TopicPartition(f[0], Integer.parseInt(f[1])), Long.parseLong(f[2]));
    }
    return base;
  }

  // The timestamp of the record at offset `at` of partition tp.
  static long timestampAt(KafkaConsumer<byte[], byte[]> c, TopicPartition tp, long at) {
    c.assign(List.of(tp));
    c.seek(tp, at);
    long deadline = System.currentTimeMillis() + 30000;
    while (System.currentTimeMillis() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200)))
        if (r.offset() >= at) return r.timestamp();
    }
    throw new IllegalStateException("no record at " + tp + " offset " + at);
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0], bootstrap = args[1];
    try (KafkaConsumer<byte[], byte[]> c = bytesConsumer(bootstrap)) {
      switch (mode) {
        case "base": {
          String[] topics = Arrays.copyOfRange(args, 3, args.length);
          StringBuilder sb = new StringBuilder();
          for (Map.Entry<TopicPartition, Long> e : c.endOffsets(partitions(c, topics)).entrySet())
            sb.append(e.getKey().topic()).append(' ').append(e.getKey().partition()).append(' ')
                .append(e.getValue()).append('\n');
          Files.writeString(Path.of(args[2]), sb.toString());
          break;
        }
        case "wait": {
          Map<TopicPartition, Long> base = readBase(Path.of(args[2]));
          long n = Long.parseLong(args[3]);
          long deadline = System.currentTimeMillis() + 1000L * Long.parseLong(args[4]);
          List<TopicPartition> tps = partitions(c, Arrays.copyOfRange(args, 5, args.length));
          System.out.println("ready");
          System.out.flush();
          Map<TopicPartition, Long> end;
          long count;
          while (true) {
            end = c.endOffsets(tps);
            count = 0;
            for (TopicPartition tp : tps) count += end.get(tp) - base.getOrDefault(tp, 0L);
            if (count >= n) break;
            if (System.currentTimeMillis() > deadline) {
              System.out.println("timeout " + count);
              System.exit(1);
            }
            Thread.sleep(20);
          }
          long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
          for (TopicPartition tp : tps) {
            long b = base.getOrDefault(tp, 0L), e = end.get(tp);
            if (e <= b) continue;
            first = Math.min(first, timestampAt(c, tp, b));
            last = Math.max(last, timestampAt(c, tp, e - 1));
          }
          System.out.println(count + " " + first + " " + last);
          break;
        }
        case "latency": {
          Map<TopicPartition, Long> base = readBase(Path.of(args[2]));
          List<TopicPartition> tps = partitions(c, Arrays.copyOfRange(args, 3, args.length));
          Map<TopicPartition, Long> end = c.endOffsets(tps);
          c.assign(tps);
          long remaining = 0;
          for (TopicPartition tp : tps) {
            long b = base.getOrDefault(tp, 0L);
            c.seek(tp, b);
            remaining += end.get(tp) - b;
          }
          Map<Long, long[]> txns = new HashMap<>(); // txId -> {commit us, last arrival ms}
          long records = 0;
          String type = "?", field = "?";
          long idle = System.currentTimeMillis() + 60000;
          while (remaining > 0 && System.currentTimeMillis() < idle) {
            ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(500));
            for (ConsumerRecord<byte[], byte[]> r : rs) {
              TopicPartition tp = new TopicPartition(r.topic(), r.partition());
              if (r.offset() >= end.get(tp)) continue;
              remaining--;
              if (r.value() == null) continue; // a tombstone
              String v = new String(r.value(), java.nio.charset.StandardCharsets.UTF_8);
              int s = v.indexOf("\"source\":{", Math.max(0, v.indexOf("\"payload\":")));
              if (s < 0) continue;
              long commitUs;
              long us = number(v, "\"ts_us\":", s);
              if (us >= 0) {
                commitUs = us;
                field = "source.ts_us";
              } else {
                commitUs = number(v, "\"ts_ms\":", s) * 1000;
                field = "source.ts_ms";
              }
              long tx = number(v, "\"txId\":", s);
              if (tx < 0) tx = -1 - records; // no transaction id: per record
              long[] t = txns.computeIfAbsent(tx, k -> new long[] {commitUs, Long.MIN_VALUE});
              t[1] = Math.max(t[1], r.timestamp());
              type = r.timestampType().toString();
              records++;
            }
            if (!rs.isEmpty()) idle = System.currentTimeMillis() + 60000;
          }
          double[] lat = new double[txns.size()];
          int i = 0;
          for (long[] t : txns.values()) lat[i++] = t[1] - t[0] / 1000.0;
          Arrays.sort(lat);
          System.out.printf("%d %d %.1f %.1f %.1f %s %s%n", lat.length, records, quantile(lat, 0.5),
              quantile(lat, 0.99), lat.length == 0 ? Double.NaN : lat[lat.length - 1], type, field);
          break;
        }
        default:
          throw new IllegalArgumentException("mode: base, wait or latency");
      }
    }
  }

  // The non-negative integer after `key`, searched from `from`; -1 if none
  // (or null).
  static long number(String v, String key, int from) {
    int k = v.indexOf(key, from);
    if (k < 0) return -1;
    int i = k + key.length(), j = i;
    while (j < v.length() && Character.isDigit(v.charAt(j))) j++;
    return j == i ? -1 : Long.parseLong(v.substring(i, j));
  }

  // Nearest rank, as a histogram's bucket bound would give at 1 ms.
  static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) return Double.NaN;
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
