"""Gate URLs taken apart the way their drivers take them apart, once, at configuration time.

Each parser follows its driver exactly, because that is what decides which part is the password:
libpq ends the user:password part at the first ``@`` before any ``/`` (so ``#`` and ``?`` are
plain characters in a password), urllib and redis-py end the host part at the first ``/``, ``?``
or ``#`` and take the last ``@`` in it. Where the two readings of a URL disagree (a generated
password with an unencoded ``/`` or ``@``), the URL is rejected rather than guessed at; the error
never repeats any part of the URL that could be a secret.

The result of every parser carries the secret *values* (raw as written, and decoded as the
driver will send them) for ``supervisor.core.redaction``, and a display form with each secret's span
replaced by ``***``. Everything here is pure and imports nothing heavy: ``run`` parses before it
listens, and psycopg or redis-py would cost 100 ms each to import.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, quote, unquote, urlsplit

from supervisor.core.redaction import MASK


class UrlError(ValueError):
    """The URL is not one its driver would accept; the message holds no part of a secret."""


# Query parameters whose values are secrets, whatever the driver.
SECRET_PARAMS = frozenset(
    {
        "password",
        "sslpassword",
        "ssl_password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "client_secret",
        "oauth_client_secret",
        "token",
        "access_token",
        "auth",
        "api_key",
        "apikey",
        "key",
        "sig",
        "signature",
    }
)
ENCODE_HINT = "percent-encode reserved characters in the user name and password (/ as %2F, @ as %40, # as %23)"

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


@dataclass(frozen=True)
class UrlParts:
    """What a driver will use, the secrets inside, and the form that may be shown."""

    display: str
    secrets: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    ports: tuple[int | None, ...] = ()
    target: str = ""  # HTTP request target (path and query)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.hosts[0] if self.hosts else ""

    @property
    def port(self) -> int | None:
        return self.ports[0] if self.ports else None


def _mask_spans(url: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if start < last:
            continue
        out.append(url[last:start])
        out.append(MASK)
        last = end
    out.append(url[last:])
    return "".join(out)


def _secret_forms(raw: str, decoded: str | None = None) -> list[str]:
    """A secret as written, decoded, and re-encoded: any of them may be echoed."""
    forms = {raw, unquote(raw), quote(unquote(raw), safe="")}
    if decoded is not None:
        forms.add(decoded)
    return [f for f in forms if f]


def liberal_secrets(url: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The secrets under the widest reading, for a URL that is rejected (or that no parser
    claims): the password is everything between the first ``:`` after ``://`` and the *last*
    ``@``, and a secret query parameter runs to the next ``&`` or the end, spaces and all."""
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    scheme_end = url.find("://")
    at = url.rfind("@")
    if scheme_end >= 0 and at > scheme_end:
        colon = url.find(":", scheme_end + 3, at)
        if colon >= 0:
            found += _secret_forms(url[colon + 1 : at])
            spans.append((colon + 1, at))
    question = url.find("?")
    if question >= 0:
        offset = question + 1
        for pair in re.split("[&;]", url[offset:]):
            key, sep, value = pair.partition("=")
            if sep and value and unquote(key).strip().lower() in SECRET_PARAMS:
                start = offset + len(key) + 1
                found += _secret_forms(value)
                found += [v for v in value.split() if len(v) >= 3]
                spans.append((start, start + len(value)))
            offset += len(pair) + 1
    return found, spans


def mask_unparsed(url: str) -> str:
    """A URL that failed to parse, safe to show in an error line."""
    _, spans = liberal_secrets(url)
    return _mask_spans(url, spans)


def _check_no_nul(url: str) -> None:
    if "\x00" in url:
        raise UrlError("the URL holds a NUL byte")


def _port(text: str, what: str = "port") -> int:
    text = text.strip()
    if not text.isdigit() or not text.isascii() or not 1 <= int(text) <= 65535:
        raise UrlError(f"the {what} must be a number from 1 to 65535")
    return int(text)


# -- PostgreSQL: libpq's conninfo_uri_parse_options ---------------------------------------------


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
    _check_no_nul(url)
    prefix = next((p for p in ("postgresql://", "postgres://") if url.startswith(p)), None)
    if prefix is None:
        raise UrlError("libpq takes only the lowercase schemes postgresql:// and postgres://")
    secrets: list[str] = []
    spans: list[tuple[int, int]] = []
    start = p = len(prefix)
    n = len(url)
    while p < n and url[p] not in "@/":
        p += 1
    userinfo_end = p if p < n and url[p] == "@" else None
    last_at = url.rfind("@")
    if last_at >= start and last_at != userinfo_end:
        liberal, liberal_spans = liberal_secrets(url)
        raise _Rejected(f"an '@' follows the user:password part; {ENCODE_HINT}", liberal, liberal_spans)
    if userinfo_end is not None:
        colon = url.find(":", start, userinfo_end)
        user_end = userinfo_end if colon < 0 else colon
        _libpq_decode(url[start:user_end], "user name")
        if colon >= 0:
            raw = url[colon + 1 : userinfo_end]
            spans.append((colon + 1, userinfo_end))
            secrets += _secret_forms(raw)
            if raw:
                secrets.append(_libpq_decode(raw, "password"))
        p = userinfo_end + 1
    else:
        p = start
    hosts: list[str] = []
    ports: list[int | None] = []
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
        if prevchar == ":":
            port_start = p = p + 1
            while p < n and url[p] not in "/?,":
                p += 1
            port_text = _libpq_decode(url[port_start:p], "port")
            prevchar = url[p] if p < n else ""
            if port_text:
                port = _port(port_text)
        hosts.append(_libpq_decode(host, "host"))
        ports.append(port)
        if prevchar != ",":
            break
        p += 1
    options: dict[str, str] = {}
    if prevchar and prevchar != "?":
        db_start = p = p + 1
        while p < n and url[p] != "?":
            p += 1
        options["dbname"] = _libpq_decode(url[db_start:p], "database name")
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
                secrets += _secret_forms(value_raw)
            value = _libpq_decode(value_raw, f"query parameter {key!r}")
            if key.lower() in SECRET_PARAMS:
                secrets.append(value)
            elif inner := secrets_in_text(value):  # options=-c%20password%3D...: encoded inside
                spans.append((value_start, value_start + len(value_raw)))
                secrets += inner
            if key not in LIBPQ_KEYWORDS:
                raise UrlError(f"{key!r} is not a libpq connection parameter")
            options[key] = value
            offset += len(pair) + 1
    return UrlParts(_mask_spans(url, spans), tuple(secrets), tuple(hosts), tuple(ports), options=options)


# -- urllib's reading: redis-py, HTTP and TCP ---------------------------------------------------


class _Rejected(UrlError):
    """A rejected URL whose secrets are known only under the liberal reading."""

    def __init__(self, message: str, secrets: list[str], spans: list[tuple[int, int]]) -> None:
        super().__init__(message)
        self.secrets = secrets
        self.spans = spans


def _split_authority(url: str) -> tuple[str, int, int, str, str]:
    """(scheme, netloc start, netloc end, path, query) as urllib splits them, plus the check that
    no ``@`` sits outside the netloc (that is a password with an unencoded / ? # or @)."""
    _check_no_nul(url)
    if any(c < " " or c == "\x7f" for c in url):  # urllib silently drops tabs and newlines
        raise UrlError("the URL holds a control character (a tab or a newline?)")
    scheme_end = url.find("://")
    if scheme_end < 0:
        raise UrlError("expected SCHEME://HOST...")
    start = scheme_end + 3
    end = start
    while end < len(url) and url[end] not in "/?#":
        end += 1
    last_at = url.rfind("@")
    if last_at >= end:
        liberal, spans = liberal_secrets(url)
        raise _Rejected(f"an '@' follows the host part; {ENCODE_HINT}", liberal, spans)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UrlError("the host part is malformed (an IPv6 address needs [brackets] that close)") from None
    return url[:scheme_end].lower(), start, end, parts.path, parts.query


def _userinfo(url: str, start: int, end: int) -> tuple[list[str], list[tuple[int, int]], str]:
    """Secrets and spans of ``user:password@`` in the netloc, and the host:port that follows."""
    at = url.rfind("@", start, end)
    if at < 0:
        return [], [], url[start:end]
    colon = url.find(":", start, at)
    if colon < 0:
        return [], [], url[at + 1 : end]
    return _secret_forms(url[colon + 1 : at]), [(colon + 1, at)], url[at + 1 : end]


def _host_port(hostinfo: str, default_port: int | None) -> tuple[str, int]:
    if hostinfo.startswith("["):
        close = hostinfo.find("]")
        if close < 0:
            raise UrlError("an IPv6 address opened with '[' has no closing ']'")
        host, rest = hostinfo[1:close], hostinfo[close + 1 :]
        if rest and not rest.startswith(":"):
            raise UrlError("unexpected text after the IPv6 address (expected :PORT)")
        port_text = rest[1:] if rest else None
    else:
        host, sep, port_text_ = hostinfo.partition(":")
        port_text = port_text_ if sep else None
    host = unquote(host)
    if not host:
        raise UrlError("the URL names no host")
    if not host.isascii() or any(c.isspace() or not c.isprintable() for c in host):
        raise UrlError("the host holds spaces or non-ASCII characters (give IDNA names as xn--...)")
    if port_text is None or port_text == "":
        if default_port is None:
            raise UrlError("the URL names no port (expected HOST:PORT)")
        return host, default_port
    return host, _port(port_text)


def _query_secrets(url: str, query: str) -> tuple[list[str], list[tuple[int, int]]]:
    secrets: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = url.find("?") + 1
    for pair in re.split("[&;]", query):
        key, sep, value = pair.partition("=")
        if sep and unquote(key).lower() in SECRET_PARAMS and value:
            start = offset + len(key) + 1
            spans.append((start, start + len(value)))
            secrets += _secret_forms(value, unquote(value.replace("+", " ")))
        offset += len(pair) + 1
    return secrets, spans


def _read_authority(url: str, default_ports: Mapping[str, int]) -> tuple[str, str, str, UrlParts]:
    """(scheme, path, query, parts) of a URL that urllib reads: redis-py's, HTTP's and TCP's."""
    scheme, start, end, path, query = _split_authority(url)
    secrets, spans, hostinfo = _userinfo(url, start, end)
    q_secrets, q_spans = _query_secrets(url, query)
    host, port = _host_port(hostinfo, default_ports.get(scheme))
    parts = UrlParts(_mask_spans(url, spans + q_spans), tuple(secrets + q_secrets), (host,), (port,))
    return scheme, path, query, parts


def parse_redis(url: str, default_ports: Mapping[str, int]) -> UrlParts:
    if not url.startswith(("redis://", "rediss://")):
        raise UrlError("redis-py takes only the lowercase schemes redis:// and rediss://")
    scheme, path, query, parts = _read_authority(url, default_ports)
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


def parse_http(url: str, default_ports: Mapping[str, int]) -> UrlParts:
    _, path, query, parts = _read_authority(url, default_ports)
    target = (path or "/") + (f"?{query}" if query else "")
    if not all("!" <= c <= "~" for c in target):
        raise UrlError("the path or query holds a space, a control or a non-ASCII character; percent-encode it")
    return replace(parts, target=target)


def parse_tcp(url: str, default_ports: Mapping[str, int]) -> UrlParts:
    return _read_authority(url, default_ports)[3]


# -- secrets inside command lines -----------------------------------------------------------

_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}://")
_SPACE = re.compile(r"\s")
_KEYWORD_SECRET = re.compile(
    r"(?:^|[\s?&;-])(?:password|sslpassword|passwd)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE
)


def secrets_in_text(text: str) -> list[str]:
    """Secrets in one command-line word or setting: passwords of URLs in it (any scheme, read
    liberally, up to the next space and up to the end, since a quoted word may hold spaces) and
    libpq ``password=`` keywords, also where the text holds them percent-encoded
    (``options=-c%20password%3D...``). Run once per value, at configuration time."""
    decoded = unquote(text)  # one layer: each further one would be one more pass
    return _secrets_in(text) + (_secrets_in(decoded) if decoded != text else [])


_FIRST_USERINFO = re.compile(r"[^/?#@\s:]*:([^/?#@\s]+)@")


def _secrets_in(text: str) -> list[str]:
    found: list[str] = []
    # every URL's own ``user:password@``, up to the first ``@``: the liberal reading below takes
    # the userinfo up to the last one, which in ``http://u:pw@h/?e=a@b`` or in a list of URLs in
    # one word (``redis://:a@h1,redis://:b@h2``) is one long string, not the passwords in it.
    # Each scan stops at the next ``/`` at the latest (every URL start has one): linear.
    for match in _URL_START.finditer(text):
        userinfo = _FIRST_USERINFO.match(text, match.end())
        if userinfo:
            found += _secret_forms(userinfo.group(1))
    for count, match in enumerate(_URL_START.finditer(text)):
        if count == 16:  # a word with more URLs than that is not a command line; stay linear
            break
        space = _SPACE.search(text, match.start())
        ends = {len(text)} | ({space.start()} if space else set())
        for end in ends:
            candidate = text[match.start() : end]
            found += liberal_secrets(candidate)[0]
            try:
                _, start, netloc_end, _, query = _split_authority(candidate)
            except UrlError:
                continue
            found += _userinfo(candidate, start, netloc_end)[0]
            found += _query_secrets(candidate, query)[0]
    for match in _KEYWORD_SECRET.finditer(text):
        value = match.group(1)
        found += _secret_forms(value)
        if value.startswith("'") and value.endswith("'") and len(value) >= 2:
            found.append(re.sub(r"\\(.)", r"\1", value[1:-1]))
    return found


def rejected_secrets(exc: UrlError) -> list[str]:
    return exc.secrets if isinstance(exc, _Rejected) else []
