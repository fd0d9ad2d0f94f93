"""HTTP(S) URLs read as urllib reads them, and the kind.

The reader works out what the request needs (the target, the ``Host`` header, the credentials
for ``Authorization``) once, at configuration time, so the driver splits nothing again.
"""

import re
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from urllib.parse import unquote

from supervisor.kinds.base import Kind
from supervisor.kinds.urls import UrlError, UrlParts, read_authority

_NETLOC = re.compile(r"[^/?#]*")
# an option set on the app probe derived from gunicorn's --bind alone: any HTTP response passes,
# since it only has to prove that a worker answers (the app's "/" may be a 404 or a redirect)
ANY_RESPONSE = "any_response"


def parse_http(url: str, default_ports: Mapping[str, int]) -> UrlParts:
    scheme, path, query, parts = read_authority(url, default_ports)
    target = (path or "/") + (f"?{query}" if query else "")
    if not all("!" <= c <= "~" for c in target):
        raise UrlError("the path or query holds a space, a control or a non-ASCII character; percent-encode it")
    host = f"[{parts.host}]" if ":" in parts.host else parts.host
    if parts.port != default_ports.get(scheme):
        host = f"{host}:{parts.port}"
    options = {"host_header": host}
    match = _NETLOC.match(url, url.index("://") + 3)
    assert match is not None
    credentials, at, _ = match.group().rpartition("@")
    if at:  # as urllib's username and password: the user up to the first ':', the password after it
        user, _, password = credentials.partition(":")
        options["basic_auth"] = f"{unquote(user)}:{unquote(password)}"
    return replace(parts, target=target, options=options)


KIND = Kind(
    "http",
    ("http", "https"),
    "http(s)://",
    "supervisor.kinds.http",
    parse_http,
    light=False,  # its driver builds a TLS context when imported: 15 ms of CPU, not on the event loop
    app_probe=True,
    default_ports=MappingProxyType({"http": 80, "https": 443}),
)
