"""The one table of gate kinds: what each URL scheme means, everywhere it matters.

Settings take URLs apart with a kind's reader, gate specs take its default ``startup_only``, the
engine imports its driver (at once for a light one, in a worker thread for one that loads
psycopg or redis-py), and the app probe accepts only the kinds marked for it. Each ``Kind`` is
defined beside its URL rules (``base`` says what one is); a new kind is one module and one line
in ``KINDS``, or a call to ``register``.
"""

from supervisor.kinds import http_url, local_url, postgres_url, redis_url, tcp_url
from supervisor.kinds.base import Kind

__all__ = [
    "ACCEPTED_URLS",
    "KINDS",
    "Kind",
    "by_scheme",
    "canonical_url",
    "driver_module",
    "get",
    "register",
    "unregister",
]

KINDS: list[Kind] = [
    postgres_url.KIND,
    redis_url.KIND,
    local_url.SQLITE,
    tcp_url.KIND,
    tcp_url.TCP_LEVEL,
    http_url.KIND,
    local_url.CMD,
    local_url.CONFIG,
]

_BY_SCHEME: dict[str, Kind] = {}
_BY_NAME: dict[str, Kind] = {}
ACCEPTED_URLS = ""


def register(kind: Kind) -> None:
    """Make ``kind`` known everywhere (its schemes, its name, the accepted-URL hint); a kind of
    the same name is replaced. For a kind outside this package: a test's, or a plugin's."""
    KINDS[:] = [k for k in KINDS if k.name != kind.name] + [kind]
    _index()


def unregister(name: str) -> None:
    """Forget the kind ``name`` again (a test's clean-up)."""
    KINDS[:] = [k for k in KINDS if k.name != name]
    _index()


def _index() -> None:
    global ACCEPTED_URLS
    _BY_SCHEME.clear()
    _BY_SCHEME.update({scheme: k for k in KINDS for scheme in k.schemes})
    _BY_NAME.clear()
    _BY_NAME.update({k.name: k for k in KINDS})
    ACCEPTED_URLS = ", ".join(k.example for k in KINDS) + " or env:VAR"


_index()

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


def by_scheme(scheme: str) -> Kind | None:
    return _BY_SCHEME.get(scheme.lower())


def get(name: str) -> Kind:
    return _BY_NAME[name]


def find(name: str) -> Kind | None:
    """The kind named, or None: a gate skipped before its URL could be known has none."""
    return _BY_NAME.get(name)


def driver_module(name: str) -> str:
    return get(name).driver
