"""``${VAR}`` in gate URLs, as Compose interpolates: URLs from the parts an app's settings read.

Many Django settings read ``DB_HOST``, ``DB_NAME``, ``DB_USER`` and ``DB_PASSWORD`` rather than
one ``DATABASE_URL``; ``postgresql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT:-5432}/${DB_NAME}``
builds the gate's URL from them. The forms are Compose's: ``$VAR`` and ``${VAR}``;
``${VAR:-default}`` (unset or empty) and ``${VAR-default}`` (unset); ``${VAR:?message}`` and
``${VAR?message}`` (an error); ``${VAR:+other}`` and ``${VAR+other}`` (``other`` when set);
``$$`` for a literal ``$``; a default may hold ``${...}`` itself. Unlike Compose, a variable
that is not set and has no default is an error that names it, never an empty string: a URL
with an empty host or password fails later, and less clearly. And a value put into the URL's
``user:password`` part is percent-encoded: ``DB_PASSWORD`` holds the password as the app uses
it, where a URL needs ``@`` written ``%40``.

Pure: text and environment in, text and where each value landed out (so that a value put where
a password goes can be masked like any other secret).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    """The text cannot be expanded; ``str(exc)`` names the variable or the bad form."""


class UnsetVariable(InterpolationError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Userinfo:
    """Where a URL template's ``user:password@`` is: offsets into the template."""

    start: int
    password: int  # where the password begins (after the ``:``); ``end`` when there is none
    end: int  # the ``@``


@dataclass(frozen=True)
class Expanded:
    text: str
    passwords: tuple[str, ...] = ()  # the values put where the URL's password goes, as put there


def has_references(text: str) -> bool:
    return "$" in text


def userinfo_of(template: str) -> Userinfo | None:
    """Where a URL template's ``user:password`` part is (references inside it included), or None
    when it has none: after ``://``, up to the last ``@`` that is outside every ``${...}`` and
    before the path."""
    start = template.find("://")
    if start < 0:
        return None
    i, at, colon = start + 3, -1, -1
    while i < len(template):
        if template.startswith("$$", i):
            i += 2
        elif template.startswith("${", i):
            try:
                i = _closing_brace(template, i + 2) + 1
            except InterpolationError:
                return None
        elif template[i] in "/?#":
            break
        else:
            if template[i] == "@":
                at = i
            elif template[i] == ":" and colon < 0:
                colon = i
            i += 1
    if at < 0:
        return None
    return Userinfo(start + 3, colon + 1 if 0 <= colon < at else at, at)


def expand(text: str, environ: Mapping[str, str], *, userinfo: Userinfo | None = None) -> Expanded:
    """``text`` with every reference replaced; raises ``InterpolationError``.

    ``userinfo``: a reference inside a URL's ``user:password`` is percent-encoded (``DB_PASSWORD``
    holds the password itself, and an ``@`` or ``/`` in it would otherwise end that part early),
    and one in its password is listed in ``passwords``."""
    out: list[str] = []
    passwords: list[str] = []
    i, n = 0, len(text)
    while i < n:
        dollar = text.find("$", i)
        if dollar < 0:
            out.append(text[i:])
            break
        out.append(text[i:dollar])
        encode = userinfo is not None and userinfo.start <= dollar < userinfo.end
        in_password = userinfo is not None and userinfo.password <= dollar < userinfo.end
        i = dollar + 1
        if i < n and text[i] == "$":  # $$: a literal $
            out.append("$")
            i += 1
            continue
        if i < n and text[i] == "{":
            close = _closing_brace(text, i + 1)
            value = _braced(text[i + 1 : close], environ)
            i = close + 1
        else:
            name = _NAME.match(text, i)
            if name is None:  # "$" before anything else stays itself, as in Compose's lenient reading
                out.append("$")
                continue
            value = _lookup(name.group(), environ)
            i = name.end()
        if encode:
            value = quote(value, safe="")
        if in_password and value:
            passwords.append(value)
        out.append(value)
    return Expanded("".join(out), tuple(passwords))


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InterpolationError("a '${' has no closing '}'; write $$ for a literal $")


def _braced(inner: str, environ: Mapping[str, str]) -> str:
    """The value of ``${inner}``."""
    name = _NAME.match(inner)
    if name is None:
        raise InterpolationError(f"'${{{inner[:40]}}}' does not start with a variable name; write $$ for a literal $")
    rest = inner[name.end() :]
    if not rest:
        return _lookup(name.group(), environ)
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise InterpolationError(f"'${{{inner[:40]}}}': after the name comes '}}', ':-', '-', ':?', '?', ':+' or '+'")
    word = rest[len(operator) :]
    var = name.group()
    set_at_all = var in environ
    filled = bool(environ.get(var, ""))
    present = filled if operator.startswith(":") else set_at_all
    if operator.endswith("-"):
        return environ[var] if present else expand(word, environ).text
    if operator.endswith("+"):
        return expand(word, environ).text if present else ""
    # ? and :? : an error with the given message when not there
    if present:
        return environ[var]
    raise UnsetVariable(var, f"${{{var}}} is not set{': ' + word if word else ''}")


def _lookup(var: str, environ: Mapping[str, str]) -> str:
    if var not in environ:
        raise UnsetVariable(var, f"${{{var}}} is not set; set it, or give a default: ${{{var}:-value}}")
    return environ[var]
