"""TCP URLs, and the services checked at TCP level: read as urllib reads them, and the kinds.

Services with no driver here, whose URLs Django settings and dj-database-url carry
(``DATABASE_URL=mysql://...``, ``CELERY_BROKER_URL=amqp://...``), are checked at TCP level:
that something accepts connections at the URL's host and port, and said so wherever the gate
shows.
"""

from collections.abc import Mapping
from types import MappingProxyType

from supervisor.kinds.base import Kind
from supervisor.kinds.urls import UrlError, UrlParts, read_authority

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


def parse_tcp(url: str, default_ports: Mapping[str, int]) -> UrlParts:
    return read_authority(url, default_ports)[3]


def parse_tcp_level(url: str, default_ports: Mapping[str, int]) -> UrlParts:
    """As ``parse_tcp``, for one host: a client of these services may take a list of hosts or a
    socket, which a connect to one address would check only in part."""
    authority = url.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
    if "," in authority or authority.lower().startswith(("%2f", "/")):
        what = "a list of hosts" if "," in authority else "a Unix socket"
        raise UrlError(
            f"a URL checked at TCP level names one host and port, not {what}; write a tcp://HOST:PORT "
            "gate for each host, or a cmd: gate that runs the service's own client"
        )
    return parse_tcp(url, default_ports)


KIND = Kind("tcp", ("tcp",), "tcp://HOST:PORT", "supervisor.kinds.tcp", parse_tcp, app_probe=True)
TCP_LEVEL = Kind(
    "tcp-level",
    tuple(_TCP_LEVEL_PORTS),
    "mysql://, amqp://, ... (TCP level)",
    "supervisor.kinds.tcp",
    parse_tcp_level,
    default_ports=_TCP_LEVEL_PORTS,
    tcp_level_only=True,
)
