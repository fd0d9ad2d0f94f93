"""PostgreSQL URLs read as libpq reads them (``conninfo_uri_parse_options``), and the kind.

The reader's ``options`` are the connection parameters libpq takes from the URL, as psycopg's
``conninfo_to_dict`` would give them (a unit test compares the two): the driver builds its
probes from them instead of parsing the URL again.
"""

from collections.abc import Mapping

from supervisor.kinds.base import Kind
from supervisor.kinds.urls import (
    ENCODE_HINT,
    SECRET_PARAMS,
    Rejected,
    UrlError,
    UrlParts,
    check_no_nul,
    liberal_secrets,
    mask_spans,
    port_number,
    secret_forms,
    secrets_in_text,
)

# libpq's connection keywords (PQconndefaults of libpq 18); a URI query parameter outside this
# set makes libpq fail with "invalid URI query parameter". A unit test checks the list against
# the libpq that psycopg loads.
LIBPQ_KEYWORDS = frozenset(
    [
        "service",
        "user",
        "password",
        "passfile",
        "channel_binding",
        "connect_timeout",
        "dbname",
        "host",
        "hostaddr",
        "port",
        "client_encoding",
        "options",
        "application_name",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "sslmode",
        "sslnegotiation",
        "sslcompression",
        "sslcert",
        "sslkey",
        "sslcertmode",
        "sslpassword",
        "sslrootcert",
        "sslcrl",
        "sslcrldir",
        "sslsni",
        "requirepeer",
        "require_auth",
        "min_protocol_version",
        "max_protocol_version",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "gssencmode",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
        "replication",
        "target_session_attrs",
        "load_balance_hosts",
        "scram_client_key",
        "scram_server_key",
        "oauth_issuer",
        "oauth_client_id",
        "oauth_client_secret",
        "oauth_scope",
        "sslkeylogfile",
        "ssl",
        "requiressl",
    ]
)


def _libpq_decode(text: str, component: str) -> str:
    """libpq's conninfo_uri_decode: surrounding spaces dropped, inner spaces and bad %XX refused."""
    text = text.strip(" ")
    if " " in text:
        raise UrlError(f"the {component} holds a space: percent-encode it as %20")
    out = bytearray()
    i = 0
    data = text.encode("utf-8", "surrogateescape")
    while i < len(data):
        if data[i] == 0x25:  # '%'
            pair = data[i + 1 : i + 3]
            if len(pair) != 2 or not all(chr(c) in "0123456789abcdefABCDEF" for c in pair):
                raise UrlError(f"the {component} holds a '%' that is not followed by two hex digits")
            value = int(pair, 16)
            if value == 0:
                raise UrlError(f"the {component} holds %00, which libpq refuses")
            out.append(value)
            i += 3
        else:
            out.append(data[i])
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:  # psycopg decodes libpq's answer as UTF-8 and would crash
        raise UrlError(f"the {component} holds percent-encoded bytes that are not UTF-8 text") from None


def parse_postgres(url: str) -> UrlParts:
    check_no_nul(url)
    prefix = next((p for p in ("postgresql://", "postgres://") if url.startswith(p)), None)
    if prefix is None:
        raise UrlError("libpq takes only the lowercase schemes postgresql:// and postgres://")
    secrets: list[str] = []
    spans: list[tuple[int, int]] = []
    conninfo: dict[str, str] = {}  # in the order libpq stores them: a query parameter overrides
    start = p = len(prefix)
    n = len(url)
    while p < n and url[p] not in "@/":
        p += 1
    userinfo_end = p if p < n and url[p] == "@" else None
    last_at = url.rfind("@")
    if last_at >= start and last_at != userinfo_end:
        liberal, liberal_spans = liberal_secrets(url)
        raise Rejected(f"an '@' follows the user:password part; {ENCODE_HINT}", liberal, liberal_spans)
    if userinfo_end is not None:
        colon = url.find(":", start, userinfo_end)
        user_end = userinfo_end if colon < 0 else colon
        if user := _libpq_decode(url[start:user_end], "user name"):
            conninfo["user"] = user
        if colon >= 0:
            raw = url[colon + 1 : userinfo_end]
            spans.append((colon + 1, userinfo_end))
            secrets += secret_forms(raw)
            if raw:
                conninfo["password"] = _libpq_decode(raw, "password")
                secrets.append(conninfo["password"])
        p = userinfo_end + 1
    else:
        p = start
    hosts: list[str] = []
    ports: list[int | None] = []
    port_texts: list[str] = []
    prevchar = ""
    while True:
        if p < n and url[p] == "[":
            close = url.find("]", p + 1)
            if close < 0:
                raise UrlError("an IPv6 address opened with '[' has no closing ']'")
            if close == p + 1:
                raise UrlError("the IPv6 address between '[' and ']' is empty")
            host = url[p + 1 : close]
            p = close + 1
            if p < n and url[p] not in ":/?,":
                raise UrlError(f"unexpected character at position {p + 1} after ']' (expected ':', '/' or '?')")
        else:
            host_start = p
            while p < n and url[p] not in ":/?,":
                p += 1
            host = url[host_start:p]
        prevchar = url[p] if p < n else ""
        port: int | None = None
        port_text = ""
        if prevchar == ":":
            port_start = p = p + 1
            while p < n and url[p] not in "/?,":
                p += 1
            port_text = _libpq_decode(url[port_start:p], "port")
            prevchar = url[p] if p < n else ""
            if port_text:
                port = port_number(port_text)
        hosts.append(_libpq_decode(host, "host"))
        ports.append(port)
        port_texts.append(port_text)
        if prevchar != ",":
            break
        p += 1
    authority = {"host": ",".join(hosts), "port": ",".join(port_texts)}
    conninfo.update((k, v) for k, v in authority.items() if v)
    if prevchar and prevchar != "?":
        db_start = p = p + 1
        while p < n and url[p] != "?":
            p += 1
        if dbname := _libpq_decode(url[db_start:p], "database name"):
            conninfo["dbname"] = dbname
        prevchar = url[p] if p < n else ""
    if prevchar:
        p += 1
        offset = p
        for pair in url[p:].split("&") if p < n else []:
            if pair.count("=") != 1:
                raise UrlError("every query parameter must be key=value (libpq refuses anything else)")
            key_raw, value_raw = pair.split("=")
            key = _libpq_decode(key_raw, "query parameter name")
            value_start = offset + len(key_raw) + 1
            if key.lower() in SECRET_PARAMS:
                spans.append((value_start, value_start + len(value_raw)))
                secrets += secret_forms(value_raw)
            value = _libpq_decode(value_raw, f"query parameter {key!r}")
            if key.lower() in SECRET_PARAMS:
                secrets.append(value)
            elif inner := secrets_in_text(value):  # options=-c%20password%3D...: encoded inside
                spans.append((value_start, value_start + len(value_raw)))
                secrets += inner
            if key not in LIBPQ_KEYWORDS:
                raise UrlError(f"{key!r} is not a libpq connection parameter")
            if key == "ssl" and value == "true":  # libpq's JDBC compatibility
                key, value = "sslmode", "require"
            conninfo[key] = value
            offset += len(pair) + 1
    return UrlParts(
        mask_spans(url, spans),
        tuple(secrets),
        tuple(hosts),
        tuple(ports),
        options=conninfo,
        resolve="hostaddr" not in conninfo,  # libpq resolves nothing when hostaddr is given
    )


def read(url: str, _ports: Mapping[str, int]) -> UrlParts:
    """The kind's reader: libpq applies its own default port (5432) and host lists."""
    return parse_postgres(url)


KIND = Kind(
    "postgresql",
    ("postgresql", "postgres"),
    "postgresql://, postgres://",
    "supervisor.kinds.postgres",
    read,
    light=False,
)
