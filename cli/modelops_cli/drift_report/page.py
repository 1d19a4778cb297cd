"""The drift report as one self-contained HTML page (inline CSS and SVG, no links out).

Built from modelops_cli.reports' pieces: the same page, tables, badges and
the same reference-vs-observed histogram (`figures.feature_distribution`)
as the other reports.
"""

from __future__ import annotations

from pathlib import Path

from modelops_cli.drift_report.measure import FeatureDrift, Measurement
from modelops_cli.reports import figures
from modelops_cli.reports.html import (
    Html,
    Page,
    badge,
    cards,
    code,
    element,
    figure,
    join,
    key_values,
    number,
    paragraph,
    table,
)
from modelops_operator.drift import verdict as verdicts

VERDICT_KIND = {verdicts.DRIFTED: "fail", verdicts.NOT_DRIFTED: "ok"}


def build_page(m: Measurement) -> Page:
    s = m.settings
    page = Page(
        title=f"Drift of {m.model} version {m.version}",
        subtitle=f"{m.data} ({m.rows:,} rows) against the version's reference profile "
        f"(its training data), measured as the operator measures live traffic",
        footer="Written by `modelops drift report`: the operator's drift maths "
        "(modelops_features.drift, modelops_operator.drift) run on a file.",
    )
    page.section(
        "Summary",
        cards(
            [
                ("verdict", m.verdict, VERDICT_KIND.get(m.verdict, "warn")),
                (f"score ({s.method})", number(m.report.score), _kind(m.report.score, s)),
                ("threshold", number(s.threshold), "info"),
                ("features drifting", f"{len(m.drifted)} of {len(m.features)}", "info"),
                ("rows", f"{m.rows:,}", "info"),
            ]
        ),
        paragraph(
            join(
                [
                    "Drifted condition the operator would set: ",
                    badge(m.condition.status, VERDICT_KIND.get(m.verdict, "warn")),
                    " ",
                    code(m.condition.reason),
                    f" {m.condition.message}",
                ]
            )
        ),
        _features_table(m),
        intro="The score is the highest feature's; the verdict is Drifted when it is above "
        "the threshold and the data holds at least minSamples rows (fewer: InsufficientData, "
        "never a retraining trigger).",
    )
    page.section(
        "Features",
        *(_feature_figure(f, m) for f in m.features),
        intro="Per feature, the share of values in each bucket of the reference profile: the "
        "training data (grey) against this file (blue). Numeric buckets are Prometheus `le` "
        "buckets over the profile's edges; categories outside the profile count as __other__.",
    )
    page.section(
        "Settings",
        key_values(
            [
                ("model", m.model),
                ("version", m.version),
                ("model kind", m.kind),
                ("registry", m.registry),
                ("data", m.data),
                ("method", s.method),
                ("threshold", number(s.threshold)),
                ("minSamples", number(s.min_samples)),
                ("samples", number(m.report.samples)),
            ]
        ),
    )
    return page


def write(m: Measurement, path: Path) -> Path:
    return build_page(m).write(path)


def _kind(score: float, settings) -> str:
    return "fail" if score > settings.threshold else "ok"


def _drift_badge(f: FeatureDrift) -> Html:
    return badge("drifts", "fail") if f.drifts else badge("stable", "ok")


def _features_table(m: Measurement) -> Html:
    return table(
        ("feature", "kind", f"score ({m.settings.method})", "threshold", "", "missing values"),
        [
            (
                f.name,
                f.kind,
                number(f.score),
                number(m.settings.threshold),
                _drift_badge(f),
                number(f.missing),
            )
            for f in m.features
        ],
        numeric=(2, 3, 5),
        row_classes=["failed" if f.drifts else None for f in m.features],
    )


def _feature_figure(f: FeatureDrift, m: Measurement) -> Html:
    s = m.settings
    relation = ">" if f.drifts else "\u2264"
    title = f"{f.name}: {s.method} {f.score:.3f} {relation} threshold {s.threshold:g}"
    svg = figures.feature_distribution(
        f.profile,
        f.observed,
        key=f"feature-{f.name}",
        title=title,
        observed_label=f"observed ({Path(m.data).name})",
    )
    # The plot's text is drawn as paths, so the caption names the feature for
    # search and for screen readers.
    caption = join(
        [
            element("b", f.name),
            " ",
            _drift_badge(f),
            f" {f.kind}; {s.method} {f.score:.4f}; {sum(f.observed):,} values counted, "
            f"{f.missing:,} missing",
        ]
    )
    return figure(svg, caption)
