"""The demo's HTML report and JSON summary, written from the recorded sample run,
and `modelops demo report` re-rendering them from a saved timeline."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelops_cli.demo.report import write_report
from modelops_cli.demo.timeline import Event, Sample, Timeline
from modelops_cli.main import cli
from modelops_cli.reports.figures import ReportExtraMissing

SAMPLE = Path(__file__).parent / "data" / "demo_timeline.json"
PLOTS = 4  # traffic split, health per track, health per version, drift
HOSTILE = "<script>alert('owned')</script>"


@pytest.fixture(scope="module")
def run() -> Timeline:
    return Timeline.load(SAMPLE)


@pytest.fixture(scope="module")
def written(run, tmp_path_factory) -> Path:
    return write_report(run, tmp_path_factory.mktemp("report"))


def test_one_self_contained_file_and_a_summary(written):
    assert written.name == "report.html"
    assert sorted(p.name for p in written.parent.iterdir()) == ["report.html", "summary.json"]
    page = written.read_text()
    assert page.startswith("<!DOCTYPE html>")
    for external in ('src="http', "src='http", "<link", "<script", "@import", "url(http"):
        assert external not in page, f"the report refers to something outside itself: {external}"
    # Inside the SVGs, references are fragment-only (#id), never a file or a URL.
    refs = set(re.findall(r'(?:xlink:)?href="([^"]*)"', page))
    assert all(ref.startswith("#") for ref in refs), sorted(
        r for r in refs if not r.startswith("#")
    )


def test_a_plot_per_figure_inline(written):
    page = written.read_text()
    assert page.count("<svg") == PLOTS
    assert page.count("<figure>") == PLOTS
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page


def test_the_sections_a_newcomer_reads(written, run):
    page = written.read_text()
    for title in (
        "Outcome",
        "Traffic split",
        "Errors and latency",
        "Canary analyses",
        "Drift",
        "Model versions",
        "Events",
        "Settings",
    ):
        assert f"<h2>{title}</h2>" in page
    for act in run.acts:
        assert act.outcome in page
    assert "rolled back" in page and "approved" in page
    # Warning events are highlighted.
    warnings = sum(1 for e in run.events if e.type == "Warning")
    assert page.count('<tr class="warning">') == warnings


def test_every_gate_of_every_version_with_its_value_and_threshold(written, run):
    page = written.read_text()
    for version, meta in run.versions.items():
        assert f"v{version} " in page
        for gate in meta["gates"]:
            assert f"<td>{gate}</td>" in page
    # v4 was made by a retraining Job on drift: the card says which and why.
    job = run.versions["4"]["retraining"]["job"]
    assert f"Trigger: retraining Job {job} (reason Drift)" in page


def test_a_rejected_candidate_shows_which_gate_refused_it(run, tmp_path):
    rejected = copy.deepcopy(run)
    meta = rejected.versions["4"]
    meta["status"] = "rejected"
    meta["gates"]["maxFairnessGap"].update(passed=False, value=0.12)
    page = write_report(rejected, tmp_path).read_text()
    card = page.split("</span>v4 ")[1].split('<div class="block">')[0]
    assert '<span class="badge fail">rejected</span>' in card
    failed_rows = re.findall(r'<tr class="failed">(.*?)</tr>', card)
    assert len(failed_rows) == 1
    assert "maxFairnessGap" in failed_rows[0] and "0.12" in failed_rows[0]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["versions"]["4"]["gates_passed"] is False


def test_summary_carries_each_act_and_the_headline(written, run):
    summary = json.loads(written.with_name("summary.json").read_text())
    assert [(a["name"], a["outcome"], a["passed"]) for a in summary["acts"]] == [
        (a.name, a.outcome, a.passed) for a in run.acts
    ]
    assert summary["acts"][1]["figures"] == run.act("rollback").figures
    assert summary["passed"] is True
    head = summary["headline"]
    assert head["promoted"] == ["2", "4"]
    assert head["rolled_back"] == ["3"]
    assert head["final_stable_version"] == "4"
    assert head["failed_requests_stable_version"] == 0
    assert head["failed_requests"] == sum(t.errors for s in run.samples for t in s.traffic.values())
    assert summary["versions"]["3"]["status"] == "approved"


def test_every_string_is_escaped(run, tmp_path):
    hostile = copy.deepcopy(run)
    hostile.events.append(Event(t=10.0, source="operator", reason=HOSTILE, message=HOSTILE))
    hostile.acts[0].outcome = HOSTILE
    hostile.settings["note"] = HOSTILE
    hostile.versions["2"]["dataset"]["name"] = HOSTILE
    page = write_report(hostile, tmp_path).read_text()
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page


def test_hostile_names_inside_the_plots_stay_text(tmp_path):
    timeline = Timeline(started_at="", namespace="ml", name="churn", model="churn")
    for t in range(5):
        timeline.add(Sample(t=float(t), drift_score=0.1, drift_features={HOSTILE: 0.1 * t}))
    page = write_report(timeline, tmp_path).read_text()
    assert "<script" not in page


def test_an_empty_timeline_still_makes_a_report(tmp_path):
    empty = Timeline(started_at="2026-12-07T10:14:03Z", namespace="ml", name="churn", model="churn")
    page = write_report(empty, tmp_path).read_text()
    assert page.count("nothing was recorded for this plot") == PLOTS
    assert "no act was played" in page
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"] is False
    assert summary["headline"]["failed_share"] is None


def test_the_same_timeline_gives_the_same_bytes(run, written, tmp_path):
    again = write_report(run, tmp_path)
    assert again.read_bytes() == written.read_bytes()


def test_without_matplotlib_one_line_says_what_to_install(run, tmp_path, monkeypatch):
    # None in sys.modules makes `import matplotlib` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ReportExtraMissing, match=r"pip install 'modelops\[report\]'"):
        write_report(run, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    result = CliRunner().invoke(cli, ["demo", "report", str(SAMPLE), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: HTML reports need matplotlib, which is not installed: pip install 'modelops[report]'"
    ]


# --- the command ----------------------------------------------------------------------------


def test_command_rerenders_a_saved_timeline(tmp_path):
    result = CliRunner().invoke(
        cli, ["demo", "report", str(SAMPLE), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert f"report:  {tmp_path / 'out' / 'report.html'}" in result.output
    assert "every act passed" in result.output
    assert (tmp_path / "out" / "summary.json").is_file()


def test_command_writes_next_to_the_timeline_by_default(run, tmp_path):
    saved = run.save(tmp_path / "timeline.json")
    result = CliRunner().invoke(cli, ["demo", "report", str(saved)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").is_file()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "is not a demo timeline: Expecting property name"),
        (json.dumps({"schema": 99}), "timeline schema 99 is not 1"),
        (
            json.dumps(
                {
                    "schema": 1,
                    "started_at": "",
                    "namespace": "ml",
                    "name": "c",
                    "model": "c",
                    "samples": [{"t": 1, "colour": "red"}],
                }
            ),
            "unexpected keyword argument 'colour'",
        ),
        (
            json.dumps(
                {
                    "schema": 1,
                    "started_at": "",
                    "namespace": "ml",
                    "name": "c",
                    "model": "c",
                    "samples": [{"t": 1, "traffic": {"2": {"requests": "many"}}}],
                }
            ),
            "samples[0].traffic['2'].requests: expected int, got 'many'",
        ),
    ],
    ids=["not-json", "other-schema", "unknown-field", "wrong-type"],
)
def test_command_refuses_what_is_not_a_timeline(tmp_path, content, says):
    bad = tmp_path / "timeline.json"
    bad.write_text(content)
    result = CliRunner().invoke(cli, ["demo", "report", str(bad)])
    assert result.exit_code == 1
    assert says in result.output
    assert "Traceback" not in result.output


def test_command_is_listed_under_modelops_demo():
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    assert "report" in result.output


def test_versions_known_only_by_their_training_result_or_by_status(run, tmp_path):
    # What a run records when it keeps `modelops train`'s result rather than the
    # registry's metadata.json, and nothing at all for the retraining candidate.
    sparse = copy.deepcopy(run)
    sparse.versions = {
        v: {k: meta[k] for k in ("version", "status", "metrics", "gates")}
        for v, meta in run.versions.items()
        if v != "4"
    }
    page = write_report(sparse, tmp_path).read_text()
    card = page.split("</span>v4 ")[1]
    assert "Trigger: the candidate of retraining Job churn-retrain-5d1f0c2e-v2-1-" in card
    assert '<span class="badge muted">no metadata</span>' in card
    v2 = page.split("</span>v2 ")[1].split('<div class="block">')[0]
    assert "published \u2013" not in v2 and "data \u2013" not in v2
