"""URL parsers against the drivers' own: libpq (through psycopg) and redis-py decide what the
password is, so ours must agree with them on every URL they accept."""

import string
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervisor.kinds import redis_url, registry, urls
from supervisor.kinds.postgres_url import LIBPQ_KEYWORDS, parse_postgres
from supervisor.kinds.urls import UrlError

psycopg = pytest.importorskip("psycopg")
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

PRINTABLE = string.printable.strip() + " "
passwords = st.text(alphabet=PRINTABLE, min_size=1, max_size=24)


def _libpq(url: str) -> dict[str, str] | None:
    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items()}
    except (psycopg.ProgrammingError, UnicodeDecodeError):
        return None


def test_keyword_list_is_libpqs() -> None:
    keywords = {d.keyword.decode() for d in psycopg.pq.Conninfo.get_defaults()}
    assert LIBPQ_KEYWORDS - {"ssl", "requiressl"} <= keywords


def parse(kind: str, url: str) -> urls.UrlParts:
    """Through the table of gate kinds, with each kind's default ports, as the settings parse."""
    return registry.get(kind).parse(url)


@settings(max_examples=300, deadline=None)
@given(
    user=st.text(alphabet=PRINTABLE, max_size=8),
    password=passwords,
    tail=st.sampled_from(["h/db", "h:5432/db", "[::1]:5/db", "h1,h2:7/d?sslmode=disable", "h/db?password=x%2F"]),
)
def test_postgres_password_agrees_with_libpq(user: str, password: str, tail: str) -> None:
    url = f"postgresql://{user}:{password}@{tail}"
    theirs = _libpq(url)
    try:
        ours = parse_postgres(url)
    except UrlError:
        return  # refusing is always allowed; accepting what libpq reads differently is not
    assert theirs is not None, url
    for key in ("password", "user"):
        if key in theirs and key == "password":
            assert theirs[key] in ours.secrets, url
    assert "***" in ours.display or "password" not in theirs


@settings(max_examples=300, deadline=None)
@given(password=passwords, scheme=st.sampled_from(["postgresql", "redis", "http", "tcp"]))
def test_encoded_passwords_are_accepted_and_never_shown(password: str, scheme: str) -> None:
    url = f"{scheme}://user:{quote(password, safe='')}@host:1234/0"
    parts = parse(scheme, url)
    assert password in parts.secrets
    assert parts.display == f"{scheme}://user:***@host:1234/0"


@pytest.mark.parametrize("password", ["ab/cd", "a#b", "a?b", "p@ss", "/x", "x/", "a/b@c"])
@pytest.mark.parametrize("scheme", ["postgresql", "redis", "http", "tcp"])
def test_raw_reserved_characters_are_refused_or_read_as_the_driver_reads_them(password: str, scheme: str) -> None:
    url = f"{scheme}://user:{password}@host:1234/0"
    try:
        parts = parse(scheme, url)
    except UrlError as exc:
        assert password not in str(exc)
        assert password in urls.rejected_secrets(exc)
        return
    assert password in parts.secrets
    assert password not in parts.display


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://[::1/db",
        "postgresql://h:abc/db",
        "postgresql://h:0/db",
        "postgresql://h:70000/db",
        "postgresql://h/db?nosuch=1",
        "postgresql://h/db?a",
        "postgresql://h/%zz",
        "postgresql://h/d%00",
        "postgresql://h/d b",
        "POSTGRESQL://h/db",
    ],
)
def test_postgres_urls_libpq_refuses_are_refused(url: str) -> None:
    with pytest.raises(UrlError):
        parse_postgres(url)


def test_postgres_query_password_is_a_secret() -> None:
    parts = parse_postgres("postgresql://u@h/db?password=s%2Fecret&sslmode=require")
    assert "s/ecret" in parts.secrets and "s%2Fecret" in parts.secrets
    assert parts.display == "postgresql://u@h/db?password=***&sslmode=require"


def test_postgres_options_are_libpqs() -> None:
    url = "postgresql://u:p@h1:1,h2/db?sslmode=require&application_name=x"
    parts = parse_postgres(url)
    theirs = _libpq(url)
    assert theirs is not None
    assert parts.hosts == ("h1", "h2") and parts.ports == (1, None)
    assert parts.options["dbname"] == theirs["dbname"] and parts.options["sslmode"] == theirs["sslmode"]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p%40w@h1:5,h2/db?sslmode=require&ssl=true",
        "postgres://",
        "postgresql://h/",
        "postgresql://[::1]:5433,h2:,h3/d?host=x&port=",
        "postgresql://%2Fvar%2Frun/db?options=-c%20x%3Dy",
        "postgresql://:pw@/x?target_session_attrs=primary",
        "postgresql://u@h/?dbname=other&hostaddr=127.0.0.1",
    ],
)
def test_postgres_options_are_the_conninfo_libpq_reads(url: str) -> None:
    """The driver builds its probes from these instead of parsing the URL again."""
    assert parse_postgres(url).options == _libpq(url)


redis_connection = pytest.importorskip("redis.connection")


@pytest.mark.parametrize("option", sorted(redis_url.REDISS_OPTIONS))
def test_every_accepted_redis_option_is_one_redis_py_accepts(option: str) -> None:
    from redis.asyncio import Redis

    value = {
        "db": "1",
        "socket_timeout": "1.5",
        "socket_connect_timeout": "1",
        "socket_read_size": "1024",
        "max_connections": "3",
        "health_check_interval": "2",
        "protocol": "2",
        "ssl_min_version": "3",
        "ssl_include_verify_flags": "VERIFY_X509_STRICT",
        "ssl_exclude_verify_flags": "VERIFY_X509_STRICT",
        "ssl_cert_reqs": "none",
    }.get(option, "true" if option.startswith(("socket_keep", "retry", "ssl_check")) else "x")
    scheme = "rediss" if option in redis_url.REDISS_OPTIONS and option not in redis_url.REDIS_OPTIONS else "redis"
    url = f"{scheme}://h:6379/0?{option}={value}"
    parse("redis", url)
    client = Redis.from_url(url)
    client.connection_pool.make_connection()  # type: ignore[no-untyped-call]  # raises TypeError for a keyword it does not take


@pytest.mark.parametrize(
    "url",
    ["redis://h/0?db=abc", "redis://h/0?nosuch=1", "redis://h:0/0", "redis://h/abc", "redis://:x@/0", "REDIS://h"],
)
def test_redis_urls_redis_py_would_refuse_or_misread_are_refused(url: str) -> None:
    with pytest.raises(UrlError):
        parse("redis", url)


@settings(max_examples=200, deadline=None)
@given(password=st.text(alphabet=PRINTABLE.replace("%", ""), min_size=1, max_size=20))
def test_redis_password_agrees_with_redis_py(password: str) -> None:
    url = f"redis://user:{password}@h:6379/0"
    try:
        ours = parse("redis", url)
    except UrlError:
        return
    theirs = redis_connection.parse_url(url)
    assert theirs.get("password") in ours.secrets


@pytest.mark.parametrize("url", ["http://h/a b", "http://h/é", "http://h:0/", "http://é.example/", "http://h/\t"])
def test_http_targets_h11_cannot_send_are_refused(url: str) -> None:
    with pytest.raises(UrlError):
        parse("http", url)


def test_secrets_in_command_lines() -> None:
    found = urls.secrets_in_text("psql postgresql://u:pw1@h/db")
    assert "pw1" in found
    assert "two words" in urls.secrets_in_text("host=h password='two words'")
    assert "tok123" in urls.secrets_in_text("curl https://h/x?token=tok123")
