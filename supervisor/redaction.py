"""Keep passwords out of every output: logs, /readyz, ``check``, ``config`` and driver errors.

Two layers, because either alone leaks: URLs are rendered with their password replaced, and every
known secret string is also scrubbed from free text (a driver may echo a DSN in its error message,
a ``cmd:`` gate may print it).
"""

import re
import threading
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"

# scheme://user:password@host — the password part, wherever such a URL appears in text.
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s/]+)(?=@)")
# libpq keyword form: password=secret or password='sec ret'
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class _SecretRegistry:
    """Process-wide set of secret strings; settings register them as soon as they are parsed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, secret: str) -> None:
        if len(secret) < 3:  # scrubbing "a" would mangle every message; URL masking still applies
            return
        with self._lock:
            if secret not in self._secrets:
                # longest first so that a secret containing another is removed whole
                self._secrets = tuple(sorted({*self._secrets, secret}, key=len, reverse=True))

    def clear(self) -> None:
        with self._lock:
            self._secrets = ()

    def all(self) -> tuple[str, ...]:
        return self._secrets


secrets = _SecretRegistry()


def redact_text(text: str) -> str:
    """Scrub URL passwords, ``password=`` keywords and every registered secret from ``text``."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    text = _KEYWORD_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    for secret in secrets.all():
        text = text.replace(secret, MASK)
    return text


def redact_url(url: str) -> str:
    """Render a URL with its password (if any) replaced by ``***``; the rest stays readable."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return redact_text(url)
    if not password:
        return redact_text(url)
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return redact_text(urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostinfo}")))


def register_url(url: str) -> None:
    """Remember a URL's password (raw and decoded) so that free text can be scrubbed of it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    if parts.password:  # urllib leaves it percent-encoded; drivers decode it: scrub both
        secrets.add(parts.password)
        secrets.add(unquote(parts.password))
