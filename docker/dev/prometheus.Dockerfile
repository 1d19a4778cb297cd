# syntax=docker/dockerfile:1.7
# Prometheus for the local cluster, from Debian's `prometheus` package (2.42 in
# bookworm), running as nobody (65534, as the upstream prom/prometheus image).
# The configuration is meant to be replaced (a ConfigMap mounted over
# /etc/prometheus); the one baked in only scrapes Prometheus itself.
#
# Build with the context docker/dev/ (docker/dev/prometheus.Dockerfile.dockerignore
# lets only prometheus.yml through):
#   docker build -f docker/dev/prometheus.Dockerfile -t modelops.local/prometheus docker/dev
FROM debian:bookworm-slim
# The package's maintainer scripts create a `prometheus` user and try to start
# a service; neither is used here (no init system, a fixed numeric user).
RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /prometheus \
    && chown 65534:65534 /prometheus
COPY prometheus.yml /etc/prometheus/prometheus.yml
USER 65534:65534
WORKDIR /prometheus
EXPOSE 9090
# Health: GET /-/healthy and /-/ready.
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", \
     "--storage.tsdb.path=/prometheus", \
     "--web.listen-address=:9090", \
     "--web.enable-lifecycle"]
