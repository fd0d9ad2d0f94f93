"""Command lines split like a POSIX shell does it (``shlex.split``), in linear time.

``shlex`` grows each token one character at a time, which is quadratic: a 300 KB command took
seconds to split. The rules are shlex's in POSIX mode, without comments: whitespace separates
words; single quotes keep everything; double quotes keep everything but ``\\"`` and ``\\\\``;
outside quotes a backslash escapes the next character. A unit test checks it against shlex.
"""

import re

_WORD = re.compile(r"""(?:[^\s'"\\]+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.)+""", re.DOTALL)
_PART = re.compile(r"""[^\s'"\\]+|'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.DOTALL)
_IN_DOUBLE = re.compile(r"""\\(["\\])""")


def split(text: str) -> list[str]:
    """Like ``shlex.split(text)``; ``ValueError`` for an unclosed quote or a trailing backslash."""
    words: list[str] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return words
        match = _WORD.match(text, pos)
        if match is None or (match.end() < end and not text[match.end()].isspace()):
            trailing = len(text) - len(text.rstrip("\\"))
            raise ValueError("No escaped character" if trailing % 2 else "No closing quotation")
        parts = []
        for part in _PART.finditer(match.group(0)):
            single, double, escaped = part.groups()
            if single is not None:
                parts.append(single)
            elif double is not None:
                parts.append(_IN_DOUBLE.sub(r"\1", double))
            elif escaped is not None:
                parts.append(escaped)
            else:
                parts.append(part.group(0))
        words.append("".join(parts))
        pos = match.end()
