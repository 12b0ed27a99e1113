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
  if [[ -f $CACHE/.complete ]]; then
    echo "$CACHE/jars"
    return
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is missing: run scripts/install-deps.sh"
  local work
  work=$(mktemp -d)
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>pgcdc</groupId><artifactId>debezium-capture</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.debezium</groupId><artifactId>debezium-api</artifactId><version>$DEBEZIUM_VERSION</version></dependency>
    <dependency><groupId>io.debezium</groupId><artifactId>debezium-embedded</artifactId><version>$DEBEZIUM_VERSION</version></dependency>
    <dependency><groupId>io.debezium</groupId><artifactId>debezium-connector-postgres</artifactId><version>$DEBEZIUM_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-api</artifactId><version>$CONNECT_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>$CONNECT_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-json</artifactId><version>$CONNECT_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  if ! (cd "$work" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CACHE/jars" >"$work/mvn.log" 2>&1); then
    tail -n 30 "$work/mvn.log" >&2
    die "could not resolve Debezium $DEBEZIUM_VERSION from Maven"
  fi
  rm -rf "$work"
  touch "$CACHE/.complete"
  echo "$CACHE/jars"
}

cmd=${1:-}
case $cmd in
  jars) jars ;;
  version) echo "$DEBEZIUM_VERSION" ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
