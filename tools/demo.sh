#!/usr/bin/env bash
# `make demo`: the whole loop on a real local node (`modelops demo`).
#
# Make has already provided the workspace, the control plane and the node's
# binaries (make venv controlplane node images-tools); `modelops demo` builds
# or finds the images, helm, Prometheus and the S3 server (all cached under
# ~/.cache/modelops), brings the cluster up, plays the three acts and writes
# the report. Arguments go to `modelops demo`, e.g. `make demo DEMO_ARGS=--keep`.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENTOML_DO_NOT_TRACK=true OMP_NUM_THREADS=1
exec .venv/bin/modelops demo "$@"
