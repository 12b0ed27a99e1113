// DebeziumCapture: runs the real Debezium PostgreSQL connector through its
// embedded engine and writes every record it emits, converted as Kafka
// Connect's default worker converts them, one JSON line per record. The
// reference that pgcdc's debezium-json format is compared with (issue 17).
//
//   java -cp "$(scripts/debezium.sh jars)/*" tests/debezium/DebeziumCapture.java \
//       --props FILE --out FILE [--stop-topic T] [--idle-ms N] [--timeout-ms N]
//
// FILE holds the engine's and the connector's properties (connector.class,
// database.*, plugin.name, slot.name, publication.name, topic.prefix,
// snapshot.mode, offset.storage*, converter.schemas.enable, ...): the caller
// chooses every setting. Each output line is
//   {"topic": T, "key": K, "value": V, "headers": [[name, value], ...]}
// with K and V the JSON text JsonConverter wrote (a JSON string holding it)
// or null, and header values the text SimpleHeaderConverter wrote (or null),
// flushed line by line.
//
// Prints READY on stdout once the task polls (the connector has connected
// and is about to snapshot or stream). With --stop-topic it ends once a
// record of that topic was written and then --idle-ms (default 1000) passed
// without another record; without it, once --idle-ms passed without a record
// after READY. It closes the engine (which flushes offsets, confirming the
// slot) and exits 0; 1 when the engine failed or --timeout-ms (default
// 300000) passed first; 2 on bad arguments. SIGTERM closes the engine too.
//
// Threads: the engine calls the consumer on its own threads, one batch at a
// time; `out` and the timestamps below are shared with main through the
// monitor of the class's lock.
import io.debezium.embedded.ClientProvided;
import io.debezium.embedded.EmbeddedEngineChangeEvent;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import io.debezium.engine.format.KeyValueHeaderChangeEventFormat;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;

public class DebeziumCapture {
  private static final Object lock = new Object();
  private static final ObjectMapper mapper = new ObjectMapper();
  // Kafka Connect's worker default `header.converter` (WorkerConfig's
  // HEADER_CONVERTER_CLASS_DEFAULT is SimpleHeaderConverter), which is what a
  // consumer of a Debezium topic sees by default. Stateless (configure does
  // nothing), so one instance serves every thread.
  private static final SimpleHeaderConverter connectHeaderConverter = new SimpleHeaderConverter();

  private static Writer out;
  private static boolean ready;
  private static long lastRecordNanos;
  private static long stopSeenNanos = -1;
  private static boolean done;
  private static String failure;
  private static long written;
  private static boolean signalled;
  private static boolean finished;

  public static void main(String[] args) throws Exception {
    String propsPath = null, outPath = null, stopTopic = null;
    long idleMs = 1000, timeoutMs = 300000;
    for (int i = 0; i < args.length; ++i) {
      String a = args[i];
      if (i + 1 >= args.length) usage("missing value after " + a);
      switch (a) {
        case "--props": propsPath = args[++i]; break;
        case "--out": outPath = args[++i]; break;
        case "--stop-topic": stopTopic = args[++i]; break;
        case "--idle-ms": idleMs = Long.parseLong(args[++i]); break;
        case "--timeout-ms": timeoutMs = Long.parseLong(args[++i]); break;
        default: usage("unknown argument " + a);
      }
    }
    if (propsPath == null || outPath == null) usage("--props and --out are required");

    Properties props = new Properties();
    try (InputStreamReader r = new InputStreamReader(new FileInputStream(propsPath), StandardCharsets.UTF_8)) {
      props.load(r);
    }
    props.putIfAbsent("name", "pgcdc-debezium-capture");
    // Headers through the engine's header converter, set to Connect's
    // default. Debezium's ConverterBuilder (debezium-embedded, v3.6.1.Final)
    // gives no headers at all for DebeziumEngine.create(Json.class) (its
    // header format is null), and for a Json header format defaults
    // `header.converter.class` to JsonConverter, whose output (with
    // `converter.schemas.enable` merged in: {"schema":...,"payload":...})
    // is not what Kafka Connect writes. The ClientProvided header format
    // takes the class from `header.converter.class`.
    props.putIfAbsent("header.converter.class", SimpleHeaderConverter.class.getName());

    out = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(outPath), StandardCharsets.UTF_8));
    final String stop = stopTopic;

    DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine
        .create(KeyValueHeaderChangeEventFormat.of(Json.class, Json.class, ClientProvided.class))
        .using(props)
        .using(new DebeziumEngine.ConnectorCallback() {
          @Override
          public void pollingStarted() {
            synchronized (lock) {
              ready = true;
              lastRecordNanos = System.nanoTime();
              lock.notifyAll();
            }
            // One write, so that a line-by-line reader of a log that also
            // takes stderr sees it whole.
            System.out.print("READY\n");
            System.out.flush();
          }
        })
        .using((success, message, error) -> {
          synchronized (lock) {
            done = true;
            if (!success && failure == null) {
              failure = message + (error != null ? ": " + error : "");
            }
            lock.notifyAll();
          }
        })
        .notifying((records, committer) -> {
          for (ChangeEvent<String, String> r : records) {
            synchronized (lock) {
              try {
                out.write(toLine(r));
                out.write('\n');
                out.flush();
              } catch (IOException e) {
                // Fails the engine, which ends the run with exit 1.
                throw new UncheckedIOException(e);
              }
              ++written;
              lastRecordNanos = System.nanoTime();
              if (stop != null && stop.equals(r.destination()) && stopSeenNanos < 0) {
                stopSeenNanos = lastRecordNanos;
              }
              lock.notifyAll();
            }
            committer.markProcessed(r);
          }
          committer.markBatchFinished();
        })
        .build();

    // SIGTERM: main closes the engine (flushing offsets) while the hook
    // waits, since the JVM halts once its hooks return; main then returns
    // instead of calling System.exit, which would block forever inside a
    // shutdown.
    Thread mainThread = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      synchronized (lock) {
        // Finished: this is main's own System.exit, which waits for us.
        if (finished) return;
        signalled = true;
        if (failure == null) failure = "terminated by a signal";
        lock.notifyAll();
      }
      try {
        mainThread.join(60000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));

    ExecutorService executor = Executors.newSingleThreadExecutor();
    executor.execute(engine);

    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    long idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMs);
    int rc = 0;
    synchronized (lock) {
      while (true) {
        long now = System.nanoTime();
        if (failure != null) {
          rc = 1;
          break;
        }
        if (done) {
          failure = "the engine stopped before the stop condition";
          rc = 1;
          break;
        }
        if (now >= deadline) {
          failure = "timed out after " + timeoutMs + " ms (" + written + " records written"
              + (stop != null ? ", none on " + stop : "") + ")";
          rc = 1;
          break;
        }
        if (ready && now - lastRecordNanos >= idleNanos && (stop == null || stopSeenNanos >= 0)) {
          break;
        }
        long waitNanos = Math.min(deadline - now, ready ? Math.max(1, idleNanos - (now - lastRecordNanos)) : deadline - now);
        lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos)));
      }
    }
    // close() throws while the task is still starting: only after READY, or
    // when the engine has already ended on its own.
    boolean canClose;
    synchronized (lock) {
      canClose = ready || done;
    }
    if (canClose) {
      try {
        engine.close();
      } catch (Exception e) {
        System.err.println("DebeziumCapture: closing the engine: " + e);
        rc = 1;
      }
    }
    executor.shutdown();
    if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
      System.err.println("DebeziumCapture: the engine did not stop within 60 s");
      rc = 1;
    }
    boolean bySignal;
    synchronized (lock) {
      out.close();
      if (rc != 0) System.err.println("DebeziumCapture: " + failure);
      else System.err.println("DebeziumCapture: " + written + " records written");
      finished = true;
      bySignal = signalled;
    }
    if (!bySignal) System.exit(rc);
  }

  // One output line. Headers are converted from the SourceRecord as Kafka
  // Connect's AbstractWorkerSourceTask.convertHeaderFor does (every header,
  // in order, a null value kept as a header with a null value), rather than
  // taken from the engine's list, which drops headers whose value is null.
  private static String toLine(ChangeEvent<String, String> r) throws IOException {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("topic", r.destination());
    line.put("key", r.key());
    line.put("value", r.value());
    List<List<String>> headers = new ArrayList<>();
    SourceRecord record = ((EmbeddedEngineChangeEvent<?, ?, ?>) r).sourceRecord();
    for (Header h : record.headers()) {
      byte[] raw = connectHeaderConverter.fromConnectHeader(record.topic(), h.key(), h.schema(), h.value());
      List<String> pair = new ArrayList<>();
      pair.add(h.key());
      pair.add(raw == null ? null : new String(raw, StandardCharsets.UTF_8));
      headers.add(pair);
    }
    line.put("headers", headers);
    // The engine converted the same headers with `header.converter.class`:
    // they must be these, but for the null ones it drops.
    List<List<String>> fromEngine = new ArrayList<>();
    for (io.debezium.engine.Header<Object> h : r.<Object>headers()) {
      List<String> pair = new ArrayList<>();
      pair.add(h.getKey());
      pair.add(new String((byte[]) h.getValue(), StandardCharsets.UTF_8));
      fromEngine.add(pair);
    }
    List<List<String>> nonNull = new ArrayList<>();
    for (List<String> pair : headers) {
      if (pair.get(1) != null) nonNull.add(pair);
    }
    if (!fromEngine.equals(nonNull)) {
      System.err.println("DebeziumCapture: WARN the engine's headers " + fromEngine
          + " differ from Connect's conversion " + headers);
    }
    return mapper.writeValueAsString(line);
  }

  private static void usage(String why) {
    System.err.println("DebeziumCapture: " + why);
    System.err.println("usage: DebeziumCapture --props FILE --out FILE [--stop-topic T] [--idle-ms N] [--timeout-ms N]");
    System.exit(2);
  }
}
