"""Redis URLs read as redis-py reads them (``parse_url``: urllib's split, its own query
options), and the kind."""

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from urllib.parse import parse_qs, unquote

from supervisor.kinds.base import Kind
from supervisor.kinds.urls import UrlError, UrlParts, read_authority


def _to_bool(value: str) -> bool | None:
    """redis-py's ``to_bool`` for URL options."""
    if value is None or value == "":
        return None
    return value.upper() not in ("0", "F", "FALSE", "N", "NO")


def _redis_verify_flags(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


# redis-py's URL options: its own parsers (URL_QUERY_ARGUMENT_PARSERS) for typed ones, and the
# connection's plain string keywords. A unit test checks every one against redis-py itself.
REDIS_OPTIONS: dict[str, type | object] = {
    "db": int,
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "socket_read_size": int,
    "socket_keepalive": _to_bool,
    "retry_on_timeout": _to_bool,
    "max_connections": int,
    "health_check_interval": int,
    "protocol": int,
    "client_name": str,
    "username": str,
    "password": str,
    "encoding": str,
    "encoding_errors": str,
}
REDISS_OPTIONS: dict[str, type | object] = {
    **REDIS_OPTIONS,
    "ssl_check_hostname": _to_bool,
    "ssl_min_version": int,
    "ssl_include_verify_flags": _redis_verify_flags,
    "ssl_exclude_verify_flags": _redis_verify_flags,
    "ssl_cert_reqs": str,
    "ssl_ca_certs": str,
    "ssl_ca_path": str,
    "ssl_certfile": str,
    "ssl_keyfile": str,
    "ssl_password": str,
    "ssl_ciphers": str,
}


def parse_redis(url: str, default_ports: Mapping[str, int]) -> UrlParts:
    if not url.startswith(("redis://", "rediss://")):
        raise UrlError("redis-py takes only the lowercase schemes redis:// and rediss://")
    scheme, path, query, parts = read_authority(url, default_ports)
    accepted = REDISS_OPTIONS if scheme == "rediss" else REDIS_OPTIONS
    options: dict[str, str] = {}
    for name, values in parse_qs(query).items():
        parser = accepted.get(name)
        if parser is None:
            raise UrlError(
                f"query option {name!r} is not one redis-py accepts; accepted: {', '.join(sorted(accepted))}"
            )
        try:
            parser(values[0])  # type: ignore[operator]
        except (TypeError, ValueError):
            wanted = "a whole number" if parser is int else "a number"
            raise UrlError(f"query option {name!r} must be {wanted}") from None
        options[name] = values[0]
    db_path = unquote(path).replace("/", "")
    if db_path and not (db_path.isascii() and db_path.isdigit()):
        raise UrlError("the path must be a database number, e.g. redis://cache:6379/0")
    return replace(parts, options=options)


KIND = Kind(
    "redis",
    ("redis", "rediss"),
    "redis://, rediss://",
    "supervisor.kinds.redis",
    parse_redis,
    light=False,
    default_ports=MappingProxyType({"redis": 6379, "rediss": 6379}),
)
