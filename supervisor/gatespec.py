"""Gate URLs: the scheme picks the driver, the rest says what to check.

Parsing happens once, at configuration time, so that a typo is a configuration error (exit 78)
instead of a gate that fails forever.
"""

import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from supervisor.redaction import redact_url, register_url

KINDS = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "redis": "redis",
    "rediss": "redis",
    "sqlite": "sqlite",
    "tcp": "tcp",
    "http": "http",
    "https": "http",
    "cmd": "cmd",
    "config": "config",
}
ACCEPTED_URLS = (
    "postgresql://, postgres://, redis://, rediss://, sqlite:///PATH, tcp://HOST:PORT, http(s)://, "
    "cmd:COMMAND, config:VAR1,VAR2 or env:VAR"
)


class GateUrlError(ValueError):
    """The URL is not one we can check; the message says what is accepted."""


@dataclass(frozen=True)
class GateSpec:
    """One configured check, fully validated."""

    name: str
    kind: str
    url: str = field(repr=False)  # may hold a password: never print it, use ``display``
    display: str
    timeout: float = 5.0
    critical: bool = True
    startup_only: bool = False
    failure_threshold: int = 1
    host: str = ""
    port: int = 0
    path: str = ""
    argv: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedUrl:
    kind: str
    host: str = ""
    port: int = 0
    path: str = ""
    argv: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()


def _host_port(url: str, default_port: int | None) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise GateUrlError(f"bad host or port ({exc})") from None
    host = parts.hostname or ""
    if not host:
        raise GateUrlError("the URL names no host")
    if port is None:
        if default_port is None:
            raise GateUrlError("the URL names no port (expected HOST:PORT)")
        port = default_port
    return host, port


def parse_gate_url(url: str) -> ParsedUrl:
    """Validate ``url`` (already resolved from ``env:``) and split out what its driver needs."""
    scheme, sep, rest = url.partition(":")
    kind = KINDS.get(scheme.lower()) if sep else None
    if kind is None:
        raise GateUrlError(f"unknown gate URL scheme; accepted: {ACCEPTED_URLS}")
    if kind == "cmd":
        try:
            argv = tuple(shlex.split(rest))
        except ValueError as exc:
            raise GateUrlError(f"cannot split the command like a shell: {exc}") from None
        if not argv:
            raise GateUrlError("cmd: needs a command, e.g. cmd:python manage.py check --deploy")
        return ParsedUrl(kind, argv=argv)
    if kind == "config":
        names = tuple(v.strip() for v in rest.split(",") if v.strip())
        if not names:
            raise GateUrlError("config: needs variable names, e.g. config:SECRET_KEY,DATABASE_URL")
        return ParsedUrl(kind, variables=names)
    if kind == "sqlite":
        if not rest.startswith("///") or len(rest) <= 3:
            raise GateUrlError("expected sqlite:///relative/path.db or sqlite:////absolute/path.db")
        return ParsedUrl(kind, path=rest[3:])
    if kind == "tcp":
        host, port = _host_port(url, None)
        return ParsedUrl(kind, host=host, port=port)
    if kind == "http":
        host, port = _host_port(url, 443 if scheme.lower() == "https" else 80)
        return ParsedUrl(kind, host=host, port=port)
    if kind == "redis":
        host, port = _host_port(url, 6379)
        return ParsedUrl(kind, host=host, port=port)
    # postgresql: libpq accepts host lists and socket paths; let it judge the rest
    return ParsedUrl(kind)


def build_gate(
    name: str,
    url: str,
    *,
    timeout: float,
    critical: bool,
    startup_only: bool | None,
    failure_threshold: int,
) -> GateSpec:
    parsed = parse_gate_url(url)
    register_url(url)
    display = "cmd:" + shlex.join(parsed.argv) if parsed.kind == "cmd" else redact_url(url)
    default_startup_only = parsed.kind in ("cmd", "config")
    return GateSpec(
        name=name,
        kind=parsed.kind,
        url=url,
        display=display,
        timeout=timeout,
        critical=critical,
        startup_only=default_startup_only if startup_only is None else startup_only,
        failure_threshold=failure_threshold,
        host=parsed.host,
        port=parsed.port,
        path=parsed.path,
        argv=parsed.argv,
        variables=parsed.variables,
    )


def gunicorn_args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """gunicorn's own arguments when ``argv`` runs gunicorn (``gunicorn ...`` or
    ``python -m gunicorn ...``), else None."""
    first = argv[0].rsplit("/", 1)[-1] if argv else ""
    if first == "gunicorn":
        return argv[1:]
    if first.startswith("python") and argv[1:3] == ("-m", "gunicorn"):
        return argv[3:]
    return None


def gunicorn_bind_probe(argv: tuple[str, ...]) -> str | None:
    """``tcp://host:port`` of gunicorn's first ``--bind``/``-b`` when given as host:port.

    Wildcard addresses are probed on loopback, which is where the supervisor can reach them.
    """
    args = gunicorn_args(argv)
    if args is None:
        return None
    bind: str | None = None
    for i, arg in enumerate(args):
        if arg in ("-b", "--bind") and i + 1 < len(args):
            bind = args[i + 1]
        elif arg.startswith("--bind="):
            bind = arg.split("=", 1)[1]
        elif arg.startswith("-b") and len(arg) > 2:
            bind = arg[2:]
        if bind is not None:
            break
    if bind is None or bind.startswith(("unix:", "fd://")) or "/" in bind:
        return None
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        return None
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"
