"""The phase machine's transition table: every (phase, event) pair, and the diagram in
docs/design.md held equal to the table both ways, so that neither drifts from the other."""

import itertools
import re
from pathlib import Path

import pytest

from supervisor.core.readiness import (
    WITH_APP_PROBE,
    WITHOUT_APP_PROBE,
    Event,
    IllegalTransition,
    Phase,
    Transitions,
    advance,
)
from supervisor.runtime.state import StateStore

DESIGN = Path(__file__).resolve().parents[3] / "docs" / "design.md"
G, D, S, R, X = Phase.GATING, Phase.DEGRADED, Phase.STARTING, Phase.RUNNING, Phase.STOPPING

# Written out apart from the code on purpose: (with an app probe, without one); None is illegal.
EXPECTED: dict[tuple[Phase, Event], tuple[Phase | None, Phase | None]] = {
    (G, Event.STARTUP_TIMED_OUT): (D, D),
    (G, Event.SPAWNED): (S, R),
    (G, Event.APP_ANSWERED): (None, None),
    (G, Event.RESPAWNED): (None, None),
    (G, Event.GAVE_UP): (D, D),
    (G, Event.STOP_REQUESTED): (X, X),
    (D, Event.STARTUP_TIMED_OUT): (D, D),
    (D, Event.SPAWNED): (S, R),
    (D, Event.APP_ANSWERED): (None, None),
    (D, Event.RESPAWNED): (None, None),
    (D, Event.GAVE_UP): (D, D),
    (D, Event.STOP_REQUESTED): (X, X),
    (S, Event.STARTUP_TIMED_OUT): (None, None),
    (S, Event.SPAWNED): (None, None),
    (S, Event.APP_ANSWERED): (R, None),
    (S, Event.RESPAWNED): (S, None),
    (S, Event.GAVE_UP): (D, None),
    (S, Event.STOP_REQUESTED): (X, None),
    (R, Event.STARTUP_TIMED_OUT): (None, None),
    (R, Event.SPAWNED): (None, None),
    (R, Event.APP_ANSWERED): (None, None),
    (R, Event.RESPAWNED): (S, R),
    (R, Event.GAVE_UP): (D, D),
    (R, Event.STOP_REQUESTED): (X, X),
    (X, Event.STARTUP_TIMED_OUT): (None, None),
    (X, Event.SPAWNED): (None, None),
    (X, Event.APP_ANSWERED): (X, None),
    (X, Event.RESPAWNED): (None, None),
    (X, Event.GAVE_UP): (None, None),
    (X, Event.STOP_REQUESTED): (X, X),
}


def test_the_expectation_covers_every_pair() -> None:
    assert set(EXPECTED) == set(itertools.product(Phase, Event))


@pytest.mark.parametrize("has_app_probe", [True, False], ids=["with-probe", "without-probe"])
@pytest.mark.parametrize(("phase", "event"), list(EXPECTED), ids=[f"{p}-{e}" for p, e in EXPECTED])
def test_every_pair(phase: Phase, event: Event, has_app_probe: bool) -> None:
    expected = EXPECTED[phase, event][0 if has_app_probe else 1]
    if expected is None:
        with pytest.raises(IllegalTransition) as caught:
            advance(phase, event, has_app_probe=has_app_probe)
        assert (caught.value.phase, caught.value.event) == (phase, event)
        assert str(phase) in str(caught.value) and str(event) in str(caught.value)
    else:
        assert advance(phase, event, has_app_probe=has_app_probe) is expected


def test_starting_is_unreachable_without_an_app_probe() -> None:
    assert Phase.STARTING not in {phase for phase, _ in WITHOUT_APP_PROBE}
    assert Phase.STARTING not in WITHOUT_APP_PROBE.values()


def test_the_store_refuses_an_illegal_event_and_keeps_its_phase() -> None:
    store = StateStore([])
    version = store.version
    with pytest.raises(IllegalTransition):
        store.apply(Event.APP_ANSWERED)
    assert store.phase is Phase.GATING and store.version == version


_ARROW = re.compile(r"^\s*([a-z]+) --> ([a-z]+): ([a-z-]+)(?: \[(with|without) app probe\])?\s*$")


def _diagram() -> tuple[Transitions, Transitions]:
    text = DESIGN.read_text()
    block = re.search(r"```mermaid\nstateDiagram-v2\n(.*?)```", text, re.S)
    assert block is not None, "docs/design.md has no phase diagram"
    with_probe: Transitions = {}
    without_probe: Transitions = {}
    for line in block.group(1).splitlines():
        if not line.strip() or "[*]" in line:
            continue
        match = _ARROW.match(line)
        assert match is not None, f"not an arrow of the phase diagram: {line!r}"
        source, target, event, only = match.groups()
        pair, to = (Phase(source), Event(event)), Phase(target)
        for table, kind in ((with_probe, "with"), (without_probe, "without")):
            if only in (None, kind):
                assert pair not in table, f"{line.strip()!r} repeats an arrow"
                table[pair] = to
    return with_probe, without_probe


def test_the_design_diagram_is_the_table_both_ways() -> None:
    with_probe, without_probe = _diagram()
    assert with_probe == WITH_APP_PROBE
    assert without_probe == WITHOUT_APP_PROBE


def test_the_diagram_starts_in_gating() -> None:
    assert "    [*] --> gating\n" in DESIGN.read_text()
