# syntax=docker/dockerfile:1.7
# The training image that the operator's retraining and batch scoring Jobs
# run: the features, registry and training distributions plus the `modelops`
# CLI (`modelops train ...`, `modelops score ...`), as an unprivileged user.
# The Job's command and arguments come from the ModelDeployment's
# spec.retraining.jobTemplate, or from the operator for spec.batch.
#
# `modelops score` loads a model version with the bentos' own loaders
# (modelops_bentos.churn.model, learning_path.model), which an import-linter
# contract keeps free of BentoML; so modelops_bentos is installed without its
# dependencies (no BentoML, uvicorn...): everything the loaders import
# (xgboost, numpy, pandas, pyarrow, the features and registry) is already here
# for training.
#
# Build from the repository root (the build context must hold uv.lock):
#   docker build -f docker/training.Dockerfile -t ghcr.io/acme/modelops-training:0.1.0 .
#
# The xgboost wheel depends on nvidia-nccl-cu12 (about 470 MB of the image).
# XGBoost loads NCCL only for multi-GPU collectives; this image trains on CPU,
# so the export below leaves it out (xgboost still trains and predicts: the
# node tests train a model inside the image).

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
COPY pyproject.toml uv.lock ./
COPY features/pyproject.toml features/pyproject.toml
COPY registry/pyproject.toml registry/pyproject.toml
COPY training/pyproject.toml training/pyproject.toml
COPY bentos/pyproject.toml bentos/pyproject.toml
COPY operator/pyproject.toml operator/pyproject.toml
COPY cli/pyproject.toml cli/pyproject.toml
COPY testkit/pyproject.toml testkit/pyproject.toml
RUN uv export --frozen --no-dev --no-emit-workspace \
        --package modelops-training --package modelops \
        --no-emit-package nvidia-nccl-cu12 -o /tmp/requirements.txt \
    && uv venv /opt/modelops --python /usr/local/bin/python3.11 \
    && uv pip install --python /opt/modelops/bin/python --no-deps --require-hashes \
        -r /tmp/requirements.txt
COPY features/ features/
COPY registry/ registry/
COPY training/ training/
COPY cli/ cli/
COPY bentos/modelops_bentos/ bentos/modelops_bentos/
RUN uv pip install --python /opt/modelops/bin/python --no-deps \
        ./features ./registry ./training ./cli ./bentos \
    && /opt/modelops/bin/modelops --help >/dev/null \
    && /opt/modelops/bin/modelops score --help >/dev/null \
    && /opt/modelops/bin/python -c "import modelops_bentos.churn.model, modelops_bentos.learning_path.model"

FROM python:3.11.13-slim-bookworm
LABEL org.opencontainers.image.title="modelops-training" \
      org.opencontainers.image.description="modelops training image for retraining Jobs (train, evaluate, gate, publish) and batch scoring Jobs (score)" \
      org.opencontainers.image.source="https://github.com/modelops/modelops" \
      org.opencontainers.image.licenses="Apache-2.0"
# xgboost needs the OpenMP runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1=12.2.0-14* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 65532 modelops \
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
# A batch image: a retraining Job runs to completion and Kubernetes judges it
# by its exit code, so there is no server to health-check.
HEALTHCHECK NONE
ENTRYPOINT ["modelops"]
CMD ["train", "--help"]
