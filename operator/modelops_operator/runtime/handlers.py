"""kopf handlers: thin. They name what happened and put the object in the work queue.

There is deliberately no kopf timer: kopf puts a finalizer on every object
that has timers or daemons, so deleting a ModelDeployment would hang while the
operator is down. The level-based resync runs in resync.py instead.

Every handler ends in `WorkQueue.add(namespace, name)`, and the workers call
`Engine.reconcile`, which is level-based: it reads the current object,
children and Jobs and converges, so it does not matter which trigger (a new
or changed ModelDeployment, the listing at start, the resync, a child
Deployment's or a retraining Job's status change, a wake-up timer) fired, or
how many fired at once. The handlers are coroutines that never wait on the
API server, so kopf's event loop hands events over as fast as they arrive.
There are no kopf change handlers either (see on_model_deployment): only
event handlers, which make kopf write nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from modelops_operator.api import names
from modelops_operator.runtime.batch_job import scheduled_owner
from modelops_operator.runtime.children import slim
from modelops_operator.runtime.engine import Engine, owner_name
from modelops_operator.runtime.queue import WorkQueue
from modelops_operator.runtime.settings import OperatorSettings

log = logging.getLogger("modelops.operator")

# Set by `install` before kopf starts (main.run). Module globals because kopf
# handlers are plain functions registered at import time.
_engine: Engine | None = None
_queue: WorkQueue | None = None
_settings: OperatorSettings | None = None

MD = (names.GROUP, names.VERSION, names.PLURAL)
CHILD_LABELS = {names.LABEL_MANAGED_BY: names.MANAGED_BY}


def install(engine: Engine, queue: WorkQueue, settings: OperatorSettings) -> None:
    global _engine, _queue, _settings
    _engine, _queue, _settings = engine, queue, settings


def _enqueue(namespace: str, name: str, trigger: str, body: kopf.Body | None = None) -> None:
    if _queue is None:
        raise kopf.PermanentError(
            "the operator engine was not installed (use modelops operator run)"
        )
    # The body kopf already holds saves reading the object again; it is
    # copied without managedFields, which the operator never reads.
    _queue.add(namespace, name, slim(body) if body is not None else None, trigger=trigger)


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    # The operator registers no change handlers (create/update/resume), so kopf
    # keeps no progress or diff-base records; should one be added, they go to
    # annotations: the CRD's status schema is strict, so kopf's default
    # `status.kopf` would be pruned by the API server.
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
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = 60
    # A stop that does not finish (API server gone) ends in SIGKILL after this
    # long instead of hanging forever; the lease then expires and a follower
    # takes over.
    settings.process.ultimate_exiting_timeout = 30


# What each ModelDeployment looked like when last handed to the queue, as
# far as a reconcile cares (see _trigger_of).
_md_triggers: dict[tuple[str, str], tuple[Any, ...]] = {}


def _trigger_of(body: kopf.Body) -> tuple[Any, ...]:
    """The parts of a ModelDeployment whose change calls for a reconcile.

    The spec (through metadata.generation, which the API server bumps on every
    spec change), labels, annotations (the user actions promote / abort /
    retrain) and deletion. Status is left out: the operator writes it, and
    reacting to its own writes would double every reconcile.
    """
    metadata = body.get("metadata") or {}
    return (
        metadata.get("uid"),
        metadata.get("generation"),
        tuple(sorted((metadata.get("labels") or {}).items())),
        tuple(sorted((metadata.get("annotations") or {}).items())),
        metadata.get("deletionTimestamp") is not None,
    )


@kopf.on.event(*MD)
async def on_model_deployment(
    namespace: str, name: str, body: kopf.Body, type: str | None, **_: Any
) -> None:
    """The object appeared, was listed at start, or its spec, labels or annotations changed.

    An event handler rather than kopf's create/update/resume handlers: those
    record kopf's progress and last-handled configuration in annotations,
    one extra write per change (and a copy of the spec in every object),
    which was a large share of the API traffic when many objects change at
    once. The engine is level-based, so all it needs is to be told when
    something it reads changed; status changes (its own writes) are skipped.
    A new `modelops.io/retrain` (or promote, abort) value is such a change,
    so a user action is acted on at once.
    """
    key = (namespace, name)
    if type == "DELETED":
        # No finalizer is needed: GC deletes the children (and the Jobs; one
        # still held by the record finalizer is released by its Job event).
        _md_triggers.pop(key, None)
        if _engine is not None:
            _engine.tracker.record(namespace, name, None)
        return
    trigger = _trigger_of(body)
    if _md_triggers.get(key) == trigger:
        return
    _md_triggers[key] = trigger
    _enqueue(namespace, name, "ModelDeployment", body)


@kopf.on.event("apps", "v1", "deployments", labels=CHILD_LABELS)
async def on_child_deployment(body: kopf.Body, namespace: str, type: str | None, **_: Any) -> None:
    """A child Deployment changed (e.g. became available): re-check its owner.

    This is what makes Ready follow the real availability of the pods without
    waiting for the resync. It also keeps the engine's memory of its children
    current (children.py), from which reconciles observe them. Events that
    change nothing the reconcile looks at (resourceVersion bumps, controller
    bookkeeping, the echo of our own apply) trigger nothing: without that a
    burst of creations costs several full reconciles per object. The initial
    listing (type None) only fills the memory: every owner is reconciled at
    start anyway.
    """
    owner = owner_name(body)
    if not owner or _engine is None:
        return
    if type == "DELETED":
        _engine.children.forget("Deployment", namespace, body["metadata"]["name"])
        # A deleted child is re-created unless its owner is going away.
        _enqueue(namespace, owner, "Deployment")
        return
    changed = _engine.children.saw_deployment(body)
    if type is not None and changed:
        _enqueue(namespace, owner, "Deployment")


@kopf.on.event("batch", "v1", "jobs", labels=CHILD_LABELS)
async def on_retraining_job(body: kopf.Body, namespace: str, type: str | None, **_: Any) -> None:
    """A retraining Job changed: a finished one is acted on at once (its candidate read,
    the outcome reported), not at the next resync. A scheduled batch run's Job (its
    CronJob controls it) wakes the ModelDeployment its labels name, likewise."""
    owner = owner_name(body) or scheduled_owner(body)
    if not owner or _engine is None:
        return
    if type == "DELETED":
        _engine.jobs.forget(
            namespace, body["metadata"]["name"], body["metadata"].get("resourceVersion")
        )
        _enqueue(namespace, owner, "Job")
        return
    changed = _engine.jobs.saw(body)
    # A Job deleted while the record finalizer holds it (also at start, from the
    # listing): its owner's reconcile records it, or releases it if the owner is gone.
    held = _engine.jobs.record(namespace, body["metadata"]["name"])
    deleting_held = held is not None and held.held and held.deleting
    if (type is not None and changed) or deleting_held:
        _enqueue(namespace, owner, "Job")
