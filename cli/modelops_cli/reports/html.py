"""Escaped HTML fragments and a one-file page (inline CSS, no scripts, no links).

Every helper escapes what it is given unless it is already `Html`: text from a
timeline, a registry or a cluster (event messages, feature names, versions) is
data, never markup, so a hostile event message shows up as text. Only the
helpers here and `figures.to_svg` produce `Html`.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DASH = "\u2013"  # shown for a missing value


class Html(str):
    """Markup that is already safe to insert; everything else gets escaped."""

    __slots__ = ()


def esc(value: object) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    return Html(esc(sep).join(esc(p) for p in parts))


def element(name: str, content: object = "", **attrs: object) -> Html:
    """<name attrs>content</name>; `class_` spells the class attribute."""
    rendered = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{esc(value)}"'
        for key, value in attrs.items()
        if value is not None
    )
    return Html(f"<{name}{rendered}>{esc(content)}</{name}>")


def number(value: object, digits: int = 4, unit: str = "") -> str:
    """A number for a table cell: 4 significant digits, a dash when missing."""
    if value is None or isinstance(value, bool):
        return DASH if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return f"{value:,}{unit}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return DASH
        return f"{value:.{digits}g}{unit}"
    return str(value)


def clock(seconds: float | None) -> str:
    """Seconds as m:ss (negative as -m:ss), a dash when missing."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    sign = "-" if seconds < 0 else ""
    whole = round(abs(seconds))
    return f"{sign}{whole // 60}:{whole % 60:02d}"


def badge(text: object, kind: str = "info") -> Html:
    """A small coloured label; kind is ok, fail, warn, info or muted."""
    return element("span", text, class_=f"badge {kind}")


def verdict_badge(passed: bool | None, yes: str = "pass", no: str = "fail") -> Html:
    if passed is None:
        return badge("n/a", "muted")
    return badge(yes, "ok") if passed else badge(no, "fail")


def paragraph(text: object, class_: str | None = None) -> Html:
    return element("p", text, class_=class_)


def code(text: object) -> Html:
    return element("code", text)


def table(
    headers: Sequence[object] | None,
    rows: Iterable[Sequence[object]],
    *,
    row_classes: Sequence[str | None] | None = None,
    numeric: Iterable[int] = (),
    empty: str = "nothing recorded",
) -> Html:
    """A table (no header row when `headers` is None); cells are escaped unless
    Html; `numeric` columns align right."""
    right = set(numeric)
    rows = list(rows)
    if not rows:
        return paragraph(empty, class_="empty")
    classes = list(row_classes or [None] * len(rows))

    def cells(tag: str, values: Sequence[object]) -> Html:
        return join(
            element(tag, "" if v is None else v, class_="num" if i in right else None)
            for i, v in enumerate(values)
        )

    head = element("thead", element("tr", cells("th", headers))) if headers else Html("")
    body = element(
        "tbody",
        join(
            element("tr", cells("td", row), class_=cls)
            for row, cls in zip(rows, classes, strict=True)
        ),
    )
    return element("div", element("table", join([head, body])), class_="table")


def key_values(pairs: Iterable[tuple[object, object]]) -> Html:
    """A two-column table of labels and values."""
    return table(None, [(element("b", k), v) for k, v in pairs])


def cards(items: Iterable[tuple[object, object, str]]) -> Html:
    """Headline numbers: (label, value, kind) as a row of cards."""
    return element(
        "div",
        join(
            element(
                "div",
                join([element("div", value, class_="value"), element("div", label)]),
                class_=f"card {kind}",
            )
            for label, value, kind in items
        ),
        class_="cards",
    )


def block(*parts: object) -> Html:
    """A bordered box (e.g. one model version)."""
    return element("div", join(parts), class_="block")


def columns(*parts: object) -> Html:
    """Side by side on a wide page, one under the other on a narrow one."""
    return element("div", join(element("div", p) for p in parts), class_="columns")


def figure(svg: Html, caption: object = "") -> Html:
    return element("figure", join([svg, element("figcaption", caption)]))


def anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


@dataclass
class Page:
    """A report page: a title, headline, sections with a contents line, and a footer."""

    title: str
    subtitle: str = ""
    footer: str = ""
    sections: list[tuple[str, Html]] = field(default_factory=list)

    def section(self, title: str, *parts: object, intro: object = "") -> None:
        body = join([paragraph(intro, class_="intro") if intro else "", *parts])
        self.sections.append((title, body))

    def render(self) -> str:
        nav = element(
            "nav", join((element("a", t, href=f"#{anchor(t)}") for t, _ in self.sections), " · ")
        )
        sections = join(
            element("section", join([element("h2", t), body]), id=anchor(t))
            for t, body in self.sections
        )
        header = element("header", join([element("h1", self.title), paragraph(self.subtitle)]))
        main = element("main", join([header, nav, sections, element("footer", self.footer)]))
        head = join(
            [
                Html('<meta charset="utf-8">'),
                Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
                element("title", self.title),
                element("style", Html(CSS)),
            ]
        )
        return f'<!DOCTYPE html>\n<html lang="en">\n{element("head", head)}\n{element("body", main)}\n</html>\n'

    def write(self, path: Path) -> Path:
        """Write atomically, so a browser never shows half a report."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.render(), encoding="utf-8")
        tmp.replace(path)
        return path


CSS = """
:root { --fg: #1d2330; --muted: #5f6b7a; --line: #e3e7ee; --bg: #f6f8fb;
        --ok: #1e7b34; --ok-bg: #e3f4e7; --fail: #b42318; --fail-bg: #fdecea;
        --warn: #8a5a00; --warn-bg: #fff4d6; --info: #1f5fa8; --info-bg: #e6effa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--muted); }
nav { margin: 14px 0 8px; font-size: 14px; }
nav a { color: var(--info); text-decoration: none; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
          padding: 18px 22px; margin: 18px 0; }
h2 { margin: 0 0 10px; font-size: 19px; }
h3 { margin: 18px 0 6px; font-size: 16px; }
h4 { margin: 14px 0 4px; font-size: 13px; color: var(--muted); text-transform: uppercase;
     letter-spacing: 0.04em; }
p.intro { color: var(--muted); margin-top: 0; }
p.empty { color: var(--muted); font-style: italic; }
figure { margin: 12px 0; }
figure svg { width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { background: #f1f4f8; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.warning td { background: var(--warn-bg); }
tr.warning td:first-child { box-shadow: inset 3px 0 0 var(--warn); }
tr.failed td { background: var(--fail-bg); }
tr.demo td { color: var(--muted); }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: #f1f4f8; padding: 1px 4px; border-radius: 4px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.fail { color: var(--fail); background: var(--fail-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.info { color: var(--info); background: var(--info-bg); }
.badge.muted { color: var(--muted); background: #eef0f3; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(118px, 1fr)); gap: 10px;
         margin: 4px 0 12px; }
.card { border: 1px solid var(--line); border-radius: 10px;
        padding: 10px 14px; color: var(--muted); font-size: 13px; background: #fff; }
.card .value { font-size: 22px; font-weight: 650; color: var(--fg); }
.card.ok .value { color: var(--ok); }
.card.fail .value { color: var(--fail); }
.card.warn .value { color: var(--warn); }
.block { border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; margin: 12px 0; }
.block h3 { margin-top: 0; }
.columns { display: grid; grid-template-columns: minmax(240px, 2fr) minmax(360px, 3fr);
           gap: 20px; }
@media (max-width: 760px) { .columns { grid-template-columns: 1fr; } }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 3px;
          margin-right: 6px; vertical-align: baseline; }
footer { color: var(--muted); font-size: 13px; margin-top: 24px; }
"""
