#!/usr/bin/env bash
# The real Debezium PostgreSQL connector, from its Maven Central jars, for
# the tests that compare pgcdc's debezium-json format with it (issue 17).
#
#   scripts/debezium.sh jars      # resolve the pinned jars; print their dir
#   scripts/debezium.sh version   # the pinned Debezium version
#
# The jars are Debezium's embedded engine, its PostgreSQL connector and the
# Kafka Connect runtime and JsonConverter they are built against, with an
# SLF4J binding: the classpath of tests/debezium/DebeziumCapture.java, run as
#   java -cp "$(scripts/debezium.sh jars)/*" tests/debezium/DebeziumCapture.java ...
# They are kept apart from scripts/kafka.sh's broker jars (another Kafka
# version). Cached in PGCDC_DEBEZIUM_CACHE (default ~/.cache/pgcdc). Needs a
# JDK 17 (the single-file launcher compiles the program: jdk.compiler) and
# Maven (scripts/install-deps.sh installs both where missing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/maven.sh"

DEBEZIUM_VERSION=3.6.1.Final
# The Kafka that Debezium 3.6.1.Final is built against (its parent pom's
# version.kafka): connect-runtime's classes must match what the engine calls.
CONNECT_VERSION=4.3.0
# connect-runtime 4.3.0 brings slf4j-api 1.7.36 and no binding.
SLF4J_VERSION=1.7.36
CACHE=${PGCDC_DEBEZIUM_CACHE:-$HOME/.cache/pgcdc}/debezium-$DEBEZIUM_VERSION

die() {
  echo "debezium.sh: $*" >&2
  exit 1
}

jars() {
  maven_resolve "$CACHE" --into jars \
    "io.debezium:debezium-api:$DEBEZIUM_VERSION" \
    "io.debezium:debezium-embedded:$DEBEZIUM_VERSION" \
    "io.debezium:debezium-connector-postgres:$DEBEZIUM_VERSION" \
    "org.apache.kafka:connect-api:$CONNECT_VERSION" \
    "org.apache.kafka:connect-runtime:$CONNECT_VERSION" \
    "org.apache.kafka:connect-json:$CONNECT_VERSION" \
    "org.slf4j:slf4j-simple:$SLF4J_VERSION" ||
    die "could not resolve Debezium $DEBEZIUM_VERSION from Maven"
  echo "$CACHE/jars"
}

cmd=${1:-}
case $cmd in
  jars) jars ;;
  version) echo "$DEBEZIUM_VERSION" ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
