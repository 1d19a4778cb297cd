# syntax=docker/dockerfile:1.7
# The modelops operator image: `modelops operator run` (kopf) on a slim
# Python base, running as an unprivileged user with nothing but the operator's
# locked dependencies in one virtualenv. No xgboost, no BentoML: the operator
# never loads a model.
#
# Build from the repository root (the build context must hold uv.lock):
#   docker build -f docker/operator.Dockerfile -t ghcr.io/acme/modelops-operator:0.1.0 .

# Bases pinned by version (append @sha256:<digest> to pin them byte for byte).
# uv is the same release tools/bootstrap.sh uses.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.11.13-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1
WORKDIR /src
# uv reads the whole workspace to export from the lock: every member's
# pyproject.toml, but only the operator's sources.
COPY pyproject.toml uv.lock ./
COPY features/pyproject.toml features/pyproject.toml
COPY registry/pyproject.toml registry/pyproject.toml
COPY training/pyproject.toml training/pyproject.toml
COPY bentos/pyproject.toml bentos/pyproject.toml
COPY operator/pyproject.toml operator/pyproject.toml
COPY cli/pyproject.toml cli/pyproject.toml
COPY testkit/pyproject.toml testkit/pyproject.toml
# Third-party dependencies first, hash-checked from uv.lock; this layer is
# rebuilt only when the lock changes.
RUN uv export --frozen --no-dev --no-emit-workspace \
        --package modelops-operator --package modelops -o /tmp/requirements.txt \
    && uv venv /opt/modelops --python /usr/local/bin/python3.11 \
    && uv pip install --python /opt/modelops/bin/python --no-deps --require-hashes \
        -r /tmp/requirements.txt
COPY features/ features/
COPY registry/ registry/
COPY operator/ operator/
COPY cli/ cli/
RUN uv pip install --python /opt/modelops/bin/python --no-deps \
        ./features ./registry ./operator ./cli \
    && /opt/modelops/bin/modelops operator run --help >/dev/null

FROM python:3.11.13-slim-bookworm
LABEL org.opencontainers.image.title="modelops-operator" \
      org.opencontainers.image.description="Kubernetes operator for ModelDeployments (canary, rollback, drift, retraining)" \
      org.opencontainers.image.source="https://github.com/modelops/modelops" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed numeric UID/GID (65532, as in distroless "nonroot") so that
# Kubernetes can verify runAsNonRoot without resolving names.
RUN groupadd --system --gid 65532 modelops \
    && useradd --system --uid 65532 --gid 65532 --home-dir /tmp \
        --no-create-home --shell /usr/sbin/nologin modelops
COPY --from=build /opt/modelops /opt/modelops
ENV PATH=/opt/modelops/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    BENTOML_DO_NOT_TRACK=true \
    OMP_NUM_THREADS=1
USER 65532:65532
# Prometheus metrics; every replica (leader or standby) serves them from
# start-up, so they double as the health endpoint.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/metrics', timeout=4)"]
ENTRYPOINT ["modelops"]
CMD ["operator", "run", "--all-namespaces", "--metrics-host=0.0.0.0"]
