import pytest

from supervisor import gunicorn
from supervisor.config.gatespec import GateUrlError, build_gate, parse_gate_url


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("postgresql://u@db/app", "postgresql"),
        ("postgres://db/app", "postgresql"),
        ("redis://cache:6379/0", "redis"),
        ("rediss://cache", "redis"),
        ("sqlite:///app.db", "sqlite"),
        ("tcp://broker:5672", "tcp"),
        ("http://api/health", "http"),
        ("https://api/health", "http"),
        ("cmd:python manage.py check --deploy", "cmd"),
        ("config:SECRET_KEY,DATABASE_URL", "config"),
    ],
)
def test_scheme_picks_the_driver(url: str, kind: str) -> None:
    assert parse_gate_url(url).kind == kind


def test_default_ports() -> None:
    assert parse_gate_url("redis://cache").port == 6379
    assert parse_gate_url("http://api").port == 80
    assert parse_gate_url("https://api").port == 443


def test_sqlite_paths_follow_the_sqlalchemy_convention() -> None:
    assert parse_gate_url("sqlite:///rel/app.db").path == "rel/app.db"
    assert parse_gate_url("sqlite:////abs/app.db").path == "/abs/app.db"


def test_cmd_is_split_like_a_shell() -> None:
    assert parse_gate_url("cmd:sh -c 'exit 0'").argv == ("sh", "-c", "exit 0")


def test_config_lists_variables() -> None:
    assert parse_gate_url("config: A , B,,C").variables == ("A", "B", "C")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("cassandra://db", "unknown gate URL scheme cassandra://"),
        ("nonsense", "unknown gate URL scheme"),
        ("tcp://host", "no port"),
        ("tcp://:80", "no host"),
        ("tcp://host:99999", "port must be a number from 1 to 65535"),
        ("sqlite://app.db", "sqlite:///"),
        ("cmd:", "needs a command"),
        ("cmd:echo 'unclosed", "cannot split"),
        ("config:", "needs variable names"),
    ],
)
def test_bad_urls_say_what_is_accepted(url: str, message: str) -> None:
    with pytest.raises(GateUrlError, match=message):
        parse_gate_url(url)


def test_startup_only_defaults_by_kind() -> None:
    common = dict(timeout=1.0, critical=True, startup_only=None, failure_threshold=1)
    assert build_gate("a", "cmd:true", **common).startup_only  # type: ignore[arg-type]
    assert build_gate("b", "config:A", **common).startup_only  # type: ignore[arg-type]
    assert not build_gate("c", "tcp://h:1", **common).startup_only  # type: ignore[arg-type]
    assert not build_gate("d", "cmd:true", **{**common, "startup_only": False}).startup_only  # type: ignore[arg-type]


def test_display_hides_the_password() -> None:
    spec = build_gate(
        "db", "postgresql://u:pw123@db/app", timeout=1, critical=True, startup_only=None, failure_threshold=1
    )
    assert "pw123" not in spec.display and "pw123" not in repr(spec)


@pytest.mark.parametrize(
    ("argv", "probe"),
    [
        (("gunicorn", "-b", "0.0.0.0:8000", "app:app"), "tcp://127.0.0.1:8000"),
        (("/venv/bin/gunicorn", "--bind", "127.0.0.1:9000", "app:app"), "tcp://127.0.0.1:9000"),
        (("gunicorn", "--bind=10.1.2.3:80", "app:app"), "tcp://10.1.2.3:80"),
        (("gunicorn", "-b:8080", "app:app"), "tcp://127.0.0.1:8080"),
        (("gunicorn", "-b", "[::]:8000", "app"), "tcp://[::1]:8000"),
        (("python", "-m", "gunicorn", "-b", "0.0.0.0:8000", "app"), "tcp://127.0.0.1:8000"),
        (("gunicorn", "-b", "unix:/run/app.sock", "app"), None),
        (("gunicorn", "app:app"), None),
        (("uvicorn", "--port", "8000", "app:app"), None),
        ((), None),
    ],
)
def test_gunicorn_bind_becomes_the_app_probe(argv: tuple[str, ...], probe: str | None) -> None:
    assert gunicorn.bind_probe(argv) == probe
    # by HTTP when a hang is to be seen: the same address, the root path
    assert gunicorn.bind_probe(argv, http=True) == (None if probe is None else probe.replace("tcp://", "http://") + "/")
