#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine (as root): installs what
# is missing, builds warning-free, runs unit and integration tests with ctest,
# then the integration tests labelled pg18 again on PostgreSQL 18, then the
# robustness stages:
#   - the unit tests again under AddressSanitizer + UBSan (build-asan);
#   - each libFuzzer target (built with clang in build-fuzz) for
#     PGCDC_FUZZ_SECONDS (default 60) over the committed corpus in
#     fuzz/corpus; a crash, leak or failed assertion fails the run.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -L unit         # extra arguments go to the first ctest
#   PGCDC_QUICK=1 bash scripts/test.sh   # skip the sanitizer and fuzzer stages
set -euo pipefail
cd "$(dirname "$0")/.."

STAGES=()
stage_done() {  # name start_seconds
  STAGES+=("$(printf '%-26s %4ds' "$1" $((SECONDS - $2)))")
}
report() {
  if ((${#STAGES[@]})); then
    echo "== test.sh stage timings"
    printf '  %s\n' "${STAGES[@]}"
  fi
}
trap report EXIT

t=$SECONDS
bash scripts/install-deps.sh
stage_done install-deps "$t"

t=$SECONDS
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DPGCDC_WERROR=ON
cmake --build "$BUILD_DIR" -j"$(nproc)"
stage_done build "$t"

# Unit tests run in parallel; integration tests (each with its own PostgreSQL
# cluster and broker) are marked RUN_SERIAL.
t=$SECONDS
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
stage_done ctest "$t"

# The integration tests again, on the PostgreSQL 18 install-deps.sh built
# (the harness runs the server programs of PGCDC_PG_BINDIR): those labelled
# pg18, a subset that covers every path within CI's time budget
# (tests/integration/pg18_tests.cmake says which and why). Left out when
# arguments chose the tests of the first ctest.
if (($# == 0)); then
  t=$SECONDS
  # A renamed or removed test would drop out of the list unseen.
  named=$(sed -n '/^set(PG18_TESTS/,/^)/p' tests/integration/pg18_tests.cmake |
    grep -cE '^ +[A-Za-z0-9_]+\.[A-Za-z0-9_]+ *$')
  labelled=$(ctest --test-dir "$BUILD_DIR" -N -L pg18 |
    sed -n 's/^Total Tests: //p')
  if [[ $named != "$labelled" ]]; then
    echo "test.sh: tests/integration/pg18_tests.cmake names $named tests," \
      "but $labelled are labelled pg18: a test named there was renamed or" \
      "removed" >&2
    exit 1
  fi
  PGCDC_PG_BINDIR=${PGCDC_PG18_PREFIX:-/opt/pgcdc/postgresql-18}/bin \
    ctest --test-dir "$BUILD_DIR" --output-on-failure -L pg18
  stage_done "ctest -L pg18 (PG 18)" "$t"
else
  echo "test.sh: ctest arguments given: skipping the PostgreSQL 18 stage"
fi

if [[ ${PGCDC_QUICK:-0} == 1 ]]; then
  echo "test.sh: PGCDC_QUICK=1: skipping the sanitizer and fuzzer stages"
  exit 0
fi

# Symbolized sanitizer reports, also where only the versioned llvm-symbolizer
# is on the PATH.
if [[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

# Both sanitized builds use -O1 with line tables only: half the compile time
# of -O2 -g, and reports still name file and line.

# --- Unit tests under ASan + UBSan -------------------------------------------
# Any ASan or UBSan report fails the test (-fno-sanitize-recover), and so does
# a leak (LeakSanitizer is on by default; the producer tests, which run
# librdkafka's mock cluster uninstrumented, report none).
t=$SECONDS
ASAN_DIR=${ASAN_BUILD_DIR:-build-asan}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cmake -S . -B "$ASAN_DIR" -DPGCDC_SANITIZE=ON -DPGCDC_WERROR=ON \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1"
cmake --build "$ASAN_DIR" -j"$(nproc)" --target unit_tests
stage_done "build (asan)" "$t"
t=$SECONDS
ctest --test-dir "$ASAN_DIR" --output-on-failure -j"$(nproc)" -L unit
stage_done "ctest -L unit (asan)" "$t"

# --- Fuzzers -----------------------------------------------------------------
t=$SECONDS
FUZZ_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
FUZZ_SECONDS=${PGCDC_FUZZ_SECONDS:-60}
cmake -S . -B "$FUZZ_DIR" -DPGCDC_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only"
cmake --build "$FUZZ_DIR" -j"$(nproc)" --target fuzzers
stage_done "build (fuzz)" "$t"
# The targets run side by side, each for FUZZ_SECONDS of wall time.
t=$SECONDS
TARGETS=(pgoutput copy_frame stream snapshot)
declare -A PIDS
mkdir -p "$FUZZ_DIR/artifacts"
for target in "${TARGETS[@]}"; do
  # New inputs go to a scratch corpus in the build tree; the committed one is
  # only read. A failing input is saved as FUZZ_DIR/artifacts/<target>-*.
  mkdir -p "$FUZZ_DIR/corpus/$target"
  "$FUZZ_DIR/bin/${target}_fuzz" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/artifacts/$target-" \
    "$FUZZ_DIR/corpus/$target" "fuzz/corpus/$target" \
    >"$FUZZ_DIR/$target.log" 2>&1 &
  PIDS[$target]=$!
done
failed=()
for target in "${TARGETS[@]}"; do
  if wait "${PIDS[$target]}"; then
    grep -E '^#[0-9]+.*DONE' "$FUZZ_DIR/$target.log" |
      sed "s/^/  ${target}_fuzz: /" || true
  else
    tail -n 60 "$FUZZ_DIR/$target.log"
    failed+=("$target")
  fi
done
stage_done "fuzz x${#TARGETS[@]} (${FUZZ_SECONDS}s each)" "$t"
if ((${#failed[@]})); then
  for target in "${failed[@]}"; do
    echo "test.sh: ${target}_fuzz failed (log: $FUZZ_DIR/$target.log); the" \
      "input is in $FUZZ_DIR/artifacts/ (reproduce: $FUZZ_DIR/bin/${target}_fuzz FILE)"
  done
  exit 1
fi
