"""The lines of a failed command's output that say why it failed.

A ``cmd:`` gate keeps a bounded tail of what its command printed (stdout and stderr, in order).
Which lines of it matter depends on who wrote them. Django's system checks print their findings
under ``ERRORS:`` and ``WARNINGS:`` headings, *above* a summary (``System check identified 1
issue (0 silenced).``) that says nothing by itself: the last line, shown alone, hides the one
that names the problem. Anything else (a traceback, a shell script, a tool's error) says why in
its last lines, and the last one is the best single line.

Pure and bounded: masked text in (the tail is masked whole before it gets here, so no cut shows
a piece of a password), at most ``MAX_LINES`` lines of ``LINE_CHARS`` out.
"""

import re
from dataclasses import dataclass

from supervisor.core.redaction import shorten

MAX_LINES = 12  # lines kept: shown in `check`, `status`, /readyz JSON and the log
LINE_CHARS = 400  # a line longer than this is cut (Django's W009 line is about 330)
HEADLINE_CHARS = 200  # the one line that goes into the reason
LAST_LINES = 5  # of output that is not a report we know

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# django/core/management/base.py: "ERRORS:", "WARNINGS:", ... then "obj: (id) msg" and "\tHINT: ..."
_DJANGO_HEADING = re.compile(r"^(CRITICALS|ERRORS|WARNINGS|INFOS|DEBUGS):$")
_DJANGO_ENTRY = re.compile(r"^\S.*?: \([\w.]+\.[A-Z]\d+\) ")
_DJANGO_SUMMARY = re.compile(r"^System check identified ")


@dataclass(frozen=True)
class Significant:
    lines: tuple[str, ...] = ()  # what to show beneath the reason
    headline: str = ""  # the one line that goes into the reason ("exit status 1: <headline>")


def _clean(text: str) -> list[str]:
    """Lines without colours, control characters or trailing blanks; a tab shown as two spaces."""
    lines = []
    for raw in _ANSI.sub("", text).splitlines():
        line = "".join(ch if ch.isprintable() or ch == "\t" else " " for ch in raw).rstrip()
        lines.append(line.replace("\t", "  "))
    return lines


def _django_report(lines: list[str]) -> list[str] | None:
    """The findings of a Django system-check report (headings, entries and hints), or None when
    ``lines`` hold no such report."""
    start = next((i for i, line in enumerate(lines) if _DJANGO_HEADING.match(line.strip())), None)
    if start is None:
        return None
    found = []
    for line in lines[start:]:
        if _DJANGO_SUMMARY.match(line.strip()):
            break
        if line.strip():
            found.append(line)
    return found if any(_DJANGO_ENTRY.match(line.strip()) for line in found) else None


def significant(text: str) -> Significant:
    """The lines of ``text`` (a command's masked output) that say why it failed."""
    lines = _clean(text)
    report = _django_report(lines)
    if report is not None:
        kept = [shorten(line, LINE_CHARS) for line in report]
        if len(kept) > MAX_LINES:
            kept = [*kept[: MAX_LINES - 1], f"... and {len(kept) - MAX_LINES + 1} more line(s)"]
        entry = next(line.strip() for line in report if _DJANGO_ENTRY.match(line.strip()))
        return Significant(tuple(kept), shorten(entry, HEADLINE_CHARS))
    shown = [line for line in lines if line.strip()][-LAST_LINES:]
    if not shown:
        return Significant()
    return Significant(tuple(shorten(line, LINE_CHARS) for line in shown), shorten(shown[-1].strip(), HEADLINE_CHARS))
