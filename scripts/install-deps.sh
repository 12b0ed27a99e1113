#!/usr/bin/env bash
# Installs everything pgcdc needs to build, test and demo on Debian 12.
# Used by the README, .ci/run and the Dockerfile alike. Idempotent; needs root.
# clang, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes) and llvm-14
# (llvm-symbolizer) are for the fuzzing stage of scripts/test.sh; time (GNU
# time, for peak memory) for the bench scripts; strace and systemd
# (systemd-analyze) for scripts/check-hardening.sh.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libpq-dev librdkafka-dev libprotobuf-dev protobuf-compiler libabsl-dev
  prometheus-cpp-dev libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 postgresql-client-15 kcat curl procps openssl time
  clang libclang-rt-14-dev llvm-14 libssl-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
