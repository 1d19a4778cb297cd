"""Given / When / Then for the cluster and e2e layers: one ModelDeployment's story against a real API server.

Grown from the unit tests' canary world (tests/unit/operator/rollout/world.py),
which plays the cluster in memory and feeds every written status back as
the next observation. Here the cluster is real -- the API server, the
controllers, kwok, the operator process -- and the story reads the same
way, as Argo Rollouts' test/fixtures tell theirs:

    def test_x(scenario):
        scenario.given.operator(resync=300).model_deployment(manifest).condition("Ready")
        scenario.when.annotated("modelops.io/retrain", "ticket-1")
        job = scenario.then.job("churn-retrain-v1-1-...", within=20)

* `given` sets the stage and waits until it holds (each step fails naming
  what it waited for);
* `when` changes one thing and marks the moment it did;
* `then` waits for the outcome with a bound measured from the last `when`,
  and returns what it saw. Bounds are generous on purpose: the machine is
  shared and noisy, so a test proves *which* mechanism acted (a watch rather
  than a resync minutes away) and in what order, never a tight timing --
  those go into benchmarks/operator_latency.py.

The fixture `scenario` gives each test a fresh namespace and its own story.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from tests.plugins.controlplane import eventually
from tests.plugins.jobs import finish_job
from tests.plugins.operator import OperatorProcess, apply_md, events_for

T = TypeVar("T")


@dataclass
class Story:
    """What the three parts share: the cluster, the object, and the moments `when` marked."""

    kube: Any
    namespace: str
    start_operator: Callable[..., OperatorProcess]
    name: str = "churn"
    operator: OperatorProcess | None = None
    marks: list[tuple[str, float]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        body = self.kube.get_model_deployment(self.namespace, self.name)
        assert body is not None, f"ModelDeployment {self.namespace}/{self.name} is missing"
        return body

    def status(self) -> dict[str, Any]:
        return self.body().get("status") or {}

    def condition(self, ctype: str) -> dict[str, Any] | None:
        for condition in self.status().get("conditions") or []:
            if condition.get("type") == ctype:
                return condition
        return None

    def mark(self, what: str) -> None:
        self.marks.append((what, time.monotonic()))

    def since_mark(self) -> float:
        return time.monotonic() - self.marks[-1][1] if self.marks else 0.0

    def last_mark(self) -> str:
        return self.marks[-1][0] if self.marks else "the start"


class Given:
    def __init__(self, story: Story) -> None:
        self.story = story

    def operator(self, **options: Any) -> Given:
        """A leading operator for the namespace (options as start_operator takes them)."""
        self.story.operator = self.story.start_operator(self.story.namespace, **options)
        return self

    def model_deployment(self, manifest: dict[str, Any]) -> Given:
        self.story.name = manifest["metadata"]["name"]
        apply_md(self.story.kube, self.story.namespace, manifest)
        return self

    def status(self, check: Callable[[dict[str, Any]], T], what: str, timeout: float = 90) -> Given:
        eventually(lambda: check(self.story.status()), timeout=timeout, what=what)
        return self

    def condition(
        self, ctype: str, *, status: str | None = None, reason: str | None = None, timeout=90
    ) -> Given:
        eventually(
            lambda: _matches(self.story.condition(ctype), status, reason),
            timeout=timeout,
            what=f"condition {ctype} ({status or 'any'} / {reason or 'any'})",
        )
        return self


class When:
    def __init__(self, story: Story) -> None:
        self.story = story

    def annotated(self, key: str, value: str) -> When:
        story = self.story
        story.mark(f"{key}={value}")
        story.kube.request(
            "PATCH",
            f"/apis/modelops.io/v1alpha1/namespaces/{story.namespace}/modeldeployments/{story.name}",
            body={"metadata": {"annotations": {key: value}}},
            content_type="application/merge-patch+json",
        )
        return self

    def job_finished(self, name: str, *, succeeded: bool) -> When:
        self.story.mark(f"Job {name} {'succeeded' if succeeded else 'failed'}")
        finish_job(self.story.kube, self.story.namespace, name, succeeded=succeeded)
        return self

    def spec_patched(self, patch: dict[str, Any]) -> When:
        story = self.story
        story.mark(f"spec patched with {patch}")
        story.kube.request(
            "PATCH",
            f"/apis/modelops.io/v1alpha1/namespaces/{story.namespace}/modeldeployments/{story.name}",
            body={"spec": patch},
            content_type="application/merge-patch+json",
        )
        return self


class Then:
    def __init__(self, story: Story) -> None:
        self.story = story

    def within(self, bound: float, check: Callable[[], T], what: str) -> T:
        """`check`'s first truthy value, at most `bound` seconds after the last `when`."""
        story = self.story
        left = bound - story.since_mark()
        try:
            return eventually(check, timeout=max(left, 0.1), what=what)
        except pytest.fail.Exception:
            pytest.fail(
                f"{what}: not within {bound:g} s of {story.last_mark()} "
                f"({story.since_mark():.1f} s have passed)",
                pytrace=False,
            )

    def condition(
        self, ctype: str, *, within: float, status: str | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        return self.within(
            within,
            lambda: (c := self.story.condition(ctype)) and _matches(c, status, reason) and c,
            f"condition {ctype} ({status or 'any'} / {reason or 'any'})",
        )

    def status(self, check: Callable[[dict[str, Any]], T], what: str, *, within: float) -> T:
        return self.within(within, lambda: check(self.story.status()), what)

    def job(self, name: str, *, within: float) -> dict[str, Any]:
        story = self.story
        return self.within(
            within, lambda: story.kube.get("batch/v1", "Job", story.namespace, name), f"Job {name}"
        )

    def events(self, reason: str) -> list[dict[str, Any]]:
        story = self.story
        return [
            e for e in events_for(story.kube, story.namespace, story.name) if e["reason"] == reason
        ]

    def jobs(self) -> list[str]:
        story = self.story
        return sorted(
            j["metadata"]["name"] for j in story.kube.children(story.namespace, story.name, "Job")
        )


def _matches(condition: dict[str, Any] | None, status: str | None, reason: str | None) -> bool:
    return (
        condition is not None
        and (status is None or condition.get("status") == status)
        and (reason is None or condition.get("reason") == reason)
    )


class Scenario:
    def __init__(self, story: Story) -> None:
        self.story = story
        self.given = Given(story)
        self.when = When(story)
        self.then = Then(story)


@pytest.fixture
def scenario(kube, namespace: str, start_operator) -> Scenario:
    return Scenario(Story(kube=kube, namespace=namespace, start_operator=start_operator))
