"""``${VAR}`` in gate URLs, Compose's forms (``interpolation``)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervisor.core.interpolation import InterpolationError, UnsetVariable, expand, userinfo_of

ENV = {"USER": "app", "EMPTY": "", "HOST": "db"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${USER}", "app"),
        ("$USER.x", "app.x"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${NOPE-d}", "d"),
        ("${NOPE:-${HOST}:5432}", "db:5432"),
        ("${USER:+yes}", "yes"),
        ("${NOPE+yes}", ""),
        ("a$$b", "a$b"),
        ("$$USER", "$USER"),
        ("100$", "100$"),
        ("$ x", "$ x"),
    ],
)
def test_composes_forms(template: str, expected: str) -> None:
    assert expand(template, ENV).text == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${NOPE}", r"\$\{NOPE\} is not set; set it, or give a default"),
        ("$NOPE", r"\$\{NOPE\} is not set"),
        ("${NOPE:?the database host}", r"\$\{NOPE\} is not set: the database host"),
        ("${EMPTY:?}", r"\$\{EMPTY\} is not set"),
    ],
)
def test_an_unset_variable_is_named(template: str, message: str) -> None:
    with pytest.raises(UnsetVariable, match=message):
        expand(template, ENV)


@pytest.mark.parametrize("template", ["${", "${USER", "${1X}", "${USER!}", "${}"])
def test_a_bad_form_is_an_error_that_says_how_to_write_a_dollar(template: str) -> None:
    with pytest.raises(InterpolationError):
        expand(template, ENV)


def test_values_in_the_userinfo_are_percent_encoded_and_known_as_the_password() -> None:
    template = "postgresql://${USER}:${PW}@${HOST}:${PORT:-5432}/${NAME:-app}?x=${PW}"
    env = {**ENV, "PW": "p@ss/w:rd"}
    expanded = expand(template, env, userinfo=userinfo_of(template))
    assert expanded.text == "postgresql://app:p%40ss%2Fw%3Ard@db:5432/app?x=p@ss/w:rd"
    assert expanded.passwords == ("p%40ss%2Fw%3Ard",)  # the user name is not a secret


def test_no_userinfo_no_encoding() -> None:
    assert userinfo_of("tcp://${HOST}:1") is None
    assert userinfo_of("http://h/${X}@y") is None  # an @ in the path is not a userinfo


@given(st.text(alphabet=st.characters(blacklist_characters="$"), max_size=200))
def test_text_without_a_dollar_is_itself(text: str) -> None:
    assert expand(text, {}).text == text
