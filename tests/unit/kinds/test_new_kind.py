"""Adding a kind is one module and one registry line: this module is the whole of ``echo:``.

``ECHO`` names this module as its driver; registered, its URLs parse through ``gatespec`` like
any other kind's, and the engine imports this module and runs its ``check``."""

from collections.abc import Iterator, Mapping

import anyio
import pytest

from supervisor.config.gatespec import GateSpec, GateUrlError, build_gate
from supervisor.config.settings import ConfigError, load_config
from supervisor.core.backoff import Backoff
from supervisor.core.checks import Status
from supervisor.core.reasons import ReasonClass
from supervisor.kinds import registry
from supervisor.kinds.base import GateFailure, Kind
from supervisor.kinds.urls import UrlError, UrlParts
from supervisor.runtime.engine import GateEngine, load_driver
from supervisor.runtime.state import StateStore

pytestmark = pytest.mark.anyio


def parse_echo(url: str, _ports: Mapping[str, int]) -> UrlParts:
    word = url.partition(":")[2]
    if word not in ("pass", "fail"):
        raise UrlError("echo: takes pass or fail")
    return UrlParts(url, target=word)


async def check(spec: GateSpec) -> str | None:
    if spec.path == "pass":
        return "echoed"
    raise GateFailure("echo says no", ReasonClass.REJECTED)


ECHO = Kind("echo", ("echo",), "echo:pass|fail", __name__, parse_echo)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def echo_kind() -> Iterator[Kind]:
    registry.register(ECHO)  # the one registry line
    yield ECHO
    registry.unregister(ECHO.name)


def gate(url: str) -> GateSpec:
    return build_gate("echo-gate", url, timeout=1.0, critical=True, startup_only=None, failure_threshold=1)


@pytest.mark.usefixtures("echo_kind")
@pytest.mark.parametrize(("url", "status", "error"), [("echo:pass", Status.PASS, None),
                                                     ("echo:fail", Status.FAIL, "echo says no")])  # fmt: skip
async def test_a_kind_defined_in_a_test_parses_and_runs_through_the_engine(
    url: str, status: Status, error: str | None
) -> None:
    spec = gate(url)
    assert spec.kind == "echo" and spec.path == url.partition(":")[2] and spec.display == url
    store = StateStore.of_gates([spec])
    engine = GateEngine(store, Backoff(0.01, 0.02), 0.05, wall_clock=lambda: 1000.0)
    with anyio.fail_after(5):
        passed = await engine.attempt(spec, await load_driver(spec.kind))
    state = store.get("echo-gate")
    assert passed is (status is Status.PASS) and state.status is status
    assert state.last_error == error and state.detail == (None if error else "echoed")
    assert state.reason_class is (None if error is None else ReasonClass.REJECTED)


@pytest.mark.usefixtures("echo_kind")
def test_its_reader_rejects_what_it_does_not_take_and_the_hint_names_it() -> None:
    with pytest.raises(GateUrlError, match="echo: takes pass or fail"):
        gate("echo:maybe")
    assert "echo:pass|fail" in registry.ACCEPTED_URLS


def test_unregistered_it_is_an_unknown_scheme() -> None:
    with pytest.raises(GateUrlError, match="unknown gate URL scheme") as exc:
        gate("echo:pass")
    assert "echo:pass|fail" not in str(exc.value)


def parse_run(url: str, _ports: Mapping[str, int]) -> UrlParts:
    argv = tuple(url.partition(":")[2].split())
    return UrlParts(url, argv=argv, hosts=("db.internal",), ports=(3306,))


RUN = Kind("run", ("run",), "run:COMMAND", __name__, parse_run, runs_command=True)
KNOCK = Kind("knock", ("knock",), "knock://HOST", __name__, parse_run, tcp_level_only=True)


@pytest.fixture
def command_kinds() -> Iterator[None]:
    registry.register(RUN)
    registry.register(KNOCK)
    yield
    registry.unregister(RUN.name)
    registry.unregister(KNOCK.name)


@pytest.mark.usefixtures("command_kinds")
def test_what_configuration_does_for_a_kind_follows_its_attributes_not_its_name() -> None:
    """A kind that runs a command has its program looked up on PATH and is shown word by word
    (masked each on its own); one checked at TCP level only earns the warning: neither is
    ``cmd`` or ``tcp-level`` by name."""
    env = {"SUPERVISOR_GATE_MIGRATED": "run:no-such-program-here --check", "SUPERVISOR_GATE_DB": "knock://db"}
    with pytest.raises(ConfigError) as exc:
        load_config(environ=env, check_programs=True)
    assert exc.value.problems == [
        "SUPERVISOR_GATE_MIGRATED (run:): 'no-such-program-here' is not found on PATH; install it or give its full path"
    ]
    config = load_config(environ={**env, "SUPERVISOR_GATE_MIGRATED": "run:true --check"}, check_programs=True)
    assert {g.name: g.display for g in config.gates}["migrated"] == "run:true --check"
    assert any(
        w.startswith("gate db: knock:// has no driver here and is checked at TCP level only") for w in config.warnings
    )
    assert not any("migrated" in w for w in config.warnings)
