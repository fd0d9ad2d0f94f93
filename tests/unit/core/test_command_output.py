"""Which lines of a failed command's output say why (``command_output``)."""

from hypothesis import given
from hypothesis import strategies as st

from supervisor.core.command_output import HEADLINE_CHARS, LAST_LINES, LINE_CHARS, MAX_LINES, significant

DJANGO = """SystemCheckError: System check identified some issues:

ERRORS:
auth.User: (auth.E003) 'User.username' must be unique because it is named as the 'USERNAME_FIELD'.
\tHINT: Add unique=True to the field.

WARNINGS:
?: (security.W009) Your SECRET_KEY has less than 50 characters.
?: (security.W018) You should not have DEBUG set to True in deployment.

System check identified 3 issues (0 silenced).
"""


def test_djangos_findings_not_its_summary() -> None:
    found = significant(DJANGO)
    assert found.lines == (
        "ERRORS:",
        "auth.User: (auth.E003) 'User.username' must be unique because it is named as the 'USERNAME_FIELD'.",
        "  HINT: Add unique=True to the field.",
        "WARNINGS:",
        "?: (security.W009) Your SECRET_KEY has less than 50 characters.",
        "?: (security.W018) You should not have DEBUG set to True in deployment.",
    )
    assert found.headline.startswith("auth.User: (auth.E003)")  # the first finding, for the one-line reason


def test_a_report_in_colour_is_read_the_same() -> None:
    coloured = "\x1b[31;1mWARNINGS:\x1b[0m\n\x1b[33m?: (security.W009) short key\x1b[0m\n"
    coloured += "System check identified 1 issue\n"
    assert significant(coloured).lines == ("WARNINGS:", "?: (security.W009) short key")


def test_a_long_report_is_cut_to_its_first_lines_with_a_count() -> None:
    entries = "\n".join(f"?: (security.W{n:03d}) finding {n}" for n in range(40))
    found = significant(f"WARNINGS:\n{entries}\n\nSystem check identified 40 issues (0 silenced).\n")
    assert len(found.lines) == MAX_LINES and found.lines[-1] == f"... and {41 - MAX_LINES + 1} more line(s)"


def test_other_output_gives_its_last_lines_and_the_last_one_as_headline() -> None:
    traceback = 'starting\nTraceback (most recent call last):\n  File "x.py", line 1, in <module>\n    import nope\n'
    found = significant(traceback + "ModuleNotFoundError: No module named 'nope'\n\n")
    assert found.headline == "ModuleNotFoundError: No module named 'nope'"
    assert found.lines[-1] == found.headline and len(found.lines) == LAST_LINES
    assert significant("").lines == () and significant("\n \n").headline == ""


def test_the_word_warnings_alone_is_not_a_django_report() -> None:
    found = significant("WARNINGS:\nsomething odd\nfatal: it broke\n")
    assert found.headline == "fatal: it broke"


@given(st.text(max_size=3000))
def test_bounded_and_one_line_each(text: str) -> None:
    found = significant(text)
    assert len(found.lines) <= MAX_LINES
    assert all(len(line) <= LINE_CHARS and "\n" not in line and "\r" not in line for line in found.lines)
    assert len(found.headline) <= HEADLINE_CHARS and "\n" not in found.headline
    assert all(line.isprintable() for line in (*found.lines, found.headline))
