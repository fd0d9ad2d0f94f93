import random

import pytest

from supervisor.core.backoff import Backoff


def test_ceiling_doubles_until_the_maximum() -> None:
    b = Backoff(0.1, 2.0)
    assert [b.ceiling(n) for n in range(7)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])


def test_huge_retry_counts_do_not_overflow() -> None:
    assert Backoff(0.1, 2.0).ceiling(10_000) == 2.0


def test_delays_stay_between_initial_and_ceiling() -> None:
    b = Backoff(0.1, 2.0)
    rng = random.Random(1)
    for retry in range(12):
        for _ in range(200):
            d = b.delay(retry, rng)
            assert 0.1 <= d <= b.ceiling(retry)


def test_delays_are_jittered_not_constant() -> None:
    b = Backoff(0.1, 2.0)
    rng = random.Random(2)
    samples = {round(b.delay(5, rng), 6) for _ in range(50)}
    assert len(samples) > 40
    # full jitter spreads over the whole range, not a narrow band around the ceiling
    assert min(samples) < 0.6 and max(samples) > 1.5


def test_degraded_mode_draws_up_to_the_maximum_at_once() -> None:
    b = Backoff(0.1, 2.0)
    rng = random.Random(3)
    samples = [b.delay(0, rng, at_maximum=True) for _ in range(200)]
    assert all(0.1 <= s <= 2.0 for s in samples)
    assert max(samples) > 1.5


def test_first_retry_waits_exactly_initial() -> None:
    assert Backoff(0.25, 4.0).delay(0, random.Random(0)) == 0.25


def test_negative_retry_is_a_bug() -> None:
    with pytest.raises(ValueError):
        Backoff(0.1, 1).ceiling(-1)
