"""Human durations (``250ms``, ``5s``, ``2m``, ``1h``, bare seconds) as float seconds.

Settings come from environment variables, where a unit is clearer than a bare number; bare numbers
are accepted because that is what most other tools take.
"""

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# ASCII digits only, as for every number (\d and float() take Arabic-Indic ones too)
_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(ms|s|m|h)?\s*$", re.ASCII)

ACCEPTED = "a positive duration such as 250ms, 5s, 2m, 1h or bare seconds"
ACCEPTED_OR_ZERO = "a duration such as 0s, 250ms, 5s, 2m, 1h or bare seconds"


def _seconds(value: object) -> float | None:
    """Seconds for any accepted spelling (zero and negative numbers included), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _PATTERN.match(value)) is not None:
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        return None
    return seconds if math.isfinite(seconds) else None


def parse_duration(value: object) -> float:
    """Return seconds; raise ``ValueError`` with the accepted forms for anything else."""
    seconds = _seconds(value)
    if seconds is None or seconds <= 0:
        raise ValueError(ACCEPTED)
    return seconds


def parse_duration_or_zero(value: object) -> float:
    """Like ``parse_duration`` but 0 is allowed (for delays that default to none)."""
    seconds = _seconds(value)
    if seconds is None or seconds < 0:
        raise ValueError(ACCEPTED_OR_ZERO)
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling, so ``config`` output can be pasted back as input."""
    seconds = float(seconds)
    if seconds == 0:
        return "0s"
    if seconds < 1 and round(seconds * 1000, 6).is_integer():
        return f"{round(seconds * 1000)}ms"
    for unit, size in (("h", 3600.0), ("m", 60.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    if seconds.is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:g}s"
