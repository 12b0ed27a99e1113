#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine (as root): installs what
# is missing, builds warning-free, runs unit and integration tests with ctest.
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -L unit    # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DPGCDC_WERROR=ON
cmake --build "$BUILD_DIR" -j"$(nproc)"

# Unit tests run in parallel; integration tests (each with its own PostgreSQL
# cluster and broker) are marked RUN_SERIAL.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" "$@"
