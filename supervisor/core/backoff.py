"""Retry delays: exponential growth with full jitter, bounded by the initial and maximum delay.

Jitter matters because many replicas start at once against one database: without it their retries
arrive in lockstep. The delay for retry ``n`` (0-based) is drawn uniformly from
``[initial, min(maximum, initial * 2**n)]``, so it never falls below ``initial`` (no busy loop) and
never exceeds ``maximum``.
"""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    initial: float
    maximum: float

    def ceiling(self, retry: int) -> float:
        """Upper bound of the delay before retry ``retry`` (0-based)."""
        if retry < 0:
            raise ValueError("retry must be >= 0")
        # cap the exponent: 2**1100 overflows a float long before it matters
        return min(self.maximum, self.initial * 2.0 ** min(retry, 64))

    def delay(self, retry: int, rng: random.Random, *, at_maximum: bool = False) -> float:
        """A jittered delay; ``at_maximum`` (degraded mode) draws up to the maximum at once."""
        high = max(self.maximum, self.initial) if at_maximum else self.ceiling(retry)
        low = min(self.initial, high)
        return rng.uniform(low, high)
