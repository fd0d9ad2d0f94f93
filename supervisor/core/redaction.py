"""Keep passwords out of every output: logs, /readyz, ``check``, ``config`` and driver errors.

Redaction is structural. Each URL is taken apart once, at configuration time, the way its driver
takes it apart (``supervisor/kinds/*_url.py``); its secrets (the password, secret query parameters)
are kept as values here, and outputs mask exactly those values. Nothing guesses at what looks
like a password in free text: a guess is either quadratic, or misses a password with a ``/`` in
it, or scrubs "postgresql" because the password is "postgres".

Masking respects word edges: a secret that starts (ends) with a letter or digit is masked only
where it is not glued to another letter or digit before (after) it, so the password ``postgres``
is masked in ``user:postgres@`` but ``postgresql://`` stays readable. One compiled alternation
of literals, longest first, does it in one linear pass over the text. A ``%XX`` escape counts as
an edge too, so a secret inside an encoded value (``options=-c%20password%3Dsecret``) is masked.

Masking applies to text that came from outside: a user's URL or command, a driver's message, a
command's output. The supervisor's own words (``exit status``, ``failed``) are never passed
through it, so a password that happens to be ``failed`` cannot be read off from where ``***``
lands. And it applies to whole values before anything is cut (``shorten``, ``redact_tail``): a
line cut inside a password would otherwise show its first or last characters.

Every form a secret may be echoed in is registered with it: raw, percent-encoded in upper and
lower case hex (with ``+`` for spaces too), and escaped as in a libpq ``key='value'`` string.
A secret shorter than ``SHORT`` characters is masked only where it stands as a token of its own
(between spaces, quotes or URL punctuation), so that ``ab`` is masked in ``-p ab`` or ``:ab@``
but ``about`` stays readable.
"""

import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter secrets are masked only as tokens of their own: "ab" would be scrubbed from every word.
SHORT = 3
# A secret this long is masked inside words too ("AAA<password>BBB" in a command's output); a
# shorter one only at word edges, so that a password "postgres" leaves "postgresql" readable
ANYWHERE = 12
_TOKEN_EDGE = r"""\s'"=:,;&@/?#()\[\]{}<>|.!"""
_ESCAPE_BEFORE = r"(?<=%[0-9A-Fa-f]{2})"
_ESCAPE_AFTER = r"(?=%[0-9A-Fa-f]{2})"


def _edge_pattern(secret: str) -> str:
    body = re.escape(secret)
    if len(secret) < SHORT:
        return rf"(?:(?<![^{_TOKEN_EDGE}])|{_ESCAPE_BEFORE}){body}(?:(?![^{_TOKEN_EDGE}])|{_ESCAPE_AFTER})"
    if len(secret) >= ANYWHERE:  # long enough to be no word's part: masked wherever it stands
        return body
    if secret[0].isalnum():
        body = rf"(?:(?<![^\W_])|{_ESCAPE_BEFORE})" + body
    if secret[-1].isalnum():
        body += rf"(?:(?![^\W_])|{_ESCAPE_AFTER})"
    return body


def _lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def forms(value: str) -> set[str]:
    """``value`` in every spelling an output may echo it in: percent-encoded (upper and lower case
    hex, ``%20`` or ``+`` for a space) and escaped inside a libpq ``key='value'`` string."""
    encoded = {quote(value, safe=""), quote_plus(value, safe="")}
    found = {value, value.replace("\\", "\\\\").replace("'", "\\'")}
    found |= encoded | {_lower_escapes(e) for e in encoded}
    return {f for f in found if f and f != MASK}


def _fragment_before(text: str, secrets: Iterable[str]) -> int:
    """The length of the longest start of ``text`` that is the end of a secret (and not a whole
    one): what is left of a secret when the text was cut out of a longer one just before it."""
    longest = 0
    for secret in secrets:
        head = text[: len(secret) - 1]
        if not head:
            continue
        # prefix function of head + sentinel + secret: its last value is the longest start of
        # head that ends secret; linear in the secret's length
        joined: list[object] = [*head, None, *secret]
        border = [0] * len(joined)
        for i in range(1, len(joined)):
            k = border[i - 1]
            while k and joined[i] != joined[k]:
                k = border[k - 1]
            if joined[i] == joined[k]:
                k += 1
            border[i] = k
        longest = max(longest, border[-1])
    return longest


class _SecretRegistry:
    """Process-wide set of secret values; settings add them as soon as a URL is parsed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *values: str) -> None:
        new = {f for v in values if v for f in forms(v)}
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

    def mask_tail(self, text: str) -> str:
        """``mask`` for a text whose beginning was cut off: what is left of a secret at its start
        (the end of the secret) is masked as well."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        cut = _fragment_before(text, self._secrets)
        out: list[str] = [MASK] if cut else []
        for match in pattern.finditer(text):
            if match.start() < cut:  # overlaps the fragment: masked with it
                cut = max(cut, match.end())
                continue
            out += [text[cut : match.start()], MASK]
            cut = match.end()
        out.append(text[cut:])
        return "".join(out)


secrets = _SecretRegistry()


def redact_text(text: str) -> str:
    """``text`` (from outside: a URL, a command, a driver's message, a command's output) with every
    registered secret replaced by ``***``; linear in the length of text. Never give it a line
    that holds the supervisor's own words: mask the outside pieces, then compose."""
    return secrets.mask(text)


def shorten(text: str, limit: int) -> str:
    """``text`` masked, then cut to ``limit`` characters: a cut never splits a secret."""
    masked = secrets.mask(text)
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"


def redact_tail(text: str) -> str:
    """``text`` masked, where it is the end of a longer text (a bounded tail of output)."""
    return secrets.mask_tail(text)


def register(values: Iterable[str]) -> None:
    secrets.add(*values)
