"""``status --chain``: the chain as a tree, and the chart a terminal gets."""

from typing import Any

import pytest

from supervisor.commands.client import CHART_WIDTH, _not_a_report, render_chain


def link(name: str, role: str, started: float, passed: float, waited: str | None, attempts: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "role": role,
        "startedAfter": started,
        "passedAfter": passed,
        "attempts": attempts,
        "waitedFor": waited,
    }


DOC = {
    "timeline": {"readyAfter": 2.0},
    "chain": [
        link("db", "gate", 0.0, 1.0, None, 5),
        link("app", "app", 1.0, 1.0, "db", 0),
        link("app-probe", "app-probe", 1.0, 2.0, "app", 2),
    ],
}


def test_the_tree_starts_at_the_end_and_each_line_is_what_the_one_above_waited_for() -> None:
    lines = render_chain(DOC, chart=False).splitlines()
    assert lines == [
        "ready after 2.000 s; the chain that set it (@ started, + took to pass):",
        "app-probe @1.000s +1.000s, 2 attempt(s) to pass",
        "└─app @1.000s spawned",
        "  └─db @0.000s +1.000s, 5 attempt(s) to pass",
    ]


def test_the_chart_puts_every_bar_on_one_time_axis() -> None:
    chart = render_chain(DOC, chart=True).splitlines()[5:]
    bars = {line.split(" [")[0].strip(): line.split("[", 1)[1].rstrip("]") for line in chart[:3]}
    assert all(len(bar) == CHART_WIDTH for bar in bars.values())
    assert bars["db"] == "#" * (CHART_WIDTH // 2) + " " * (CHART_WIDTH // 2)
    assert bars["app"].index("|") == CHART_WIDTH // 2
    assert bars["app-probe"] == " " * (CHART_WIDTH // 2) + "#" * (CHART_WIDTH // 2)
    assert chart[3].strip().startswith("0 s") and chart[3].endswith("2.000 s")


def test_no_chain_before_the_app_is_spawned() -> None:
    assert render_chain({"chain": [], "timeline": {}}, chart=True).startswith("no critical chain yet")


def test_the_spawn_as_the_last_link_stays_inside_the_chart_and_a_narrow_terminal_narrows_it() -> None:
    doc = {"timeline": {}, "chain": [link("a", "gate", 0.0, 0.2, None), link("app", "app", 0.2, 0.2, "a", 0)]}
    chart = render_chain(doc, chart=True, columns=30).splitlines()
    assert chart[0].startswith("not ready yet; the chain so far")
    bars = [line for line in chart if line.endswith("]")]
    assert len({len(line) for line in bars}) == 1 and all(len(line) <= 30 for line in bars), bars
    assert bars[1].rstrip("]").endswith("|")


def test_names_from_the_wire_cannot_reach_the_terminal_raw() -> None:
    doc = {"timeline": {}, "chain": [link("x\x1b[2J\nFAKE", "app", 0.1, 0.1, None, 0)]}
    out = render_chain(doc, chart=True)
    assert "\x1b" not in out and "\nFAKE" not in out and "x?[2J?FAKE" in out


def test_restarts_are_said_to_be_outside_the_chain() -> None:
    out = render_chain({**DOC, "child": {"restarts": 2}}, chart=False)
    assert "restarted 2 time(s): the chain is of the first start-up" in out


@pytest.mark.parametrize(
    "chain",
    [
        "abc",
        ["a"],
        [{"name": "x"}],
        [{**link("x", "gate", 0.0, 0.1, None), "startedAfter": "0.1"}],
        [{**link("x", "gate", 0.0, 0.1, None), "name": 5}],
        [{**link("x", "gate", 0.0, 0.1, None), "passedAfter": float("inf")}],
        [{**link("x", "gate", 0.0, 0.1, None), "startedAfter": float("nan")}],
        [{**link("x", "gate", 0.0, 0.1, None), "startedAfter": True}],
        [{**link("x", "gate", 0.0, 0.1, None), "attempts": "many"}],
        [link("x", "gate", -5.0, 0.1, None)],
        [link("x", "gate", 0.5, 0.1, None)],
        [{**link("x", "gate", 0.0, 0.1, None), "waitedFor": 3}],
    ],
)
def test_a_chain_no_supervisor_would_send_is_not_a_report(chain: object) -> None:
    problem = _not_a_report(200, {"status": "pass", "checks": {}, "chain": chain})
    assert problem is not None and "chain" in problem
