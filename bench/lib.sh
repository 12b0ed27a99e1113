# shellcheck shell=bash
# What the end-to-end benches (bench/e2e.sh, bench/vs_debezium.sh) report
# alike. Source it after scripts/lib/throwaway.sh and scripts/lib/measure.sh,
# from the repository's root; the bench sets QUICK (1 for --quick) first.
#
#   load_average           the 1, 5 and 15 minute load averages
#   results_path NAME      bench/results/NAME[-quick]-<UTC time>, the stem
#                          of a run's report files (the directory is made)
#   report_machine PGCDC [WHAT]   the report's machine line (WHAT ran on the
#                          machine) and the load before (LOAD_BEFORE, taken
#                          at the start) and after the run
#   history_head           a bench/history.md row's first cells: date,
#                          commit, mode, load before
#   history_note           the start of its note: what the run was given
#                          that the defaults are not (PGCDC_BIN,
#                          KAFKA_PROPERTIES); the bench adds its own
#   quantile_ms Q FILE     histogram quantile Q (0..1) of
#                          pgcdc_commit_to_ack_seconds in ms, from a scrape
#                          of pgcdc's /metrics in FILE
#   PGCDC_KAFKA_DEFAULTS   how a report names an empty kafka.properties

# shellcheck disable=SC2034 # for the benches that source this file
PGCDC_KAFKA_DEFAULTS="{} (pgcdc's defaults: acks=all, idempotence, linger.ms 2, lz4)"

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

results_path() {
  mkdir -p bench/results
  echo "bench/results/$1$( ((QUICK)) && echo -quick || true)-$(date -u +%Y-%m-%d-%H%M%S)"
}

report_machine() {
  machine_line "$@"
  echo "Load average (1, 5, 15 min) before the run: $LOAD_BEFORE; after: $(load_average)."
}

history_head() {
  echo "| $(date -u '+%Y-%m-%d %H:%M') | $(bench_commit) | $( ((QUICK)) && echo quick || echo full) | ${LOAD_BEFORE%% *} |"
}

history_note() {
  local note=""
  [[ -n ${PGCDC_BIN:-} ]] && note="PGCDC_BIN=$PGCDC_BIN"
  [[ -n ${KAFKA_PROPERTIES:-} ]] && note+="${note:+; }kafka.properties $KAFKA_PROPERTIES"
  echo "$note"
}

# Linear interpolation within the bucket, as Prometheus'
# histogram_quantile does: the buckets are 1 ms wide at the low end, so the
# bucket's bound alone would round every latency up.
quantile_ms() {
  awk -v q="$1" '
    /^pgcdc_commit_to_ack_seconds_bucket/ {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
      n++; bound[n] = (le == "+Inf") ? -1 : le; count[n] = $NF
    }
    END {
      total = count[n]; if (total == 0) { print "—"; exit }
      rank = q * total; prev_b = 0; prev_c = 0
      for (i = 1; i <= n; i++) {
        if (count[i] >= rank) {
          if (bound[i] < 0) { printf "%.1f", prev_b * 1000; exit }
          f = (count[i] == prev_c) ? 0 : (rank - prev_c) / (count[i] - prev_c)
          printf "%.1f", (prev_b + (bound[i] - prev_b) * f) * 1000; exit
        }
        prev_b = bound[i]; prev_c = count[i]
      }
    }' "$2"
}

# start_serving PGCDC CONFIG_IN NAME PORT [SED_EXPRESSION]...
#
# Starts `PGCDC run` in the background (its pid appended to PIDS) with
# WORK/NAME.yaml, made from CONFIG_IN with @METRICS_PORT@ replaced by PORT
# and the sed expressions applied, logging to WORK/NAME.log, and returns
# once the process listens on the port; sets SERVED_PID and SERVED_PORT.
# Exits the bench, with the log's end, when pgcdc exits first.
#
# Why it waits and may move: PORT was free when free_port looked, and any
# process may have taken it since (the machine is shared). pgcdc cannot
# serve metrics on a busy port and then exits with kExitConfig (2, see
# cdc/cli/exit_codes.h) before anything else; the config is the bench's own,
# so a 2 before pgcdc listens means the port, and another free port is
# tried (five in all). The listener is known as pgcdc's by its pid (ss -p),
# not by an answer on the port, which another process would give too.
start_serving() {
  local pgcdc=$1 template=$2 name=$3 port=$4 tries=0 code expression seds=()
  shift 4
  for expression in "$@"; do seds+=(-e "$expression"); done
  while :; do
    sed "${seds[@]}" -e "s/@METRICS_PORT@/$port/g" "$template" >"$WORK/$name.yaml"
    "$pgcdc" run --config "$WORK/$name.yaml" >"$WORK/$name.log" 2>&1 &
    SERVED_PID=$!
    PIDS+=("$SERVED_PID")
    # grep -c reads to the end: with -q, ss could die of SIGPIPE, which
    # pipefail would take for a failure.
    until ss -Hltnp "sport = :$port" | grep -c "pid=$SERVED_PID," >/dev/null; do
      if ! kill -0 "$SERVED_PID" 2>/dev/null; then
        code=0
        wait "$SERVED_PID" || code=$?
        if ((code == 2 && ++tries < 5)); then
          port=$(free_port)
          continue 2
        fi
        echo "pgcdc ($name) exited with $code before serving metrics on port $port:" >&2
        tail -20 "$WORK/$name.log" >&2
        exit 1
      fi
      sleep 0.02
    done
    # shellcheck disable=SC2034 # for the caller
    SERVED_PORT=$port
    return 0
  done
}
