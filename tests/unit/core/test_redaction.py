"""Structural redaction: known secret values are masked exactly, in linear time, in every encoded
form, before any cut (a shortened line, a command's tail), short ones as tokens only, and never
the supervisor's own words."""

import pytest

from supervisor.config.gatespec import build_gate, shown_command
from supervisor.config.settings import ConfigError, load_config
from supervisor.core.redaction import redact_tail, redact_text, register, secrets, shorten
from supervisor.kinds.command import _Tail, last_line


@pytest.fixture(autouse=True)
def _clean() -> None:
    secrets.clear()


def _gate(url: str) -> str:
    return build_gate("g", url, timeout=1, critical=True, startup_only=None, failure_threshold=1).display


def test_url_password_is_masked_and_the_rest_kept() -> None:
    assert _gate("postgresql://app:s3cret@db:5432/app?sslmode=require") == (
        "postgresql://app:***@db:5432/app?sslmode=require"
    )


def test_url_without_password_is_unchanged() -> None:
    assert _gate("redis://cache:6379/0") == "redis://cache:6379/0"


def test_registered_secrets_vanish_from_any_text_in_every_form() -> None:
    _gate("postgresql://u:p%40ss!word@db/app")
    out = redact_text("FATAL: auth failed, p@ss!word was rejected; raw p%40ss!word too")
    assert "p@ss!word" not in out and "p%40ss!word" not in out


def test_a_common_password_does_not_scrub_words_that_contain_it() -> None:
    shown = _gate("postgresql://postgres:postgres@db/app")
    assert shown == "postgresql://postgres:***@db/app"
    assert redact_text("postgresql is up; password postgres rejected") == "postgresql is up; password *** rejected"


def test_secrets_made_of_punctuation_are_masked_wherever_they_appear() -> None:
    register(["/+=/"])
    assert redact_text("a/+=/b") == "a***b"


def test_very_short_secrets_are_not_scrubbed_from_text_but_masked_in_urls() -> None:
    assert _gate("redis://:ab@h") == "redis://:***@h"
    assert redact_text("about cabbage") == "about cabbage"


def test_the_longest_secret_is_masked_whole() -> None:
    register(["secret", "secret-and-more"])
    assert redact_text("x secret-and-more y") == "x *** y"


@pytest.mark.timeout(5)  # the regex this replaced took minutes on these inputs
def test_redaction_is_linear_on_100_kb_inputs() -> None:
    register(["hunter2hunter2", "p/ss@word"])
    for text in ("a" * 100_000, "a:" * 50_000, "x://" * 25_000, "http://u:" * 11_000, "hunter2" * 14_000):
        for _ in range(20):
            assert len(redact_text(text)) <= len(text)


def _problems(environ: dict[str, str], **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(environ=environ, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


SKIP = {"SUPERVISOR_GATE_DEPLOY__ONLY_IF_SET": "DJANGO_SETTINGS_MODULE"}


def test_a_skipped_cmd_gate_has_its_secrets_registered_and_masked() -> None:
    url = "cmd:psql postgresql://u:urlpass99@h/db password=kwpass99"
    (gate,) = load_config(environ={"SUPERVISOR_GATE_DEPLOY": url, **SKIP}).gates
    assert gate.display == "cmd:psql postgresql://u:***@h/db password=***"
    assert redact_text("kwpass99 urlpass99") == "*** ***"


def test_every_encoded_form_of_a_secret_is_registered() -> None:
    register(["p/ss word"])
    for form in ("p/ss word", "p%2Fss%20word", "p%2fss%20word", "p%2Fss+word", "p%2fss+word"):
        assert redact_text(f"x {form} y") == "x *** y", form


def test_a_secret_inside_an_encoded_options_value_is_found_and_masked() -> None:
    gate = build_gate(
        "g",
        "postgresql://u@h/db?options=-c%20password%3Dhunter22",
        timeout=1,
        critical=True,
        startup_only=None,
        failure_threshold=1,
    )
    assert "hunter22" not in gate.display
    assert redact_text("options=-c%20password%3Dhunter22%20") == "options=-c%20password%3D***%20"


def test_short_secrets_are_masked_as_tokens_but_not_inside_words() -> None:
    register(["ab"])
    assert redact_text("about cabbage") == "about cabbage"
    assert redact_text("login -p ab, :ab@h x=ab&y 'ab'") == "login -p ***, :***@h x=***&y '***'"
    assert shown_command(["mysql", "-p", "ab"]) == "mysql -p ***"


def test_a_cut_never_shows_a_piece_of_a_secret() -> None:
    register(["Zq9Zq9Zq9Zq9"])
    line = "x" * 190 + " Zq9Zq9Zq9Zq9"
    assert "Zq9" not in shorten(line, 200) and "Zq9" not in last_line(line)
    assert redact_tail("9Zq9Zq9 and more") == "*** and more"  # the end of the secret, cut before it


def test_the_tail_of_a_command_masks_a_secret_cut_at_its_start() -> None:
    register(["Zq9Zq9Zq9Zq9Zq9Zq9"])
    tail = _Tail(limit=64)
    tail.add(b"A" * 10 + b"Zq9Zq9Zq9Zq9Zq9Zq9" + b"B" * 55)  # the tail starts inside the secret
    text = tail.text()
    assert text.startswith("***B") and "9" not in text


def test_our_own_words_are_never_masked_even_when_a_password_is_one_of_them() -> None:
    # the password "cmd" must not turn the cmd: in front into ***, which would tell it
    (gate,) = load_config(environ={"SUPERVISOR_GATE_D": "cmd:psql postgresql://u:cmd@h/db"}).gates
    assert gate.display == "cmd:psql postgresql://u:***@h/db"
    problems = _problems({"SUPERVISOR_GATE_DB": "postgresql://u:expected@h/db", "SUPERVISOR_HEALTH_PORT": "x"})
    assert problems == ["SUPERVISOR_HEALTH_PORT=x: expected a whole number from 1 to 65535"]


def test_a_url_written_as_a_config_name_is_masked_before_it_is_cut() -> None:
    url = "config:DATABASE_URL=postgresql://app:hunter2hunter2hunter2@db/app"
    (problem,) = _problems({"SUPERVISOR_GATE_C": url})
    assert "hunter" not in problem
