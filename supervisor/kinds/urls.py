"""What every kind's URL rules share: the userinfo, secret query parameters, and masking.

Each kind's own rules (libpq's in ``postgres_url``, redis-py's in ``redis_url``, urllib's
for ``tcp_url`` and ``http_url``) follow its driver exactly, because that is what decides which
part is the password: libpq ends the user:password part at the first ``@`` before any ``/`` (so
``#`` and ``?`` are plain characters in a password), urllib and redis-py end the host part at
the first ``/``, ``?`` or ``#`` and take the last ``@`` in it. Where the two readings of a URL
disagree (a generated password with an unencoded ``/`` or ``@``), the URL is rejected rather
than guessed at; the error never repeats any part of the URL that could be a secret.

Every reader's result carries the secret *values* (raw as written, and decoded as the driver
will send them) for ``supervisor.core.redaction``, and a display form with each secret's span
replaced by ``***``. Everything here is pure and imports nothing heavy: ``run`` parses before it
listens, and psycopg or redis-py would cost 100 ms each to import.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

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


@dataclass(frozen=True)
class UrlParts:
    """What a driver will use, the secrets inside, and the form that may be shown."""

    display: str
    secrets: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    ports: tuple[int | None, ...] = ()
    target: str = ""  # HTTP request target (path and query); sqlite: the file
    options: dict[str, str] = field(default_factory=dict)  # libpq's conninfo, redis-py's query options...
    argv: tuple[str, ...] = ()  # cmd: the command
    variables: tuple[str, ...] = ()  # config: the variable names
    must_exist: bool = False  # sqlite: the file must exist already
    resolve: bool = True  # False when the driver resolves no name (libpq given a hostaddr)

    @property
    def host(self) -> str:
        return self.hosts[0] if self.hosts else ""

    @property
    def port(self) -> int | None:
        return self.ports[0] if self.ports else None


def mask_spans(url: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if start < last:
            continue
        out.append(url[last:start])
        out.append(MASK)
        last = end
    out.append(url[last:])
    return "".join(out)


def secret_forms(raw: str, decoded: str | None = None) -> list[str]:
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
            found += secret_forms(url[colon + 1 : at])
            spans.append((colon + 1, at))
    question = url.find("?")
    if question >= 0:
        offset = question + 1
        for pair in re.split("[&;]", url[offset:]):
            key, sep, value = pair.partition("=")
            if sep and value and unquote(key).strip().lower() in SECRET_PARAMS:
                start = offset + len(key) + 1
                found += secret_forms(value)
                found += [v for v in value.split() if len(v) >= 3]
                spans.append((start, start + len(value)))
            offset += len(pair) + 1
    return found, spans


def mask_unparsed(url: str) -> str:
    """A URL that failed to parse, safe to show in an error line."""
    _, spans = liberal_secrets(url)
    return mask_spans(url, spans)


def check_no_nul(url: str) -> None:
    if "\x00" in url:
        raise UrlError("the URL holds a NUL byte")


def port_number(text: str, what: str = "port") -> int:
    text = text.strip()
    if not text.isdigit() or not text.isascii() or not 1 <= int(text) <= 65535:
        raise UrlError(f"the {what} must be a number from 1 to 65535")
    return int(text)


class Rejected(UrlError):
    """A rejected URL whose secrets are known only under the liberal reading."""

    def __init__(self, message: str, secrets: list[str], spans: list[tuple[int, int]]) -> None:
        super().__init__(message)
        self.secrets = secrets
        self.spans = spans


def split_authority(url: str) -> tuple[str, int, int, str, str]:
    """(scheme, netloc start, netloc end, path, query) as urllib splits them, plus the check that
    no ``@`` sits outside the netloc (that is a password with an unencoded / ? # or @)."""
    check_no_nul(url)
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
        raise Rejected(f"an '@' follows the host part; {ENCODE_HINT}", liberal, spans)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UrlError("the host part is malformed (an IPv6 address needs [brackets] that close)") from None
    return url[:scheme_end].lower(), start, end, parts.path, parts.query


def read_userinfo(url: str, start: int, end: int) -> tuple[list[str], list[tuple[int, int]], str]:
    """Secrets and spans of ``user:password@`` in the netloc, and the host:port that follows."""
    at = url.rfind("@", start, end)
    if at < 0:
        return [], [], url[start:end]
    colon = url.find(":", start, at)
    if colon < 0:
        return [], [], url[at + 1 : end]
    return secret_forms(url[colon + 1 : at]), [(colon + 1, at)], url[at + 1 : end]


def host_port(hostinfo: str, default_port: int | None) -> tuple[str, int]:
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
    return host, port_number(port_text)


def query_secrets(url: str, query: str) -> tuple[list[str], list[tuple[int, int]]]:
    secrets: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = url.find("?") + 1
    for pair in re.split("[&;]", query):
        key, sep, value = pair.partition("=")
        if sep and unquote(key).lower() in SECRET_PARAMS and value:
            start = offset + len(key) + 1
            spans.append((start, start + len(value)))
            secrets += secret_forms(value, unquote(value.replace("+", " ")))
        offset += len(pair) + 1
    return secrets, spans


def read_authority(url: str, default_ports: Mapping[str, int]) -> tuple[str, str, str, UrlParts]:
    """(scheme, path, query, parts) of a URL that urllib reads: redis-py's, HTTP's and TCP's."""
    scheme, start, end, path, query = split_authority(url)
    secrets, spans, hostinfo = read_userinfo(url, start, end)
    q_secrets, q_spans = query_secrets(url, query)
    host, port = host_port(hostinfo, default_ports.get(scheme))
    parts = UrlParts(mask_spans(url, spans + q_spans), tuple(secrets + q_secrets), (host,), (port,))
    return scheme, path, query, parts


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
            found += secret_forms(userinfo.group(1))
    for count, match in enumerate(_URL_START.finditer(text)):
        if count == 16:  # a word with more URLs than that is not a command line; stay linear
            break
        space = _SPACE.search(text, match.start())
        ends = {len(text)} | ({space.start()} if space else set())
        for end in ends:
            candidate = text[match.start() : end]
            found += liberal_secrets(candidate)[0]
            try:
                _, start, netloc_end, _, query = split_authority(candidate)
            except UrlError:
                continue
            found += read_userinfo(candidate, start, netloc_end)[0]
            found += query_secrets(candidate, query)[0]
    for match in _KEYWORD_SECRET.finditer(text):
        value = match.group(1)
        found += secret_forms(value)
        if value.startswith("'") and value.endswith("'") and len(value) >= 2:
            found.append(re.sub(r"\\(.)", r"\1", value[1:-1]))
    return found


def rejected_secrets(exc: UrlError) -> list[str]:
    return exc.secrets if isinstance(exc, Rejected) else []
