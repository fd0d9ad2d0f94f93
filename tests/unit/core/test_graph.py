"""The start-up order: defaults, explicit prerequisites, unknown names and cycles."""

import pytest

from supervisor.core import graph
from supervisor.core.graph import GraphError, Node, find_cycle, resolve


def test_defaults_are_the_serial_order_of_an_entrypoint_script() -> None:
    order = resolve(
        [
            Node("db", False, None),
            Node("cache", False, None),
            Node("mail", False, None, critical=False),
            Node("opt", False, None, skipped=True),
            Node("1_migrate", True, None),
            Node("2_static", True, None),
        ]
    )
    assert order["db"] == () and order["mail"] == ()
    assert order["prestart-1_migrate"] == ("cache", "db")  # critical, not skipped gates
    assert order["prestart-2_static"] == ("cache", "db", "prestart-1_migrate")


def test_explicit_names_resolve_to_check_names_case_insensitively() -> None:
    order = resolve(
        [Node("db", False, None), Node("web", False, ("Migrate",)), Node("migrate", True, ("DB", " db ", ""))]
    )
    assert order["prestart-migrate"] == ("db",)
    assert order["web"] == ("prestart-migrate",)


def test_a_later_default_task_still_waits_for_an_explicit_one_before_it() -> None:
    order = resolve([Node("db", False, None), Node("a", True, ()), Node("b", True, None)])
    assert order["prestart-a"] == ()
    assert order["prestart-b"] == ("db", "prestart-a")


def test_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(GraphError) as err:
        resolve([Node("db", False, None), Node("m", True, ("dbb",))])
    assert err.value.node == "m"
    assert str(err.value) == "no gate or pre-start task is named 'dbb'; known names: db, m"


def test_a_name_of_both_a_gate_and_a_task_must_be_spelled_out() -> None:
    nodes = [Node("migrate", False, None), Node("migrate", True, None), Node("x", True, ("migrate",))]
    with pytest.raises(GraphError, match="names both a gate and a pre-start task; write prestart-migrate"):
        resolve(nodes)
    nodes[2] = Node("x", True, ("prestart-migrate",))
    assert resolve(nodes)["prestart-x"] == ("prestart-migrate",)


@pytest.mark.parametrize(
    ("nodes", "cycle"),
    [
        ([Node("a", False, ("a",))], "a -> a"),
        ([Node("a", False, ("b",)), Node("b", False, ("a",))], "a -> b -> a"),
        ([Node("g", False, ("prestart-t",)), Node("t", True, None)], "g -> prestart-t -> g"),
    ],
)
def test_a_cycle_is_spelled_out(nodes: list[Node], cycle: str) -> None:
    with pytest.raises(GraphError, match=f"the start-up order has a cycle: {cycle}$"):
        resolve(nodes)


def test_find_cycle_on_a_diamond_finds_none() -> None:
    assert find_cycle({"a": ("b", "c"), "b": ("d",), "c": ("d",), "d": ()}) == []


def test_a_cycle_of_thousands_of_nodes_is_found_without_recursion() -> None:
    n = 5000
    edges = {f"g{i}": [f"g{(i + 1) % n}"] for i in range(n)}
    cycle = graph.find_cycle(edges)
    assert cycle[0] == cycle[-1] and len(cycle) == n + 1
    nodes = [graph.Node(f"g{i}", False, (f"g{(i + 1) % 1500}",)) for i in range(1500)]
    with pytest.raises(graph.GraphError, match="the start-up order has a cycle"):
        graph.resolve(nodes)


def test_a_chain_without_a_cycle_has_none() -> None:
    assert graph.find_cycle({f"g{i}": [f"g{i + 1}"] for i in range(5000)}) == []
