import pytest

from supervisor.redaction import redact_text, redact_url, register_url, secrets


@pytest.fixture(autouse=True)
def _clean() -> None:
    secrets.clear()


def test_url_password_is_masked_and_the_rest_kept() -> None:
    assert redact_url("postgresql://app:s3cret@db:5432/app?sslmode=require") == (
        "postgresql://app:***@db:5432/app?sslmode=require"
    )


def test_url_without_password_is_unchanged() -> None:
    assert redact_url("redis://cache:6379/0") == "redis://cache:6379/0"


def test_password_only_userinfo_is_masked() -> None:
    assert "hunter22" not in redact_url("redis://:hunter22@cache:6379/0")


def test_urls_inside_free_text_are_masked() -> None:
    text = "could not connect to postgres://u:pa55word@h/db: refused"
    assert redact_text(text) == "could not connect to postgres://u:***@h/db: refused"


def test_libpq_keyword_passwords_are_masked() -> None:
    assert redact_text("host=db password=abc123 user=x") == "host=db password=*** user=x"
    assert "two words" not in redact_text("password='two words' host=db")


def test_registered_secrets_vanish_from_any_text() -> None:
    register_url("postgresql://u:p%40ss!word@db/app")
    out = redact_text("FATAL: auth failed, p@ss!word was rejected; raw p%40ss!word too")
    assert "p@ss!word" not in out and "p%40ss!word" not in out


def test_very_short_secrets_are_not_scrubbed_from_text_but_masked_in_urls() -> None:
    register_url("redis://:ab@h")
    assert redact_text("about cabbage") == "about cabbage"
    assert redact_url("redis://:ab@h") == "redis://:***@h"
