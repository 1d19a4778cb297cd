"""The figures each demo act is judged by, from hand-made timelines."""

from __future__ import annotations

from modelops_cli.demo import figures
from modelops_cli.demo.timeline import Sample, TrackTraffic
from modelops_cli.demo.traffic import NO_VERSION


def s(t, weight=0, canary=None, **traffic):
    return Sample(
        t=t,
        weight=weight,
        canary_version=canary,
        traffic={
            k.lstrip("v"): TrackTraffic(requests=r, ok=r - e, errors=e)
            for k, (r, e) in traffic.items()
        },
    )


def test_weight_dwell_measures_each_nonzero_stretch():
    samples = [s(0), s(1, 25), s(2, 25), s(5, 50), s(9, 0), s(10, 0)]
    assert figures.weight_dwell(samples) == [(25, 4.0), (50, 4.0)]


def test_requests_and_unattributed_errors():
    samples = [s(0, v1=(10, 0), v2=(3, 1)), s(1, v1=(9, 0), **{NO_VERSION: (1, 1)})]
    assert figures.requests_of(samples, "1") == (19, 0)
    assert figures.requests_of(samples, "2") == (3, 1)
    assert figures.unattributed_errors(samples) == 1


def test_served_share_ignores_unanswered():
    samples = [s(0, v1=(6, 0), v2=(2, 0), **{NO_VERSION: (5, 5)})]
    assert figures.served_share(samples, "2") == 0.25
    assert figures.served_share([], "2") is None


def test_weight_vs_share_skips_the_first_sample_of_each_weight():
    samples = [
        s(0, 25, "2", v1=(10, 0)),  # canary pod still starting: not judged
        s(1, 25, "2", v1=(15, 0), v2=(5, 0)),
        s(2, 25, "2", v1=(14, 0), v2=(6, 0)),
        s(3, 50, "2", v1=(20, 0)),
        s(4, 50, "2", v1=(10, 0), v2=(10, 0)),
    ]
    assert figures.weight_vs_share(samples, "2") == [
        {"weight": 25, "served_percent": 27.5},
        {"weight": 50, "served_percent": 50.0},
    ]


def test_within_and_first():
    samples = [s(t) for t in range(5)]
    assert [x.t for x in figures.within(samples, 1, 3)] == [1, 2, 3]
    assert figures.first(samples, lambda x: x.t > 2).t == 3
    assert figures.seconds_between(samples[1], samples[4]) == 3.0
    assert figures.seconds_between(None, samples[4]) is None
