"""The parts the demo's view and report are built from: the shared report
primitives (modelops_cli.reports), the numbers derived from a timeline
(demo.series), and the timeline's JSON form with the fields they read."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from modelops_cli.demo import series
from modelops_cli.demo.summary import summary
from modelops_cli.demo.timeline import Act, Event, Sample, Timeline, TrackTraffic, validate
from modelops_cli.demo.traffic import NO_VERSION
from modelops_cli.reports import figures, html, style

# --- html ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("<b>&\"'", "&lt;b&gt;&amp;&quot;&#x27;"),
        (None, ""),
        (3, "3"),
        (html.Html("<b>kept</b>"), "<b>kept</b>"),
    ],
)
def test_esc(value, text):
    assert html.esc(value) == text


def test_table_escapes_cells_and_keeps_html_fragments():
    out = html.table(
        ["name", "<value>"],
        [("<i>x</i>", html.badge("ok", "ok")), ("y", None)],
        row_classes=["warning", None],
        numeric=(1,),
    )
    assert "&lt;i&gt;x&lt;/i&gt;" in out
    assert '<span class="badge ok">ok</span>' in out
    assert "<th>&lt;value&gt;</th>" not in out and '<th class="num">&lt;value&gt;</th>' in out
    assert '<tr class="warning">' in out
    assert html.table(["a"], [], empty="nothing here") == '<p class="empty">nothing here</p>'


def test_element_escapes_attribute_values():
    out = html.element("span", "x", class_='a" onclick="evil', style="background:#fff")
    assert out == '<span class="a&quot; onclick=&quot;evil" style="background:#fff">x</span>'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "\u2013"),
        (True, "yes"),
        (12345, "12,345"),
        (0.123456, "0.1235"),
        (math.nan, "\u2013"),
    ],
)
def test_number(value, text):
    assert html.number(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (59.6, "1:00"), (61, "1:01"), (600, "10:00"), (-5, "-0:05"), (None, "\u2013")],
)
def test_clock(seconds, text):
    assert html.clock(seconds) == text


def test_page_is_one_document_with_its_css_and_a_contents_line(tmp_path):
    page = html.Page(title="T <1>", subtitle="s", footer="f")
    page.section("First part", html.paragraph("body"), intro="why")
    out = page.write(tmp_path / "r.html").read_text()
    assert out.startswith("<!DOCTYPE html>")
    assert "<title>T &lt;1&gt;</title>" in out
    assert '<a href="#first-part">First part</a>' in out
    assert '<section id="first-part"><h2>First part</h2>' in out
    assert "<style>" in out and "<link" not in out
    assert not list(tmp_path.glob("*.tmp"))


# --- figures ------------------------------------------------------------------------------


def test_figure_to_inline_svg():
    with figures.plotting():
        fig, (ax,) = figures.new_figure()
        figures.line_with_threshold(
            ax, [0, 1, 2], {"a": [0.1, None, 0.3]}, threshold=0.2, title="t", ylabel="y"
        )
        svg = figures.to_svg(fig, "k")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'viewBox="' in svg
    assert not svg.startswith("<svg width")  # the page sets the width, not the figure
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a", "threshold (0.2)"]


def test_line_with_threshold_draws_gaps_for_missing_values():
    with figures.plotting():
        _, (ax,) = figures.new_figure()
        figures.line_with_threshold(ax, [0, 1, 2], {"a": [1.0, None, 3.0]})
    ys = ax.get_lines()[0].get_ydata()
    assert ys[0] == 1.0 and math.isnan(ys[1]) and ys[2] == 3.0
    assert ax.get_legend() is not None


def test_reference_vs_observed_bars_are_shares_of_each_distribution():
    with figures.plotting():
        fig, (ax,) = figures.new_figure()
        figures.reference_vs_observed(ax, ["a", "b"], [1, 3], [30, 10], title="plan")
        svg = figures.to_svg(fig, "hist")
    heights = [round(p.get_height(), 6) for p in ax.patches]
    assert heights == [25.0, 75.0, 75.0, 25.0]
    assert svg.count("<svg") == 1


@pytest.mark.parametrize(
    ("labels", "reference", "observed", "message"),
    [
        (["a", "b"], [1, 1], [1, 1, 1], "observed has 3 buckets, reference has 2"),
        (["a"], [1, 1], None, "1 labels for 2 buckets"),
    ],
)
def test_reference_vs_observed_refuses_mismatched_buckets(labels, reference, observed, message):
    with figures.plotting():
        _, (ax,) = figures.new_figure()
        with pytest.raises(ValueError, match=message):
            figures.reference_vs_observed(ax, labels, reference, observed)


@pytest.mark.parametrize(
    ("edges", "labels"),
    [
        ([], ["all"]),
        ([5], ["\u2264 5", "> 5"]),
        ([0, 2.5, 10], ["\u2264 0", "0\u20132.5", "2.5\u201310", "> 10"]),
    ],
)
def test_bucket_labels(edges, labels):
    assert figures.bucket_labels(edges) == labels


# --- style --------------------------------------------------------------------------------


def test_versions_get_colours_in_version_order():
    colors = style.version_colors(["10", "2", "1"])
    assert list(colors) == ["1", "2", "10"]
    assert colors["1"] == style.VERSION_PALETTE[0]
    assert style.THRESHOLD not in colors.values()
    assert style.track_color("stable") != style.track_color("canary")


# --- series -------------------------------------------------------------------------------


def _sample(t: float, **traffic: tuple[int, int]) -> Sample:
    return Sample(
        t=t,
        traffic={v: TrackTraffic(requests=r, ok=r - e, errors=e) for v, (r, e) in traffic.items()},
    )


def test_share_and_errors_over_a_trailing_window():
    samples = [
        _sample(1.0, **{"1": (10, 0)}),
        _sample(2.0, **{"1": (6, 0), "2": (4, 2)}),
        _sample(3.0, **{"1": (5, 0), "2": (5, 0)}),
    ]
    shares = series.share_series(samples, ["1", "2"], seconds=2.0)
    assert shares["1"] == [100.0, 80.0, 55.0]
    assert shares["2"] == [None, 20.0, 45.0]  # served nothing in the first window: a gap
    errors = series.error_series(samples, ["1", "2"], seconds=2.0)
    assert errors["2"] == [None, 50.0, pytest.approx(100 * 2 / 9)]


@pytest.mark.parametrize(
    ("message", "version"),
    [
        ("canary version 3 rolled back at step 1/3 (weight 25%): error-rate", "3"),
        ("version 2 promoted to stable", "2"),
        ("retraining Job j produced candidate 4, approved (auc=0.9)", "4"),
        ("deploying model churn version 1 (image x) as stable", "1"),
        ("load generator started", None),
    ],
)
def test_event_version(message, version):
    assert (
        series.event_version(Event(t=0, source="operator", reason="R", message=message)) == version
    )


def test_analyses_are_counted_once_however_long_status_shows_them():
    checks_a = [{"name": "error-rate", "measuredAt": "a"}]
    checks_b = [{"name": "error-rate", "measuredAt": "b"}]
    timeline = Timeline(started_at="", namespace="n", name="m", model="m")
    for t, checks in [(1, []), (2, checks_a), (3, checks_a), (4, checks_b), (5, []), (6, checks_b)]:
        timeline.add(Sample(t=float(t), canary_version="3", checks=checks))
    assert [t for t, _, _ in series.analyses(timeline)] == [2.0, 4.0, 6.0]


# --- timeline JSON ---------------------------------------------------------------------------


def test_checks_round_trip_and_older_timelines_without_them_load():
    timeline = Timeline(started_at="", namespace="n", name="m", model="m")
    timeline.add(Sample(t=1.0, checks=[{"name": "error-rate", "value": 0.3, "verdict": "Fail"}]))
    data = timeline.to_json()
    assert Timeline.from_json(data) == timeline
    del data["samples"][0]["checks"]
    assert Timeline.from_json(data).samples[0].checks == []


def _timeline_with(**changes) -> Timeline:
    timeline = Timeline(started_at="", namespace="n", name="m", model="m")
    timeline.add(Sample(t=1.0, traffic={"2": TrackTraffic(requests=3, ok=3)}))
    timeline.events.append(Event(t=1.0, source="demo", reason="R", message="m"))
    timeline.acts.append(Act(name="promote", title="t", started=0.0))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = timeline
        for part in parents:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
        setattr(target, last, value)
    return timeline


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"samples__0__weight": "abc"}, "samples[0].weight: expected int, got 'abc'"),
        ({"samples__0__weight": True}, "samples[0].weight: expected int, got True"),
        ({"events__0__t": None}, "events[0].t: expected float, got None"),
        ({"acts__0__passed": "yes"}, "acts[0].passed: expected bool | None, got 'yes'"),
        ({"versions": {"2": []}}, "versions['2']: expected dict[str, Any], got []"),
        (
            {"samples__0__ready_pods": {"canary": "1"}},
            "samples[0].ready_pods['canary']: expected int, got '1'",
        ),
    ],
)
def test_validate_names_the_field_with_the_wrong_type(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        validate(_timeline_with(**changes))


def test_validate_accepts_the_recorded_sample_and_json_numbers():
    validate(Timeline.load(Path(__file__).parent / "data" / "demo_timeline.json"))
    validate(_timeline_with(samples__0__t=1, samples__0__drift_score=0))  # ints for floats


def test_only_the_model_deployments_own_events_decide_a_fate():
    timeline = Timeline(started_at="", namespace="n", name="m", model="m")
    timeline.events += [
        # The observer records every event of the namespace, pods' included.
        Event(1.0, "operator", "Created", "Created container: model version 9", object="Pod/p"),
        Event(
            2.0, "operator", "Promoted", "version 2 promoted to stable", object="ModelDeployment/m"
        ),
        Event(3.0, "operator", "Pulled", "image present", object="Pod/p"),
        Event(4.0, "operator", "BackOff", "restarting failed container", "Warning", "Pod/p"),
        Event(5.0, "kubernetes", "Completed", "Job completed", object="Job/j"),
    ]
    assert list(series.fates(timeline)) == ["2"]
    assert [e.t for e in timeline.events if series.notable(e)] == [2.0, 4.0, 5.0]


def test_requests_without_an_answer_are_not_a_version():
    samples = [_sample(1.0, **{"2": (8, 0), NO_VERSION: (2, 2)})]
    timeline = Timeline(started_at="", namespace="n", name="m", model="m", samples=samples)
    assert series.versions_seen(timeline) == ["2"]
    assert series.share_series(samples, ["2"])["2"] == [100.0]
    head = summary(timeline)["headline"]
    assert (head["requests"], head["failed_requests"], head["unanswered_requests"]) == (10, 2, 2)
