"""kopf handlers: thin. They name what happened and hand over to the engine.

There is deliberately no kopf timer: kopf puts a finalizer on every object
that has timers or daemons, so deleting a ModelDeployment would hang while the
operator is down. The level-based resync runs in resync.py instead.

Every handler ends in `Engine.reconcile(namespace, name)`, which is
level-based: it reads the current object and children and converges, so it
does not matter which trigger (create, update, resume, timer, a child
Deployment's status change) fired, or how many fired at once.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from modelops_operator import names
from modelops_operator.engine import ConflictRetriesExhausted, Engine, owner_name
from modelops_operator.plan import DeploymentState
from modelops_operator.settings import OperatorSettings

log = logging.getLogger("modelops.operator")

# Set by `install` before kopf starts (main.run). A module global because kopf
# handlers are plain functions registered at import time.
_engine: Engine | None = None
_settings: OperatorSettings | None = None

MD = (names.GROUP, names.VERSION, names.PLURAL)
CHILD_LABELS = {names.LABEL_MANAGED_BY: names.MANAGED_BY}


def install(engine: Engine, settings: OperatorSettings) -> None:
    global _engine, _settings
    _engine, _settings = engine, settings


def _run(namespace: str, name: str) -> None:
    if _engine is None:
        raise kopf.PermanentError(
            "the operator engine was not installed (use modelops operator run)"
        )
    try:
        _engine.reconcile(namespace, name)
    except ConflictRetriesExhausted as exc:
        # kopf retries TemporaryError with a delay; the object is busy, not broken.
        raise kopf.TemporaryError(str(exc), delay=2) from exc


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    # kopf's progress and diff-base records go to annotations: the CRD's status
    # schema is strict, so kopf's default `status.kopf` would be pruned by the
    # API server and kopf would never see its own progress.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="modelops.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="modelops.io", key="last-handled-configuration"
    )
    # The engine posts the decision events itself; kopf adds only its warnings
    # about failing handlers.
    settings.posting.level = logging.WARNING
    settings.posting.reporting_component = names.EVENT_COMPONENT
    # One writer is guaranteed by the Lease (leader.py), not by kopf peering.
    settings.peering.standalone = True
    settings.execution.max_workers = _settings.workers if _settings else 8
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = 60
    # A stop that does not finish (API server gone, a long backlog in the
    # thread pool) ends in SIGKILL after this long instead of hanging forever;
    # the lease then expires and a follower takes over.
    settings.process.ultimate_exiting_timeout = 30


@kopf.on.resume(*MD)
@kopf.on.create(*MD)
@kopf.on.update(*MD)
def on_model_deployment(namespace: str, name: str, **_: Any) -> None:
    """Spec, labels or annotations changed (or the operator started): converge."""
    _run(namespace, name)


# Last seen summary of each child Deployment, to skip watch events that change
# nothing the reconcile looks at (resourceVersion bumps, our own no-op applies,
# controller bookkeeping). Without it a burst of creations costs several full
# reconciles per object.
_child_states: dict[tuple[str, str], DeploymentState] = {}


@kopf.on.event("apps", "v1", "deployments", labels=CHILD_LABELS)
def on_child_deployment(body: kopf.Body, namespace: str, type: str | None, **_: Any) -> None:
    """A child Deployment changed (e.g. became available): re-check its owner.

    This is what makes Ready follow the real availability of the pods without
    waiting for the resync. The initial listing (type None) is skipped: the
    resume handler reconciles every owner at start anyway.
    """
    owner = owner_name(body)
    if not owner:
        return
    key = (namespace, body["metadata"]["name"])
    if type == "DELETED":
        _child_states.pop(key, None)
        # A deleted child is re-created unless its owner is going away.
        _run(namespace, owner)
        return
    state = DeploymentState.from_object(body)
    unchanged = _child_states.get(key) == state
    _child_states[key] = state
    if type is not None and not unchanged:
        _run(namespace, owner)


@kopf.on.event(*MD)
def on_model_deployment_event(namespace: str, name: str, type: str | None, **_: Any) -> None:
    """Forget deleted objects in the phase metrics (no finalizer is needed: GC deletes children)."""
    if type == "DELETED" and _engine is not None:
        _engine.tracker.record(namespace, name, None)
