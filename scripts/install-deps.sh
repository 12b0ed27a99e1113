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
set -euo pipefail

RDKAFKA_VERSION=2.8.0
RDKAFKA_ORIG_SHA256=5bd1c46f63265f31c6bfcedcde78703f77d28238eadf23821c2b43fc30be3e25
RDKAFKA_PREFIX=${PGCDC_RDKAFKA_PREFIX:-/opt/pgcdc/librdkafka-$RDKAFKA_VERSION}

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

# --- librdkafka ---------------------------------------------------------------
rdkafka_installed() {
  [[ -f $RDKAFKA_PREFIX/.pgcdc-installed ]] &&
    [[ $(PKG_CONFIG_PATH=$RDKAFKA_PREFIX/lib/pkgconfig \
      pkg-config --modversion rdkafka 2>/dev/null) == "$RDKAFKA_VERSION" ]]
}

if rdkafka_installed; then
  echo "install-deps: librdkafka $RDKAFKA_VERSION present in $RDKAFKA_PREFIX"
  exit 0
fi

echo "install-deps: building librdkafka $RDKAFKA_VERSION into $RDKAFKA_PREFIX"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
  "http://deb.debian.org/debian trixie main" >"$work/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
  -o APT::Sandbox::User=root
)
apt-get "${apt_private[@]}" update -q
# Any Debian revision of the pinned upstream version: the tarball is pinned
# by its hash below.
deb_version=$(apt-cache "${apt_private[@]}" showsrc librdkafka |
  sed -n "s/^Version: \(${RDKAFKA_VERSION//./\\.}-[0-9.+~a-z]*\)$/\1/p" | head -n 1)
if [[ -z $deb_version ]]; then
  echo "install-deps: Debian trixie no longer has librdkafka $RDKAFKA_VERSION" >&2
  exit 1
fi
(cd "$work/src" && apt-get "${apt_private[@]}" source -q "librdkafka=$deb_version")
echo "$RDKAFKA_ORIG_SHA256  $work/src/librdkafka_$RDKAFKA_VERSION.orig.tar.gz" |
  sha256sum --check --quiet
cd "$work/src/librdkafka-$RDKAFKA_VERSION"
./configure --prefix="$RDKAFKA_PREFIX" >"$work/configure.log" 2>&1 || {
  tail -n 40 "$work/configure.log"
  exit 1
}
make -j"$(nproc)" libs >"$work/make.log" 2>&1 || {
  tail -n 40 "$work/make.log"
  exit 1
}
rm -rf "$RDKAFKA_PREFIX"
make install-subdirs >"$work/install.log" 2>&1 || {
  tail -n 40 "$work/install.log"
  exit 1
}
touch "$RDKAFKA_PREFIX/.pgcdc-installed"
echo "install-deps: librdkafka $RDKAFKA_VERSION installed in $RDKAFKA_PREFIX"
