# syntax=docker/dockerfile:1.7
# Prometheus for the local cluster, running as nobody (65534, as the upstream
# prom/prometheus image). The binaries are built from the Go module pinned in
# tools/prometheus/ with Kubernetes service discovery (Debian's prometheus
# package is built without it, and the local cluster's Prometheus discovers the
# model pods). The configuration is meant to be replaced (a ConfigMap mounted
# over /etc/prometheus); the one baked in only scrapes Prometheus itself.
#
# The build context is the folder tools/prometheus/provision.sh prints, which
# holds prometheus and promtool:
#   docker build -f docker/dev/prometheus.Dockerfile -t modelops.local/prometheus "$(tools/prometheus/provision.sh)"
FROM debian:bookworm-slim
COPY prometheus promtool /usr/local/bin/
RUN mkdir -p /etc/prometheus /prometheus \
    && printf '%s\n' 'global:' '  scrape_interval: 15s' 'scrape_configs:' \
        '  - job_name: prometheus' '    static_configs:' '      - targets: ["127.0.0.1:9090"]' \
        > /etc/prometheus/prometheus.yml \
    && chown 65534:65534 /prometheus
USER 65534:65534
WORKDIR /prometheus
EXPOSE 9090
# Health: GET /-/healthy and /-/ready.
ENTRYPOINT ["/usr/local/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", \
     "--storage.tsdb.path=/prometheus", \
     "--web.listen-address=:9090", \
     "--web.enable-lifecycle"]
