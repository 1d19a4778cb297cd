""".dockerignore rules, as Docker applies them.

Debian's buildah 1.28 does not read `<Dockerfile>.dockerignore` (BuildKit
does), so the builder applies the rules itself: it hashes and copies exactly
the files these rules let through, and buildah builds from that copy. The
semantics follow moby's patternmatcher, which both BuildKit and buildah use:

* one pattern per line; a `#` in the first column starts a comment line;
  blank lines are skipped;
* a leading `!` re-includes what an earlier pattern excluded; the last
  pattern that matches a path decides;
* patterns are cleaned like paths (`./a/` is `a`, a leading `/` is dropped);
* `*` matches within one path segment, `?` one character of a segment,
  `**` any number of segments (also none), `[...]` a character class,
  `\\` escapes the next character;
* a pattern that matches a directory matches everything below it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

# Characters moby escapes; every other one goes into the expression as it is.
REGEX_SPECIALS = ".+()|{}$"


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    kind: str  # "exact", "prefix", "suffix" or "regex", as moby decides
    operand: str  # the literal for exact / prefix / suffix, else a regex
    regex: re.Pattern[str] | None

    def matches(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.operand
        if self.kind == "prefix":
            return path.startswith(self.operand)
        if self.kind == "suffix":
            # "**/foo" also matches "foo" itself.
            return path.endswith(self.operand) or (
                self.operand.startswith("/") and path == self.operand[1:]
            )
        assert self.regex is not None
        return self.regex.match(path) is not None


def parse(text: str) -> list[Pattern]:
    """The patterns of a .dockerignore file, in order."""
    patterns = []
    for raw in text.removeprefix("\ufeff").splitlines():
        # Only a "#" in the first column starts a comment.
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = clean(line)
        if not cleaned:
            continue
        patterns.append(_compile(line, cleaned, exclusion))
    return patterns


def is_ignored(path: str, patterns: list[Pattern]) -> bool:
    """Whether `path` (relative, `/`-separated) is left out of the context."""
    ignored = False
    parents = _parents(path)
    for pattern in patterns:
        # An exclusion can only undo a match, an inclusion only make one.
        if pattern.exclusion != ignored:
            continue
        if pattern.matches(path) or any(pattern.matches(parent) for parent in parents):
            ignored = not pattern.exclusion
    return ignored


def clean(pattern: str) -> str:
    cleaned = posixpath.normpath(pattern)
    if cleaned == ".":
        return ""
    # normpath keeps a leading "//"; Docker strips every leading slash.
    return cleaned.lstrip("/")


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _compile(text: str, pattern: str, exclusion: bool) -> Pattern:
    """moby patternmatcher's translation of one cleaned pattern.

    moby first tries cheap literal checks (equal, prefix, suffix) and falls
    back to a regular expression; the literal checks are not always what the
    regular expression would say (`**foo` is a plain suffix test), so the
    same choice is made here.
    """
    out = ["^"]
    kind = "exact"
    i = 0
    while i < len(pattern):
        start = i
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                # "**/" is the same as "**".
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                if i + 1 >= len(pattern):
                    # A trailing "**" accepts everything below.
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        out.append(".*")
                        kind = "regex"
                else:
                    out.append("(.*/)?")
                    kind = "regex"
                if start == 0:
                    kind = "suffix"
            else:
                out.append("[^/]*")
                kind = "regex"
        elif ch == "?":
            out.append("[^/]")
            kind = "regex"
        elif ch in REGEX_SPECIALS:
            out.append("\\" + ch)
        elif ch == "\\":
            if i + 1 < len(pattern):
                i += 1
                out.append("\\" + pattern[i])
                kind = "regex"
            else:
                out.append("\\\\")
        elif ch in "[]":
            out.append(ch)
            kind = "regex"
        else:
            out.append(ch)
        i += 1
    if kind == "exact":
        return Pattern(text, exclusion, kind, pattern, None)
    if kind == "prefix":
        return Pattern(text, exclusion, kind, pattern[:-2], None)
    if kind == "suffix":
        return Pattern(text, exclusion, kind, pattern[2:], None)
    out.append("$")
    return Pattern(text, exclusion, kind, "".join(out), re.compile("".join(out)))
