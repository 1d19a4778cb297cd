"""Moved to tests/plugins/operator.py (a pytest plugin: the fixtures need no import).

Kept only so that tests written against this path (on branches started
before the move) still import; new tests import from tests.plugins.operator.
"""

from tests.plugins.operator import (  # noqa: F401
    IMAGE,
    MODELOPS,
    OperatorProcess,
    apply_md,
    events_for,
    eventually,
    get_md,
    kubectl,
    md_manifest,
    play_kubelet,
    wait_condition,
)
