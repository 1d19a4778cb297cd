"""What the operator knows about its retraining Jobs without asking the API server, and how it creates one.

Fed by the watch of Jobs labelled managed-by modelops (handlers.py), by the
list at start (`prime`) and by the answers to the operator's own creates.
A reconcile reads the Job status.retraining names from here instead of one
GET per reconcile, and the watch tells the handlers when a Job's state
changes, so a finished Job is acted on at once rather than at the next
resync.

Each Job is remembered with its uid and the uid of the object that controls
it, so a reconcile tells its own Job from a same-named stranger (a Job left
behind by a deleted ModelDeployment of the same name, or anyone's). A create
the API server answers with 409 adopts the existing Job only when this
ModelDeployment controls it; a 409 for someone else's Job and a 422 (the
server refused the Job) are remembered as what the create found, for the
next pass to report (never retried in a loop: the pass ends the attempt).

Jobs are created with the record finalizer (retraining/record.py); `release`
removes it once status has recorded the Job, or nothing can any more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.adapters.kube import Conflict, Invalid, KubeAdapter, NotFound, path_for
from modelops_operator.api import names
from modelops_operator.retraining import record as job_record
from modelops_operator.retraining.outcome import job_state
from modelops_operator.retraining.state import JOB_ABSENT, JOB_FOREIGN, JOB_LOST, JOB_REJECTED
from modelops_operator.runtime.freshness import (
    as_version,
    deleted_before_list,
    object_key,
    resource_version,
)

log = logging.getLogger("modelops.operator")

Key = tuple[str, str]

# What `create` did.
CREATED = "created"
ADOPTED = "adopted"
NOT_OWNED = "not_owned"
REFUSED = "refused"
GONE = "gone"  # 409, then deleted before it could be read: the next pass creates it


@dataclass(frozen=True)
class JobRecord:
    """One Job as last seen, or what creating it found."""

    # outcome.job_state; JOB_REJECTED for a create the server refused, JOB_LOST once deleted
    state: str
    uid: str | None = None
    controller: Mapping[str, Any] | None = None  # its controller ownerReference, if any
    note: str = ""  # the API server's message for a refused create
    held: bool = False  # it carries the record finalizer (retraining/record.py)
    deleting: bool = False  # it has a deletionTimestamp (held by a finalizer)
    # metadata.resourceVersion as an integer (None: unknown), to tell an older
    # answer from a newer one (see `saw` and `prime`).
    resource_version: int | None = None
    # It carries the label the relist and the Job watch select on. One without
    # it (a stranger's, known only from the GET after our create's 409) never
    # appears in a list, so its absence there says nothing (see `prime`).
    listed: bool = True

    def seen_by(self, owner_uid: str) -> tuple[str, str | None, str]:
        """(state, uid, note) as the ModelDeployment `owner_uid` must read it: a Job
        another object controls (or nothing does) is Foreign, whatever its state."""
        if self.state == JOB_ABSENT:
            return self.state, None, ""
        ours = self.controller is not None and self.controller.get("uid") == owner_uid
        if self.state == JOB_LOST:  # deleted: ours is lost; a stranger's left the name free
            return (JOB_LOST, self.uid, "") if ours else (JOB_ABSENT, None, "")
        if self.state == JOB_REJECTED:
            return self.state, None, self.note
        if not ours:
            return JOB_FOREIGN, None, describe_controller(self.controller)
        return self.state, self.uid, ""


def describe_controller(ref: Mapping[str, Any] | None) -> str:
    """Who controls a Job, for an Event: 'is controlled by ModelDeployment churn (uid 1f2e...)'."""
    if ref is None:
        return "has no controller (it may be an orphan left by a deleted ModelDeployment)"
    return (
        f"is controlled by {ref.get('kind', '?')} {ref.get('name', '?')} "
        f"(uid {ref.get('uid', '?')}), not by this ModelDeployment"
    )


def record_of(job: Mapping[str, Any]) -> JobRecord:
    metadata = job.get("metadata") or {}
    controller = next(
        (r for r in metadata.get("ownerReferences") or [] if r.get("controller")), None
    )
    return JobRecord(
        job_state(job),
        metadata.get("uid"),
        controller,
        held=job_record.held(job),
        deleting=metadata.get("deletionTimestamp") is not None,
        resource_version=resource_version(job),
        listed=(metadata.get("labels") or {}).get(names.LABEL_MANAGED_BY) == names.MANAGED_BY,
    )


def _older(new: JobRecord, old: JobRecord) -> bool:
    """`new` is an older answer than `old` (a late watch event, a stale list):
    strictly older for a live Job, not newer for one known deleted."""
    if new.resource_version is None or old.resource_version is None:
        return False
    if old.state == JOB_LOST:
        return new.resource_version <= old.resource_version
    return new.resource_version < old.resource_version


class JobMemory:
    """Thread-safe: the handlers, the workers and the resync share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[Key, JobRecord] = {}
        self.primed = False

    def prime(self, jobs: Iterable[Mapping[str, Any]], list_version: str | None = None) -> int:
        """Load the full list; from now on a Job missing here does not exist.

        Called at start and on every resync pass, like ChildMemory.prime (the
        watch may not deliver a Job's completion in time). A known Job
        missing from the list and older than it (`list_version`) was deleted
        unseen: it is forgotten as the watch's DELETED event would have (a Job
        of ours stays as Lost). Returns how many records the list corrected.
        """
        listed: set[Key] = set()
        corrected = 0
        for job in jobs:
            listed.add(object_key(job))
            corrected += self.saw(job)
        with self._lock:  # decided and dropped under one lock: no event slips between
            gone = deleted_before_list(
                (
                    (key, known.resource_version)
                    for key, known in self._records.items()
                    # A Job the list cannot show is not gone for missing from it:
                    # judged so, a stranger's unlabelled Job became a tombstone that
                    # hid it, and every pass tried to create the name again.
                    if known.state != JOB_LOST and known.listed
                ),
                listed,
                as_version(list_version),
            )
            for key in gone:
                self._tombstone(key, None)
        corrected += len(gone)
        first = not self.primed
        self.primed = True
        return 0 if first else corrected

    def saw(self, job: Mapping[str, Any]) -> bool:
        """Record a Job as seen by the watch or a write; True when its state changed.

        An answer older than the one known is ignored: the watch can deliver an
        event after the answer to a later write of ours, and a resync's list
        can be served before a deletion the watch already reported.
        """
        key = object_key(job)
        record = record_of(job)
        with self._lock:
            old = self._records.get(key)
            if old is not None and _older(record, old):
                return False
            self._records[key] = record
        return old is None or (old.state, old.uid, old.deleting) != (
            record.state,
            record.uid,
            record.deleting,
        )

    def refused(self, namespace: str, name: str, message: str) -> None:
        """The API server refused to create this Job (422): remembered for the next pass."""
        with self._lock:
            self._records[(namespace, name)] = JobRecord(JOB_REJECTED, note=message)

    def forget(self, namespace: str, name: str, version: str | None = None) -> None:
        """The Job was deleted (at `version`, the DELETED event's). One that had a
        uid is kept as Lost (a tombstone), so a pass that has not recorded it in status yet
        still never creates it again, and a list served before the deletion cannot revive it."""
        with self._lock:
            self._tombstone((namespace, name), as_version(version))

    def _tombstone(self, key: Key, version: int | None) -> None:
        """forget() with the lock held."""
        old = self._records.pop(key, None)
        if old is not None and old.uid is not None:
            self._records[key] = JobRecord(
                JOB_LOST,
                old.uid,
                old.controller,
                resource_version=version if version is not None else old.resource_version,
            )

    def record(self, namespace: str, name: str) -> JobRecord | None:
        """The Job as last seen, or None when this memory cannot know it (not primed)."""
        with self._lock:
            known = self._records.get((namespace, name))
        if known is None and self.primed:
            return JobRecord(JOB_ABSENT)
        return known

    def state(self, namespace: str, name: str) -> str | None:
        """The Job's state (outcome.job_state), or None when this memory cannot know it."""
        known = self.record(namespace, name)
        return None if known is None else known.state

    def held_for(self, namespace: str, md_name: str) -> list[tuple[str, JobRecord]]:
        """Jobs in `namespace` still holding the record finalizer whose controller is a
        ModelDeployment named `md_name` (whatever its uid: a same-named successor
        releases its predecessor's)."""
        with self._lock:
            return [
                (name, rec)
                for (ns, name), rec in self._records.items()
                if ns == namespace
                and rec.held
                and rec.controller is not None
                and rec.controller.get("name") == md_name
            ]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


def create_job(kube: KubeAdapter, memory: JobMemory, job: Mapping[str, Any], owner_uid: str) -> str:
    """Create a retraining Job; adopt an existing one only when `owner_uid` controls it.

    Returns CREATED, ADOPTED (an earlier, interrupted pass created it),
    NOT_OWNED (someone else's Job has the name: never adopted), REFUSED
    (422) or GONE (409, then deleted before it could be read). Whatever was found is remembered, so the next pass reads it from
    memory. Other API errors propagate: the pass failed and is run again.
    """
    metadata = job["metadata"]
    namespace, name = metadata.get("namespace", ""), metadata["name"]
    try:
        answer = kube.create(job)
    except Conflict:
        existing = kube.get("batch/v1", "Job", namespace, name)
        if existing is None:  # deleted in between: the next pass creates it
            memory.forget(namespace, name)
            return GONE
        record = record_of(existing)
        memory.saw(existing)
        if record.controller is not None and record.controller.get("uid") == owner_uid:
            log.info("retraining Job %s/%s already exists and is ours: adopted", namespace, name)
            return ADOPTED
        log.warning(
            "retraining Job %s/%s already exists and %s: not adopted",
            namespace,
            name,
            describe_controller(record.controller),
        )
        return NOT_OWNED
    except Invalid as exc:
        memory.refused(namespace, name, exc.message)
        log.warning("the API server refused retraining Job %s/%s: %s", namespace, name, exc.message)
        return REFUSED
    memory.saw(answer)
    log.info("created retraining Job %s/%s", namespace, name)
    return CREATED


STRATEGIC_MERGE = "application/strategic-merge-patch+json"


def release(kube: KubeAdapter, memory: JobMemory, namespace: str, name: str) -> None:
    """Remove the record finalizer (only it: other finalizers stay); a Job already gone is fine.

    Called once status has recorded the Job or nothing can (retraining/record.py).
    A deleted Job then goes, and the watch reports it deleted.
    """
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": [job_record.FINALIZER]}}
    try:
        answer = kube.request(
            "PATCH",
            path_for("batch/v1", "Job", namespace, name),
            body=patch,
            content_type=STRATEGIC_MERGE,
        )
    except NotFound:
        return
    metadata = answer.get("metadata") or {}
    if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
        # That was its last finalizer: it is gone. Remembered as deleted (a
        # tombstone), whichever comes first, this or the watch's DELETED: seeing
        # the answer after the DELETED would bring the Job back to memory.
        memory.forget(namespace, name)
    else:
        memory.saw(answer)
    log.info(
        "retraining Job %s/%s recorded: finalizer %s removed", namespace, name, job_record.FINALIZER
    )
