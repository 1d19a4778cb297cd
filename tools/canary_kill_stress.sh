#!/usr/bin/env bash
# Stress the canary's crash safety: kill -9 the operator (leader election on)
# at uniformly random instants of many rollouts -- the cluster test
# test_operator_canary_kill.py with many more kills per scenario. It prints
# one line per scenario: kills, rollouts, divergent end states, seconds, seed
# (MODELOPS_CHAOS_SEED=<seed> replays one).
# Usage: tools/canary_kill_stress.sh [KILLS_PER_SCENARIO]
# Default 100 per scenario (promotions and rollbacks): each kill costs an
# operator start-up (~3 s on 2 cores) plus half a rollout, so ~12 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export MODELOPS_CANARY_KILLS="${1:-100}"
export BENTOML_DO_NOT_TRACK=true OMP_NUM_THREADS=1
exec .venv/bin/pytest -m cluster -p no:cacheprovider -q -s \
    tests/cluster/test_operator_canary_kill.py --timeout 0
