"""The Kubernetes objects the pure code speaks about, as small frozen values.

The identity of a ModelDeployment (`Owner`, for owner references and
events), the parts of a child Deployment the reconcile reads
(`DeploymentState`) and an Event to post (`EventSpec`). Every package of the
operator uses them, so they live with the API's other vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from modelops_operator.api import names


@dataclass(frozen=True)
class DeploymentState:
    """The parts of a child Deployment the reconcile looks at."""

    generation: int = 0
    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    version: str | None = None
    image: str | None = None
    progress_deadline_exceeded: bool = False

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> DeploymentState:
        """Summarise a Deployment as returned by the API (a plain dict)."""
        metadata = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
        image = containers[0].get("image") if containers else None
        deadline = any(
            c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
            for c in status.get("conditions") or []
        )
        return cls(
            generation=int(metadata.get("generation") or 0),
            observed_generation=int(status.get("observedGeneration") or 0),
            replicas=int(spec.get("replicas") if spec.get("replicas") is not None else 1),
            updated_replicas=int(status.get("updatedReplicas") or 0),
            ready_replicas=int(status.get("readyReplicas") or 0),
            available_replicas=int(status.get("availableReplicas") or 0),
            unavailable_replicas=int(status.get("unavailableReplicas") or 0),
            version=(metadata.get("labels") or {}).get(names.LABEL_MODEL_VERSION),
            image=image,
            progress_deadline_exceeded=deadline,
        )

    def runs(self, version: str, image: str) -> bool:
        """True when this Deployment's template already asks for that version and image."""
        return self.version == version and self.image == image

    def rolled_out(self) -> bool:
        """True when the controller has seen the latest spec and every replica is updated and available."""
        return (
            self.observed_generation >= self.generation
            and self.updated_replicas >= self.replicas
            and self.available_replicas >= self.replicas
            and self.unavailable_replicas == 0
        )


@dataclass(frozen=True)
class Owner:
    """Identity of the ModelDeployment, for owner references and events."""

    name: str
    namespace: str
    uid: str
    generation: int = 1


class EventSpec(NamedTuple):
    """A Kubernetes Event to post about the ModelDeployment (a value, like conditions.Cond)."""

    type: str  # "Normal" or "Warning"
    reason: str
    message: str
