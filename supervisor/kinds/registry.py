"""The one table of gate kinds: what each URL scheme means, everywhere it matters.

Settings validate URLs with a kind's parser, gate specs take its default ``startup_only``, the
engine imports its driver (at once for a light one, in a worker thread for one that loads
psycopg or redis-py), and the app probe accepts only the kinds marked for it. A new kind is one
row here and one module in ``drivers/``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from supervisor.config import urlparts

Reader = Callable[[str, Mapping[str, int]], urlparts.UrlParts]  # (url, default port by scheme)


@dataclass(frozen=True)
class Kind:
    name: str
    schemes: tuple[str, ...]
    example: str  # how the accepted-URL hint shows it
    driver: str  # the module in supervisor.kinds
    startup_only: bool = False  # default: not re-checked once it passed
    light: bool = True  # its driver imports nothing heavy: no need to import it off the event loop
    app_probe: bool = False  # may be the app probe
    default_ports: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    reader: Reader | None = None  # for URLs with an authority: taken apart the way the driver reads them

    def parse(self, url: str) -> urlparts.UrlParts:
        """``url`` taken apart by this kind's reader, with this kind's default ports."""
        assert self.reader is not None, self.name
        return self.reader(url, self.default_ports)


def _libpq(url: str, _ports: Mapping[str, int]) -> urlparts.UrlParts:
    return urlparts.parse_postgres(url)  # libpq applies its own default port (5432) and host lists


_REDIS_PORTS = MappingProxyType({"redis": 6379, "rediss": 6379})
_HTTP_PORTS = MappingProxyType({"http": 80, "https": 443})
# Services with no driver here, whose URLs Django settings and dj-database-url carry
# (``DATABASE_URL=mysql://...``, ``CELERY_BROKER_URL=amqp://...``): checked at TCP level, that
# something accepts connections at the URL's host and port, and said so wherever the gate shows.
_TCP_LEVEL_PORTS = MappingProxyType(
    {
        "mysql": 3306,
        "mysql2": 3306,
        "mysqlgis": 3306,
        "mysql-connector": 3306,
        "mariadb": 3306,
        "mssql": 1433,
        "mssqlms": 1433,
        "oracle": 1521,
        "oraclegis": 1521,
        "amqp": 5672,
        "amqps": 5671,
        "mongodb": 27017,
    }
)

KINDS: tuple[Kind, ...] = (
    Kind("postgresql", ("postgresql", "postgres"), "postgresql://, postgres://", "postgres", light=False,
         reader=_libpq),
    Kind("redis", ("redis", "rediss"), "redis://, rediss://", "redis", light=False, default_ports=_REDIS_PORTS,
         reader=urlparts.parse_redis),
    Kind("sqlite", ("sqlite",), "sqlite:///PATH", "sqlite"),
    Kind("tcp", ("tcp",), "tcp://HOST:PORT", "tcp", app_probe=True, reader=urlparts.parse_tcp),
    Kind("tcp-level", tuple(_TCP_LEVEL_PORTS), "mysql://, amqp://, ... (TCP level)", "tcp",
         default_ports=_TCP_LEVEL_PORTS, reader=urlparts.parse_tcp),
    # its driver builds a TLS context when imported: 15 ms of CPU, not on the event loop
    Kind("http", ("http", "https"), "http(s)://", "http", light=False, app_probe=True, default_ports=_HTTP_PORTS,
         reader=urlparts.parse_http),
    Kind("cmd", ("cmd",), "cmd:COMMAND", "command", startup_only=True),
    Kind("config", ("config",), "config:VAR1,VAR2", "config", startup_only=True),
)  # fmt: skip

_BY_SCHEME = {scheme: kind for kind in KINDS for scheme in kind.schemes}

# Other names of PostgreSQL (and of servers that speak its protocol) in dj-database-url and
# SQLAlchemy URLs; libpq takes only postgresql:// and postgres://, so they are rewritten to it
POSTGRES_ALIASES = frozenset({"pgsql", "postgis", "timescale", "timescalegis", "cockroach", "redshift"})
SQLITE_ALIASES = frozenset({"spatialite"})


def canonical_url(url: str) -> str:
    """``url`` with another name of a scheme we have a driver for replaced by ours:
    ``postgis://``, ``pgsql://`` and ``postgresql+psycopg://`` are ``postgresql://``,
    ``spatialite:///`` is ``sqlite:///``, ``PostgreSQL://`` is ``postgresql://``. Anything else
    as it is."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    name = scheme.lower()
    base, plus, _driver = name.partition("+")  # SQLAlchemy's dialect+driver
    if name in POSTGRES_ALIASES or (plus and base in ("postgresql", "postgres", *POSTGRES_ALIASES)):
        return f"postgresql://{rest}"
    if name in SQLITE_ALIASES or (plus and base == "sqlite"):
        return f"sqlite://{rest}"
    if name != scheme and name in _BY_SCHEME:  # schemes are not case-sensitive; libpq and redis-py
        return f"{name}://{rest}"  # take only the lowercase ones
    return url


_BY_NAME = {kind.name: kind for kind in KINDS}

ACCEPTED_URLS = ", ".join(k.example for k in KINDS) + " or env:VAR"


def by_scheme(scheme: str) -> Kind | None:
    return _BY_SCHEME.get(scheme.lower())


def get(name: str) -> Kind:
    return _BY_NAME[name]


def driver_module(name: str) -> str:
    return f"supervisor.kinds.{get(name).driver}"
