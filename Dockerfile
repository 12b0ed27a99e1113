# pgcdc's container image (docs/deploy.md). Not built on the machine this
# repository is developed on (no Docker engine there); the ctest
# Build.DockerfileAgreesWithInstallDeps checks this file against
# scripts/install-deps.sh and against the libraries pgcdc loads.
#
#   docker build -t pgcdc:0.1.0 .
#   docker run --rm -p 9187:9187 -e PGCDC_PG_PASSWORD=... \
#     -v $PWD/pgcdc.yaml:/etc/pgcdc/pgcdc.yaml:ro pgcdc:0.1.0
#
# The configuration is read from /etc/pgcdc/pgcdc.yaml (mount it read-only);
# large streamed transactions spill to /var/lib/pgcdc/spill (set
# source.spill_directory to it, and mount a volume there for big ones).
# metrics.listen must be "0.0.0.0:9187" for the HEALTHCHECK and a scraper
# outside the container to reach /metrics, /healthz and /readyz.

# --- Build: the same install script as the README and CI --------------------
FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
# PGCDC_BUILD_ONLY=1: no JDK, Maven nor Python (those run the tests' Kafka),
# no PostgreSQL 18 (the tests run on it).
# librdkafka 2.8.0 is built into /opt/pgcdc/librdkafka-2.8.0, where pgcdc's
# RPATH points.
RUN PGCDC_BUILD_ONLY=1 bash scripts/install-deps.sh
COPY . .
RUN cmake -S . -B build -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build -j"$(nproc)" --target pgcdc descriptor_set \
 && strip build/bin/pgcdc

# --- Runtime: pgcdc and the shared libraries it loads, nothing else ---------
FROM debian:12-slim
# One package per library pgcdc or librdkafka 2.8.0 loads by name (the
# C/C++ runtime comes with the base image); libcivetweb1 serves /metrics,
# /healthz and /readyz. ca-certificates: the system CA list, for Kafka TLS
# (ssl.ca.location) and sslrootcert=system.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpq5 libprotobuf32 libyaml-cpp0.7 libabsl20220623 \
      libprometheus-cpp-core1.0 libcivetweb1 \
      libssl3 libsasl2-2 libzstd1 liblz4-1 zlib1g libcurl4 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A user of its own with a fixed uid/gid, so that volumes and Kubernetes'
# runAsUser/fsGroup can name it; no login, no home.
RUN groupadd --system --gid 10001 pgcdc \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin pgcdc \
 && mkdir -p /etc/pgcdc /var/lib/pgcdc/spill \
 && chown pgcdc:pgcdc /var/lib/pgcdc/spill \
 && chmod 0700 /var/lib/pgcdc/spill
COPY --from=build /opt/pgcdc/librdkafka-2.8.0/lib/librdkafka.so.1 \
     /opt/pgcdc/librdkafka-2.8.0/lib/librdkafka.so.1
COPY --from=build /src/build/bin/pgcdc /usr/local/bin/pgcdc
COPY --from=build /src/build/share/pgcdc/cdc-v1.binpb /usr/local/share/pgcdc/cdc-v1.binpb
COPY proto /usr/local/share/pgcdc/proto
USER 10001:10001
# Spill files go here unless source.spill_directory says otherwise; mount a
# volume there (an emptyDir in Kubernetes) when the root file system is
# read-only or the transactions are large.
ENV TMPDIR=/var/lib/pgcdc/spill
# metrics.listen: /metrics, /healthz, /readyz.
EXPOSE 9187
# bash's /dev/tcp instead of curl: bash is already in the image (essential
# in Debian), curl would add itself and its libraries for one probe.
# /healthz answers 200 while the process is alive (/readyz is for
# orchestrators that route or wait on readiness).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9187 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/pgcdc"]
CMD ["run", "--config", "/etc/pgcdc/pgcdc.yaml"]
