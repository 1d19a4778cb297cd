"""The demo's ModelDeployment: how many canary requests an analysis needs."""

from __future__ import annotations

import pytest

from modelops_cli.demo.manifests import Settings, modeldeployment


@pytest.mark.parametrize(
    ("settings", "required"),
    [
        # 20 req/s x 25 % x 20 s = 100 expected in the first step: 40 % of it.
        (Settings(), 40),
        # The node tests' 10 s steps halve the traffic, so they halve the bar: a
        # fixed 40 against ~50 expected (fewer once the new pod's first scrape
        # is missed) was Inconclusive in up to 30 % of first analyses.
        (Settings(interval_seconds=10), 20),
        (Settings(interval_seconds=10, rate=40.0), 40),
        (Settings(steps=(50,), interval_seconds=10), 40),
        # Never below 10: a count that small says nothing about error rates.
        (Settings(interval_seconds=2, rate=5.0), 10),
        # Named explicitly, it is what the user asked for.
        (Settings(interval_seconds=10, min_requests=10), 10),
    ],
)
def test_min_requests_follows_the_first_steps_traffic(settings, required):
    assert settings.required_requests == required
    body = modeldeployment(settings, bento_image="bento:1", training_image="training:1")
    assert body["spec"]["rollout"]["analysis"]["minRequests"] == required
