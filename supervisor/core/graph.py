"""The start-up order: which check waits for which, resolved and checked once, at configuration.

A gate or a pre-start task may name what it waits for (``AFTER``). Without it a gate starts at
once, and a pre-start task waits for every critical gate and for the task before it, which is the
serial order of the entrypoint scripts we replace. The app starts when every critical gate and
every task has passed. Names are the configuration's (``db``, ``migrate``); the result is in check
names (``db``, ``prestart-migrate``), the names /readyz shows. Pure: no I/O, no state.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from supervisor.core.checks import TASK_PREFIX, task_check_name


class GraphError(ValueError):
    """A name that is not a check, or a cycle; ``node`` is the configuration name it concerns."""

    def __init__(self, node: str, message: str) -> None:
        super().__init__(message)
        self.node = node


@dataclass(frozen=True)
class Node:
    name: str  # the configuration's name: a gate's or a task's
    is_task: bool
    after: tuple[str, ...] | None  # as written (None: not given, the default applies)
    critical: bool = True
    skipped: bool = False  # a gate skipped by ONLY_IF_SET: nothing to wait for

    @property
    def check_name(self) -> str:
        return task_check_name(self.name) if self.is_task else self.name


def _lookup(word: str, gates: set[str], tasks: set[str], owner: str) -> str:
    name = word.strip().lower()
    if name.startswith(TASK_PREFIX) and name[len(TASK_PREFIX) :] in tasks:
        return task_check_name(name[len(TASK_PREFIX) :])
    if name in gates and name in tasks:
        raise GraphError(
            owner, f"{word!r} names both a gate and a pre-start task; write {TASK_PREFIX}{name} for the task"
        )
    if name in gates:
        return name
    if name in tasks:
        return task_check_name(name)
    known = ", ".join(sorted(gates | tasks)) or "none"
    raise GraphError(owner, f"no gate or pre-start task is named {word!r}; known names: {known}")


def resolve(nodes: Sequence[Node]) -> dict[str, tuple[str, ...]]:
    """Check name -> the check names it waits for, or ``GraphError`` for an unknown name or a cycle.

    ``nodes`` lists gates (any order) and tasks in their run order (name order).
    """
    gates = {n.name for n in nodes if not n.is_task}
    tasks = {n.name for n in nodes if n.is_task}
    default_for_tasks = tuple(sorted(n.name for n in nodes if not n.is_task and n.critical and not n.skipped))
    result: dict[str, tuple[str, ...]] = {}
    previous_task: str | None = None
    for node in nodes:
        if node.after is not None:
            waits = tuple(dict.fromkeys(_lookup(w, gates, tasks, node.name) for w in node.after if w.strip()))
        elif node.is_task:
            waits = default_for_tasks + ((task_check_name(previous_task),) if previous_task else ())
        else:
            waits = ()
        if node.is_task:
            previous_task = node.name
        result[node.check_name] = waits
    cycle = find_cycle(result)
    if cycle:
        owner = next(n.name for n in nodes if n.check_name == cycle[0])
        raise GraphError(owner, "the start-up order has a cycle: " + " -> ".join(cycle))
    return result


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """A cycle as a path that ends where it starts (``a -> b -> a``), or an empty list.

    A depth-first search with its own stack, not Python's: a chain of a thousand ``AFTER``s
    would otherwise exceed the recursion limit.
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    for root in edges:
        if colour[root] != white:
            continue
        colour[root] = grey
        path = [root]
        stack = [iter(edges.get(root, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                colour[path.pop()] = black
                stack.pop()
                continue
            if colour.get(nxt, black) == grey:
                return [*path[path.index(nxt) :], nxt]
            if colour.get(nxt) == white:
                colour[nxt] = grey
                path.append(nxt)
                stack.append(iter(edges.get(nxt, ())))
    return []
