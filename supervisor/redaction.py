"""Keep passwords out of every output: logs, /readyz, ``check``, ``config`` and driver errors.

Redaction is structural. Each URL is taken apart once, at configuration time, the way its driver
takes it apart (``supervisor.urlparts``); its secrets (the password, secret query parameters)
are kept as values here, and outputs mask exactly those values. Nothing guesses at what looks
like a password in free text: a guess is either quadratic, or misses a password with a ``/`` in
it, or scrubs "postgresql" because the password is "postgres".

Masking respects word edges: a secret that starts (ends) with a letter or digit is masked only
where it is not glued to another letter or digit before (after) it, so the password ``postgres``
is masked in ``user:postgres@`` but ``postgresql://`` stays readable. One compiled alternation
of literals, longest first, does it in one linear pass over the text.
"""

import re
import threading
from collections.abc import Iterable

MASK = "***"
# Shorter secrets are masked where they are rendered structurally (URLs, query values) but not
# searched for in free text: "ab" would be scrubbed from every word.
MIN_FREE_TEXT = 3


def _edge_pattern(secret: str) -> str:
    body = re.escape(secret)
    if secret[0].isalnum():
        body = r"(?<![^\W_])" + body
    if secret[-1].isalnum():
        body += r"(?![^\W_])"
    return body


class _SecretRegistry:
    """Process-wide set of secret values; settings add them as soon as a URL is parsed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *values: str) -> None:
        new = {v for v in values if len(v) >= MIN_FREE_TEXT and v != MASK}
        with self._lock:
            if new <= self._secrets:
                return
            self._secrets = self._secrets | new
            ordered = sorted(self._secrets, key=lambda s: (-len(s), s))  # longest first: removed whole
            self._pattern = re.compile("|".join(_edge_pattern(s) for s in ordered))

    def clear(self) -> None:
        with self._lock:
            self._secrets = frozenset()
            self._pattern = None

    def all(self) -> frozenset[str]:
        return self._secrets

    def mask(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)


secrets = _SecretRegistry()


def redact_text(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``; linear in the length of text."""
    return secrets.mask(text)


def register(values: Iterable[str]) -> None:
    secrets.add(*values)
