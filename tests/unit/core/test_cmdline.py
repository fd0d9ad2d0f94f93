"""The linear command-line splitter agrees with shlex on every input."""

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervisor.core import cmdline


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="ab \t\n'\"\\$#é", max_size=24))
def test_split_agrees_with_shlex(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text)
    except ValueError:
        expected = None
    try:
        ours: list[str] | None = cmdline.split(text)
    except ValueError:
        ours = None
    assert ours == expected


@pytest.mark.timeout(5)  # shlex itself is quadratic: a 300 KB word took seconds
def test_split_is_linear() -> None:
    assert cmdline.split("x" * 1_000_000 + " 'a b'" * 10_000)[0] == "x" * 1_000_000
