import pytest

from supervisor.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("5s", 5.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("7", 7.0),
        ("1.5", 1.5),
        (" 3s ", 3.0),
        (".5s", 0.5),
    ],
)
def test_accepts_units_and_bare_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_accepts_numbers_from_toml() -> None:
    assert parse_duration(3) == 3.0
    assert parse_duration(0.25) == 0.25


@pytest.mark.parametrize(
    "bad", ["", "0", "0s", "-1s", "-5", "5d", "abc", "1e3", "inf", "nan", "5 s s", True, None, [1]]
)
def test_rejects_everything_else(bad: object) -> None:
    with pytest.raises(ValueError, match="positive duration"):
        parse_duration(bad)


@pytest.mark.parametrize("seconds", [0.25, 0.1, 1.0, 5.0, 60.0, 120.0, 3600.0, 1.5, 90.0])
def test_format_round_trips(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


def test_format_prefers_the_largest_exact_unit() -> None:
    assert format_duration(0.25) == "250ms"
    assert format_duration(120) == "2m"
    assert format_duration(3600) == "1h"
    assert format_duration(90) == "90s"


@pytest.mark.parametrize("text", ["\u0661\u0660s", "\u0661\u0660", "\uff11s", "5\u0660s"])
def test_durations_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
