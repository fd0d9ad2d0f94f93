"""The table of gate kinds agrees with the drivers, the parsers and the settings."""

import importlib
import subprocess
import sys

import pytest

from supervisor.config.gatespec import parse_gate_url
from supervisor.kinds import registry


@pytest.mark.parametrize("kind", registry.KINDS, ids=lambda k: k.name)
def test_every_kind_has_a_driver_with_a_check(kind: registry.Kind) -> None:
    module = importlib.import_module(registry.driver_module(kind.name))
    assert callable(module.check)


@pytest.mark.parametrize(("url", "port"), [("redis://h/0", 6379), ("rediss://h/0", 6379), ("http://h/", 80),
                                           ("https://h/", 443), ("tcp://h:9", 9)])  # fmt: skip
def test_default_ports_come_from_the_table(url: str, port: int) -> None:
    assert parse_gate_url(url).port == port
    kind = registry.by_scheme(url.partition(":")[0])
    assert kind is not None and kind.default_ports.get(url.partition(":")[0], port) == port


def test_every_scheme_is_named_in_the_accepted_hint_and_parses_to_its_kind() -> None:
    samples = {"postgresql": "postgresql://h/db", "postgres": "postgres://h/db", "redis": "redis://h/0",
               "rediss": "rediss://h/0", "sqlite": "sqlite:///x.db", "tcp": "tcp://h:1", "http": "http://h/",
               "https": "https://h/", "cmd": "cmd:true", "config": "config:HOME",
               **{s: f"{s}://u:pw@h/db" for s in registry.get("tcp-level").schemes}}  # fmt: skip
    assert set(samples) == {s for k in registry.KINDS for s in k.schemes}
    for scheme, url in samples.items():
        kind = registry.by_scheme(scheme)
        assert kind is not None and parse_gate_url(url).kind == kind.name
        assert kind.example in registry.ACCEPTED_URLS
        if kind.name != "tcp-level":  # its hint names two of its twelve schemes, and says "..."
            assert _named(scheme, kind.example), (scheme, kind.example)


def _named(scheme: str, hint: str) -> bool:
    """``scheme`` is written in ``hint`` as a scheme (``sqlite:``), or in ``http(s):``, which names
    both http and https."""
    words = {scheme, scheme + "(s)"} | ({scheme[:-1] + "(s)"} if scheme.endswith("s") else set())
    return any(f"{word}:" in hint for word in words)


@pytest.mark.parametrize(("scheme", "hint"), [("sqlite", "postgresql://"), ("https", "http://"),
                                              ("redis", "rediss://"), ("cmd", "cmd COMMAND")])  # fmt: skip
def test_a_scheme_missing_from_the_hint_is_caught(scheme: str, hint: str) -> None:
    assert not _named(scheme, hint)


def test_light_drivers_import_nothing_heavy() -> None:
    light = [registry.driver_module(k.name) for k in registry.KINDS if k.light]
    heavy = ("psycopg", "redis", "prometheus_client", "pydantic", "ssl")
    code = f"import sys; [__import__(m) for m in {light!r}]; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_only_tcp_and_http_may_be_the_app_probe() -> None:
    assert {k.name for k in registry.KINDS if k.app_probe} == {"tcp", "http"}


def test_url_rules_import_no_driver_library() -> None:
    """Configuration takes every URL apart before the health server listens: the libraries
    load only when a check runs (in a worker thread, for the heavy ones)."""
    heavy = ("psycopg", "redis", "h11", "ssl", "sqlite3", "anyio")
    code = (
        "import sys; from supervisor.config import gatespec; "
        "gatespec.parse_gate_url('postgresql://u:p@h/db'); gatespec.parse_gate_url('https://h/'); "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
