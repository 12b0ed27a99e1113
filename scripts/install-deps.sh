#!/usr/bin/env bash
# Installs everything pgcdc needs to build, test and demo on Debian 12.
# Used by the README, .ci/run and the Dockerfile alike. Idempotent; needs root.
# clang, libclang-rt-14-dev (libFuzzer and the sanitizer runtimes) and llvm-14
# (llvm-symbolizer) are for the fuzzing stage of scripts/test.sh; time (GNU
# time, for peak memory) for the bench scripts; strace and systemd
# (systemd-analyze) for scripts/check-hardening.sh; a JDK, Maven and python3
# for scripts/kafka.sh.
#
# librdkafka: pgcdc needs 2.6.1 or later (older clients send the SCRAM nonce
# twice, which Kafka 4.x refuses as invalid credentials). Debian 12 packages
# 2.0.2, so Debian 13's source package of 2.8.0 is built once into
# RDKAFKA_PREFIX and reused while that exact version is there. The system's
# librdkafka (kcat links it) is left alone. The source comes through apt with
# a private list directory: apt checks the trixie InRelease signature against
# debian-archive-keyring and the files against its signed hashes, and the
# upstream tarball is also checked against the pinned SHA-256 below. The
# machine's own apt sources and lists are not touched.
#
# PostgreSQL 18: the integration tests also run against 18 (scripts/test.sh,
# docs/testing.md), beside Debian 12's packaged 15. Debian 12 has no 18, so
# the upstream tarball of Debian unstable's postgresql-18 source package is
# fetched the same way (sid's signature, the pinned SHA-256), built once into
# PG18_PREFIX with the contrib modules the tests use (test_decoding among
# them) and reused while that exact version is there. Only for tests:
# PGCDC_BUILD_ONLY=1 (the Dockerfile) skips it.
set -euo pipefail

RDKAFKA_VERSION=2.8.0
RDKAFKA_ORIG_SHA256=5bd1c46f63265f31c6bfcedcde78703f77d28238eadf23821c2b43fc30be3e25
RDKAFKA_PREFIX=${PGCDC_RDKAFKA_PREFIX:-/opt/pgcdc/librdkafka-$RDKAFKA_VERSION}

PG18_VERSION=18.6
PG18_ORIG_SHA256=555610c24d53e4316da5b7d3fc25c279d96856d5e0e23ee308c328c5fa881d9f
PG18_PREFIX=${PGCDC_PG18_PREFIX:-/opt/pgcdc/postgresql-18}

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libpq-dev libprotobuf-dev protobuf-compiler libabsl-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libgtest-dev libgmock-dev
  libbenchmark-dev
  postgresql-15 postgresql-client-15 kcat curl procps openssl time
  clang libclang-rt-14-dev llvm-14 libssl-dev
  # librdkafka's build: dpkg-source unpacks it, the rest are its libraries.
  dpkg-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev libcurl4-openssl-dev
)
# Apache Kafka for the tests and the bench (scripts/kafka.sh runs it from its
# Maven Central jars). PGCDC_BUILD_ONLY=1 (the Dockerfile) leaves them out.
if [[ ${PGCDC_BUILD_ONLY:-0} != 1 ]]; then
  PACKAGES+=(openjdk-17-jre-headless maven python3)
  # PostgreSQL 18's build (with the librdkafka ones above: pkg-config,
  # libssl-dev, libzstd-dev, liblz4-dev, zlib1g-dev).
  PACKAGES+=(bison flex libicu-dev libxml2-dev)
fi

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

# --- Sources from Debian, through a private apt --------------------------------
# One temporary directory for both builds, removed on exit.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch_source SUITE PACKAGE UPSTREAM_VERSION DIR [--download-only]: fetches
# the source package of PACKAGE at any Debian revision of UPSTREAM_VERSION
# from SUITE into DIR (the upstream tarball is pinned by its hash by the
# caller). apt runs with its own sources, lists and cache under $work, so the
# machine's are not touched; it checks SUITE's InRelease signature against
# debian-archive-keyring and each file against the signed hashes.
fetch_source() {
  local suite=$1 package=$2 version=$3 dir=$4
  shift 4
  local apt_dir=$work/apt-$suite
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dir"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
    "http://deb.debian.org/debian $suite main" >"$apt_dir/sources.list"
  local apt_private=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o APT::Sandbox::User=root
  )
  apt-get "${apt_private[@]}" update -q
  local deb_version
  deb_version=$(apt-cache "${apt_private[@]}" showsrc "$package" |
    sed -n "s/^Version: \(${version//./\\.}-[0-9.+~a-z]*\)$/\1/p" | head -n 1)
  if [[ -z $deb_version ]]; then
    echo "install-deps: Debian $suite no longer has $package $version" >&2
    exit 1
  fi
  (cd "$dir" && apt-get "${apt_private[@]}" source -q "$@" "$package=$deb_version")
}

# run_logged NAME COMMAND...: runs COMMAND with its output in $work/NAME.log,
# shown (the end of it) only when it fails.
run_logged() {
  local log=$work/$1.log
  shift
  "$@" >"$log" 2>&1 || {
    tail -n 40 "$log"
    exit 1
  }
}

# --- librdkafka ---------------------------------------------------------------
rdkafka_installed() {
  [[ -f $RDKAFKA_PREFIX/.pgcdc-installed ]] &&
    [[ $(PKG_CONFIG_PATH=$RDKAFKA_PREFIX/lib/pkgconfig \
      pkg-config --modversion rdkafka 2>/dev/null) == "$RDKAFKA_VERSION" ]]
}

install_rdkafka() {
  if rdkafka_installed; then
    echo "install-deps: librdkafka $RDKAFKA_VERSION present in $RDKAFKA_PREFIX"
    return
  fi
  echo "install-deps: building librdkafka $RDKAFKA_VERSION into $RDKAFKA_PREFIX"
  fetch_source trixie librdkafka "$RDKAFKA_VERSION" "$work/rdkafka"
  echo "$RDKAFKA_ORIG_SHA256  $work/rdkafka/librdkafka_$RDKAFKA_VERSION.orig.tar.gz" |
    sha256sum --check --quiet
  cd "$work/rdkafka/librdkafka-$RDKAFKA_VERSION"
  run_logged rdkafka-configure ./configure --prefix="$RDKAFKA_PREFIX"
  run_logged rdkafka-make make -j"$(nproc)" libs
  rm -rf "$RDKAFKA_PREFIX"
  run_logged rdkafka-install make install-subdirs
  touch "$RDKAFKA_PREFIX/.pgcdc-installed"
  cd /
  echo "install-deps: librdkafka $RDKAFKA_VERSION installed in $RDKAFKA_PREFIX"
}

# --- PostgreSQL 18 (tests only) ------------------------------------------------
# The contrib modules the integration tests create or load: test_decoding
# (the signals tests' tap slot), pg_walinspect, citext, hstore and pgcrypto
# (signals sealed by hand).
PG18_CONTRIB=(test_decoding pg_walinspect citext hstore pgcrypto)

# The marker holds the version, the options and the modules built, so that
# a change to them is built on the next run.
pg18_marker() { echo "$PG18_VERSION libxml ${PG18_CONTRIB[*]}"; }

pg18_installed() {
  [[ -f $PG18_PREFIX/.pgcdc-installed ]] &&
    [[ $(<"$PG18_PREFIX/.pgcdc-installed") == "$(pg18_marker)" ]] &&
    [[ $("$PG18_PREFIX/bin/postgres" --version 2>/dev/null) == "postgres (PostgreSQL) $PG18_VERSION" ]]
}

install_pg18() {
  if pg18_installed; then
    echo "install-deps: PostgreSQL $PG18_VERSION present in $PG18_PREFIX"
    return
  fi
  echo "install-deps: building PostgreSQL $PG18_VERSION into $PG18_PREFIX"
  # Only the upstream tarball is built (Debian's patches are for its own
  # packaging: paths, the cluster wrapper), so the source is not unpacked.
  fetch_source sid postgresql-18 "$PG18_VERSION" "$work/pg18" --download-only
  local tarball=$work/pg18/postgresql-18_$PG18_VERSION.orig.tar.bz2
  echo "$PG18_ORIG_SHA256  $tarball" | sha256sum --check --quiet
  tar -xjf "$tarball" -C "$work/pg18"
  cd "$work/pg18/postgresql-$PG18_VERSION"
  # Without readline: the tests drive psql non-interactively. libxml, as
  # Debian's 15 has it: the type tests publish an xml column.
  run_logged pg18-configure ./configure --prefix="$PG18_PREFIX" \
    --with-openssl --with-icu --with-lz4 --with-zstd --with-libxml \
    --without-readline
  run_logged pg18-make make -j"$(nproc)"
  local module
  for module in "${PG18_CONTRIB[@]}"; do
    run_logged "pg18-make-$module" make -C "contrib/$module" -j"$(nproc)"
  done
  # The same version is installed over itself (only modules were added), so
  # that servers running from the prefix meanwhile are not pulled away.
  if [[ $("$PG18_PREFIX/bin/postgres" --version 2>/dev/null) != "postgres (PostgreSQL) $PG18_VERSION" ]]; then
    rm -rf "$PG18_PREFIX"
  fi
  run_logged pg18-install make install
  for module in "${PG18_CONTRIB[@]}"; do
    run_logged "pg18-install-$module" make -C "contrib/$module" install
  done
  pg18_marker >"$PG18_PREFIX/.pgcdc-installed"
  cd /
  echo "install-deps: PostgreSQL $PG18_VERSION installed in $PG18_PREFIX"
}

install_rdkafka
if [[ ${PGCDC_BUILD_ONLY:-0} != 1 ]]; then
  install_pg18
fi
