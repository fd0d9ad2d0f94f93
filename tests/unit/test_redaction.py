"""Structural redaction: known secret values are masked exactly, in linear time."""

import pytest

from supervisor.config.gatespec import build_gate
from supervisor.core.redaction import redact_text, register, secrets


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
