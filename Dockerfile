# pgcdc on Debian 12, built with the same install script as CI and the README
# (librdkafka 2.8.0 from Debian 13's source package, in
# /opt/pgcdc/librdkafka-2.8.0, where pgcdc's RPATH points).
#   docker build -t pgcdc .
#   docker run --rm -v $PWD/pgcdc.yaml:/etc/pgcdc/pgcdc.yaml pgcdc
FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN PGCDC_BUILD_ONLY=1 bash scripts/install-deps.sh
COPY . .
RUN cmake -S . -B build -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build -j"$(nproc)" --target pgcdc

FROM debian:12-slim
# librdkafka 2.8.0's own dependencies replace Debian 12's librdkafka1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 \
      libprotobuf32 libyaml-cpp0.7 libprometheus-cpp-pull1.0 \
      libprometheus-cpp-core1.0 libabsl20220623 \
      libssl3 libsasl2-2 libzstd1 liblz4-1 zlib1g libcurl4 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/pgcdc/librdkafka-2.8.0/lib/librdkafka.so.1 \
     /opt/pgcdc/librdkafka-2.8.0/lib/librdkafka.so.1
COPY --from=build /src/build/bin/pgcdc /usr/local/bin/pgcdc
COPY --from=build /src/build/share/pgcdc/cdc-v1.binpb /usr/local/share/pgcdc/cdc-v1.binpb
COPY proto /usr/local/share/pgcdc/proto
USER nobody
EXPOSE 9187
ENTRYPOINT ["/usr/local/bin/pgcdc"]
CMD ["run", "--config", "/etc/pgcdc/pgcdc.yaml"]
