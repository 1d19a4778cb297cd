"""The record finalizer: a retraining Job cannot vanish before status records it (pure).

status.retraining names the decided Job before it is created and records its
uid (`jobUID`) once the Job was seen. So a Job that is absent while its uid
is recorded was deleted (RetrainingLost, never created again), and one absent
without it was never created (create it: the decision is persisted). Between
the create and that record the two look alike: an operator killed there, and
the Job deleted before the next one starts, would create the Job a second
time for the same decision.

So the operator creates each Job with a finalizer that holds it -- deleted,
it stays, Terminating, with its uid -- until status records it, and removes
the finalizer right after the status write that records it (normally the
pass after the create). It is the pattern of the Job controller's own
`batch.kubernetes.io/job-tracking` finalizer on pods, which keeps a pod
visible until the Job has counted it. The finalizer is also removed when
nothing can record the Job any more: its ModelDeployment is gone (or is
another object of the same name), or status moved on to another Job or
state. So it never outlives the operator's next look, and a ModelDeployment
deleted while the operator is down leaves its Jobs Terminating only until the
operator is back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops_operator.retraining.state import RUNNING

FINALIZER = "modelops.io/retraining-record"


def held(job: Mapping[str, Any]) -> bool:
    """Whether the Job still carries the record finalizer."""
    return FINALIZER in ((job.get("metadata") or {}).get("finalizers") or ())


def must_hold(
    *,
    job_name: str,
    job_uid: str | None,
    controller_uid: str | None,
    md_uid: str | None,
    retraining: Mapping[str, Any],
) -> bool:
    """Whether the finalizer must stay: the Job's ModelDeployment (`md_uid`, None when
    gone) still has it as its open decision (`retraining`, its status.retraining as
    last written) and has not recorded it (jobUID)."""
    return (
        md_uid is not None
        and controller_uid == md_uid
        and retraining.get("state") == RUNNING
        and retraining.get("job") == job_name
        and retraining.get("jobUID") != job_uid
    )
