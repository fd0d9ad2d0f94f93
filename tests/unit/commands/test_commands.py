"""``commands/``: check, config, status/probe, wait, output and loading, run in-process.

Each command runs through ``cli.main`` (as the console script dispatches it) or its own
``main(Invocation)``, with a clean ``SUPERVISOR_*`` environment; gates point at sockets of the
test's own on loopback (one listening, one closed), so nothing depends on the network.
"""

import argparse
import contextlib
import http.server
import io
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor import cli, exitcodes
from supervisor.commands import check, loading, output, wait
from supervisor.commands import config as configcmd
from supervisor.commands import status as statuscmd
from supervisor.commands import wait as waitcmd
from supervisor.config.models import flags
from supervisor.config.settings import ConfigError
from supervisor.core.checks import CheckState, record_failure, record_success
from supervisor.core.readiness import ChildInfo, ChildStatus, Phase, Snapshot
from supervisor.core.reasons import ReasonClass
from supervisor.health.routes import respond

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ``SUPERVISOR_*`` of the machine's; ``PATH`` and the logging set-up put back afterwards
    (``check`` configures the root logger, ``cli`` may append to ``PATH``)."""
    for name in list(os.environ):
        if name.startswith("SUPERVISOR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", os.environ.get("PATH", os.defpath))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    ours = logging.getLogger("supervisor")
    our_level = ours.level
    hooks = sys.unraisablehook, threading.excepthook
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    ours.setLevel(our_level)
    logging.captureWarnings(False)
    sys.unraisablehook, threading.excepthook = hooks


@pytest.fixture
def listening() -> Iterator[int]:
    """A port on loopback where something listens (the kernel completes the handshake)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


@pytest.fixture
def closed() -> int:
    """A port on loopback where nothing listens: bound, never listened on, so never reused meanwhile."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    _keep.append(s)
    return port


_keep: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_kept() -> Iterator[None]:
    yield
    while _keep:
        _keep.pop().close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def gate(name: str = "db", **kw: object) -> CheckState:
    return CheckState(name, "tcp", f"tcp://{name}:5432", **kw)  # type: ignore[arg-type]


# --- config -----------------------------------------------------------------------------------


def test_config_shows_gates_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPERVISOR_GATE_DATABASE", "postgresql://app:hunter2secret@db:5432/app")
    monkeypatch.setenv("SUPERVISOR_GATE_DATABASE__TIMEOUT", "2s")
    monkeypatch.setenv("SUPERVISOR_COMMAND", "gunicorn app:wsgi")
    code, out, err = run(capsys, "config")
    assert code == exitcodes.OK, err
    assert "hunter2secret" not in out + err
    lines = out.splitlines()
    assert "gate database:" in lines
    assert any(line.split() == ["url", "postgresql://app:***@db:5432/app"] for line in lines)
    assert any(line.split() == ["timeout", "2s"] for line in lines)
    assert any(line.split() == ["command", "gunicorn", "app:wsgi"] for line in lines)


def test_config_json_is_the_effective_configuration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPERVISOR_GATE_MAIL", "tcp://mail:25")
    monkeypatch.setenv("SUPERVISOR_GATE_MAIL__CRITICAL", "false")
    code, out, _ = run(capsys, "config", "--json")
    assert code == exitcodes.OK
    doc = json.loads(out)
    assert doc["gates"]["mail"]["url"] == "tcp://mail:25"
    assert doc["gates"]["mail"]["kind"] == "tcp"
    assert doc["gates"]["mail"]["critical"] is False
    assert doc["command"] is None
    assert doc["prestart"] == {}


def test_config_schema_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "config", "--schema")
    assert code == exitcodes.OK
    schema = json.loads(out)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False  # a misspelt key in the file is refused
    assert {"gates", "prestart", "health_port", "startup_timeout", "command"} <= set(schema["properties"])


def test_a_bad_gate_url_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPERVISOR_GATE_DB", "cassandra://x")
    code, out, err = run(capsys, "config")
    assert code == exitcodes.CONFIG_ERROR
    assert out == ""
    assert "SUPERVISOR_GATE_DB=cassandra://x" in err
    assert err.splitlines()[-1] == "supervisor: configuration invalid; see docs/configuration.md (exit 78)"


def test_config_shows_an_unresolved_gate_and_still_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPERVISOR_GATE_DB", "env:SURELY_UNSET_DATABASE_URL")
    monkeypatch.delenv("SURELY_UNSET_DATABASE_URL", raising=False)
    code, out, err = run(capsys, "config", "--json")
    assert code == exitcodes.CONFIG_ERROR
    assert "unresolved" in json.loads(out)["gates"]["db"]  # printed, then refused
    assert "SURELY_UNSET_DATABASE_URL" in err


def test_only_run_and_wait_take_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "config", "--", "sleep", "1")
    assert (code, err) == (2, "supervisor: only `run` and `wait` take a command after --\n")


def test_output_that_cannot_be_written_is_exit_74(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = io.StringIO()
    broken.close()  # writing raises ValueError, as a closed stdout does
    monkeypatch.setattr(sys, "stdout", broken)
    code = cli.main(["config"])
    err = capsys.readouterr().err
    assert code == exitcodes.OUTPUT_ERROR
    assert err.startswith("supervisor: cannot write the output:")


# --- loading ------------------------------------------------------------------------------------


def namespace(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {name: None for name, _metavar, _help in flags("run")}
    base["config"] = None
    base["command"] = "run"
    return argparse.Namespace(**{**base, **kw})


def test_load_takes_the_flags_and_the_command() -> None:
    cfg = loading.load(output.Invocation(namespace(health_port="9123", startup_timeout="5s"), ("gunicorn", "app")))
    assert cfg.settings.health_port == 9123
    assert cfg.settings.startup_timeout == 5.0
    assert tuple(cfg.command) == ("gunicorn", "app")


def test_load_reports_a_bad_flag_by_its_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        loading.load(output.Invocation(namespace(health_port="not-a-port")))
    assert any("not-a-port" in problem for problem in caught.value.problems)


def test_load_reads_the_config_file(tmp_path: Path) -> None:
    file = tmp_path / "supervisor.toml"
    file.write_text('[gates.cache]\nurl = "redis://cache:6379"\n')
    cfg = loading.load(output.Invocation(namespace(config=str(file))))
    assert [g.name for g in cfg.gates] == ["cache"]
    assert cfg.gates[0].kind == "redis"


# --- output ---------------------------------------------------------------------------------------


class _Full(io.StringIO):
    def write(self, _s: str, /) -> int:
        raise OSError(28, "No space left on device")


def test_write_turns_a_failing_stream_into_output_error() -> None:
    with pytest.raises(output.OutputError, match="No space left on device"):
        output.write(_Full(), "x")
    stream = io.StringIO()
    output.write(stream, "written\n")
    assert stream.getvalue() == "written\n"


def test_say_drops_what_stderr_cannot_take(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", _Full())
    output.say("lost")  # no exception


def test_fail_config_prints_each_problem_and_returns_78(capsys: pytest.CaptureFixture[str]) -> None:
    assert output.fail_config(["A: bad", "B: worse"]) == exitcodes.CONFIG_ERROR
    assert capsys.readouterr().err.splitlines() == [
        "supervisor: A: bad",
        "supervisor: B: worse",
        "supervisor: configuration invalid; see docs/configuration.md (exit 78)",
    ]


def test_an_in_process_invocation_gets_its_code_back() -> None:
    assert output.Invocation(argparse.Namespace()).end(3) == 3


# --- check ------------------------------------------------------------------------------------


def test_check_passes_when_the_gate_answers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], listening: int
) -> None:
    monkeypatch.setenv("SUPERVISOR_GATE_DB", f"tcp://127.0.0.1:{listening}")
    code, out, err = run(capsys, "check", "--startup-timeout", "10s", "--log-format", "json")
    assert code == exitcodes.OK, err
    lines = out.splitlines()
    assert lines[-1] == "check passed"
    assert lines[0].startswith("[+] db")
    assert f"tcp://127.0.0.1:{listening}" in lines[0]
    assert "1 attempt(s)" in lines[0]


def test_check_fails_by_the_startup_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], closed: int
) -> None:
    monkeypatch.setenv("SUPERVISOR_GATE_DB", f"tcp://127.0.0.1:{closed}")
    code, out, _ = run(capsys, "check", "--startup-timeout", "300ms", "--json", "--log-format", "json")
    assert code == exitcodes.CHECK_FAILED
    doc = json.loads(out)
    assert doc["status"] == "fail"
    entry = doc["checks"]["db"][0]
    assert entry["status"] == "fail"
    assert entry["reasonClass"] == "refused"


def test_check_of_one_gate_leaves_the_others_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], listening: int, closed: int
) -> None:
    monkeypatch.setenv("SUPERVISOR_GATE_UP", f"tcp://127.0.0.1:{listening}")
    monkeypatch.setenv("SUPERVISOR_GATE_DOWN", f"tcp://127.0.0.1:{closed}")
    code, out, _ = run(capsys, "check", "--gate", "up", "--log-format", "json")
    assert code == exitcodes.OK
    assert "down" not in out
    assert out.splitlines()[-1] == "check passed"


def test_check_of_an_unknown_gate_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], listening: int
) -> None:
    monkeypatch.setenv("SUPERVISOR_GATE_DB", f"tcp://127.0.0.1:{listening}")
    code, _, err = run(capsys, "check", "--gate", "nope")
    assert code == exitcodes.CONFIG_ERROR
    assert "supervisor: --gate nope: no such gate; configured: db" in err.splitlines()


def test_check_without_gates_passes_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--log-format", "json")
    assert code == exitcodes.OK
    assert out == ""
    assert "supervisor: no gates configured; set SUPERVISOR_GATE_<NAME>=URL" in err


def test_check_report_text_marks_each_gate() -> None:
    db = record_success(gate("db"), now=1.0, duration=0.012, detail="connected")
    mail = record_failure(
        gate("mail", critical=False), now=1.0, duration=0.5, error="no route", reason_class=ReasonClass.UNREACHABLE
    )
    cache = record_failure(gate("cache"), now=1.0, duration=0.1, error="refused", output=("first", "second"))
    snapshot = Snapshot(Phase.GATING, (cache, db, mail))
    lines = check.report_text(snapshot).splitlines()
    assert lines[0].startswith("[-] cache") and lines[0].endswith("refused")
    assert lines[1:3] == ["      | first", "      | second"]
    assert lines[3].startswith("[+] db") and lines[3].endswith("ok (connected)")
    assert "12 ms" in lines[3]
    assert lines[4].startswith("[-] mail") and lines[4].endswith("unreachable: no route (non-critical)")
    assert lines[-1] == "check failed"
    assert check.exit_code(snapshot) == exitcodes.CHECK_FAILED
    only_noncritical = Snapshot(Phase.GATING, (db, mail))
    assert check.report_text(only_noncritical).splitlines()[-1] == "check passed"
    assert check.exit_code(only_noncritical) == exitcodes.OK
    assert json.loads(check.report_json(only_noncritical))["status"] == "pass"


# --- wait -------------------------------------------------------------------------------------


def test_wait_exits_0_once_every_target_answers(capsys: pytest.CaptureFixture[str], listening: int) -> None:
    target = f"tcp://127.0.0.1:{listening}"
    code, out, err = run(capsys, "wait", target, target, "--timeout", "10s")
    assert code == exitcodes.OK, err
    lines = out.splitlines()
    assert len(lines) == 2  # one line per target, each once
    assert all(line.startswith(f"ready: {target} (after 1 attempt(s)") for line in lines)


def test_wait_exits_124_at_the_deadline(capsys: pytest.CaptureFixture[str], listening: int, closed: int) -> None:
    up, down = f"tcp://127.0.0.1:{listening}", f"tcp://127.0.0.1:{closed}"
    code, out, err = run(capsys, "wait", up, down, "--timeout", "300ms", "--json")
    assert code == exitcodes.TIMED_OUT
    doc = json.loads(out)  # with --json, stdout is the one document
    assert doc["status"] == "fail"
    assert [e[0]["status"] for e in doc["checks"].values()] == ["pass", "fail"]
    assert f"ready: {up}" in err
    assert any(line.startswith(f"not ready: {down}: refused") for line in err.splitlines())
    assert "supervisor: wait: not every target passed within 300ms (exit 124)" in err


def test_wait_without_the_double_dash_names_the_mistake(capsys: pytest.CaptureFixture[str], listening: int) -> None:
    target = f"tcp://127.0.0.1:{listening}"
    code, out, err = run(capsys, "wait", target, "migrate", "now")  # no colon: not a URL, a command
    assert code == exitcodes.CONFIG_ERROR
    assert out == ""  # nothing was waited for
    assert "supervisor: target 2 (migrate) is not a URL: put the command after --: " in err
    assert err.splitlines()[0].endswith("-- migrate now")
    with pytest.raises(SystemExit) as caught:  # after an option, argparse's own hint
        cli.main(["wait", target, "--timeout", "1s", "migrate"])
    assert caught.value.code == 2
    assert "put the command after --: supervisor wait [options] TARGET... -- migrate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["check", "--startup-timeout", "-1s"], "--startup-timeout=-1s"),
        (["run", "--check-interval", "-2", "--", "true"], "--check-interval=-2"),
        (["wait", "tcp://127.0.0.1:1", "--timeout", "-5s"], "--timeout=-5s"),
        (["wait", "--attempt-timeout", "-1ms", "tcp://127.0.0.1:1"], "--attempt-timeout=-1ms"),
    ],
)
def test_a_value_with_a_dash_is_judged_as_a_value(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    """argparse alone takes ``-1s`` for an unknown flag ("expected one argument", exit 2): the
    value is what is wrong, and the error names the flag with it (exit 78)."""
    code, _, err = run(capsys, *argv)
    assert code == exitcodes.CONFIG_ERROR
    assert err.startswith(f"supervisor: {named}: expected"), err


def test_a_flag_after_a_flag_is_still_a_missing_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["check", "--config", "--startup-timeout=3s"])
    assert caught.value.code == 2
    assert "argument --config: expected one argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["--log-level", "debug", "run"], ["--config", "x.toml", "check"], ["--json", "status"]]
)
def test_options_before_the_command_are_named_as_such(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main([*argv, "--", "true"] if argv[-1] == "run" else argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    command = argv[-1]
    assert err == f"supervisor: options go after the command: supervisor {command} {' '.join(argv[:-1])}\n"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["cmd:no-such-program-here --flag"],
            "supervisor: target 1 (cmd:): 'no-such-program-here' is not found on PATH",
        ),
        (["cmd:true", "cmd:/no/such/file"], "supervisor: target 2 (cmd:): '/no/such/file' does not exist"),
        (["cmd:true", "--", "no-such-program-here"], "supervisor: the command after --: 'no-such-program-here' is not"),
    ],
)
def test_wait_looks_programs_up_before_waiting(capsys: pytest.CaptureFixture[str], argv: list[str], line: str) -> None:
    """As `run` and `check` do: a program that is not there is exit 78 at once, not a timeout."""
    code, out, err = run(capsys, "wait", "--timeout", "30s", *argv)
    assert code == exitcodes.CONFIG_ERROR
    assert out == ""  # nothing was waited for
    assert err.startswith(line), err


def test_wait_reports_bad_durations_and_targets(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "wait", "cassandra://x", "--timeout", "soon")
    assert code == exitcodes.CONFIG_ERROR
    assert any(line.startswith("supervisor: --timeout=soon: expected") for line in err.splitlines())
    assert any(line.startswith("supervisor: target 1 (cassandra://x):") for line in err.splitlines())


def test_wait_failures_follow_the_command_line_order() -> None:
    t10 = record_failure(CheckState("target10", "tcp", "tcp://b:1"), now=1.0, duration=0.1, error="x")
    t2 = record_failure(CheckState("target2", "tcp", "tcp://a:1"), now=1.0, duration=0.1, error="y")
    t1 = record_success(CheckState("target1", "tcp", "tcp://c:1"), now=1.0, duration=0.1)
    snapshot = Snapshot(Phase.GATING, (t10, t1, t2))
    assert wait.failures(snapshot) == ["not ready: tcp://a:1: y", "not ready: tcp://b:1: x"]


def test_become_a_missing_program_is_127(capsys: pytest.CaptureFixture[str]) -> None:
    saved = {s: signal.getsignal(s) for s in (signal.SIGPIPE, signal.SIGXFSZ)}
    try:
        assert wait.become(["/nonexistent/surely-not-a-program"]) == exitcodes.COMMAND_NOT_FOUND
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert "supervisor: cannot run '/nonexistent/surely-not-a-program':" in capsys.readouterr().err


# --- status and probe ---------------------------------------------------------------------------


@contextlib.contextmanager
def supervisor_like(snapshot: Snapshot) -> Iterator[int]:
    """An HTTP server on loopback answering as the health server would for ``snapshot``
    (``routes.respond``, the server's own pure function), on a thread; its port."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            r = respond("GET", self.path, self.headers.get("Accept", ""), lambda: snapshot, None)
            self.send_response(r.status)
            self.send_header("Content-Type", r.content_type)
            self.send_header("Content-Length", str(len(r.body)))
            self.end_headers()
            self.wfile.write(r.body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _ready_snapshot(ok: bool) -> Snapshot:
    db = record_success(gate("db"), now=1000.0, duration=0.01)
    if not ok:
        db = record_failure(db, now=1001.0, duration=0.01, error="cannot connect", reason_class=ReasonClass.REFUSED)
    return Snapshot(Phase.RUNNING, (db,), ChildInfo(ChildStatus.RUNNING, pid=42), now=1002.0)


@pytest.mark.parametrize(("ok", "expected"), [(True, exitcodes.OK), (False, exitcodes.CHECK_FAILED)])
def test_status_reads_a_running_supervisor(capsys: pytest.CaptureFixture[str], ok: bool, expected: int) -> None:
    with supervisor_like(_ready_snapshot(ok)) as port:
        code, out, _ = run(capsys, "status", "--port", str(port))
        assert code == expected
        assert out.splitlines()[0].startswith(
            f"phase: running   ready: {'yes' if ok else 'no'}   app: running (pid 42)"
        )
        assert any(line.startswith("db") for line in out.splitlines()[1:])
        if not ok:
            assert "refused: cannot connect" in out
        code, out, _ = run(capsys, "status", "--port", str(port), "--json")
        assert code == expected
        assert json.loads(out)["status"] == ("pass" if ok else "fail")


def test_probe_asks_a_running_supervisor(capsys: pytest.CaptureFixture[str]) -> None:
    with supervisor_like(_ready_snapshot(False)) as port:
        code, out, _ = run(capsys, "probe", "live", "--port", str(port))
        assert code == exitcodes.OK
        assert out.startswith(f"live: http://127.0.0.1:{port}/livez answered 200 in ")
        code, out, _ = run(capsys, "probe", "ready", "--port", str(port))
        assert code == exitcodes.CHECK_FAILED
        assert out.startswith("not ready") and "503" in out


def test_status_with_nothing_answering_is_exit_2_on_stderr(capsys: pytest.CaptureFixture[str], closed: int) -> None:
    code, out, err = run(capsys, "status", "--port", str(closed), "--timeout", "2s")
    assert code == exitcodes.NOT_ANSWERING
    assert out == ""
    assert err.startswith(f"no supervisor answers at 127.0.0.1:{closed}: ")


def test_probe_with_nothing_answering_is_exit_1(capsys: pytest.CaptureFixture[str], closed: int) -> None:
    code, out, _ = run(capsys, "probe", "--port", str(closed))
    assert code == exitcodes.CHECK_FAILED
    assert out.startswith(f"not live: http://127.0.0.1:{closed}/livez: ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "0"], "supervisor: --port=0: expected a port number from 1 to 65535"),
        (["--port", "http"], "supervisor: --port=http: expected a port number from 1 to 65535"),
        (["--timeout", "soon"], "supervisor: --timeout=soon: expected"),
        (["--timeout", "25h"], "supervisor: --timeout=25h: expected at most 24h"),
    ],
)
def test_status_and_probe_refuse_bad_options(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    for command in ("status", "probe"):
        code, out, err = run(capsys, command, *argv)
        assert code == exitcodes.CONFIG_ERROR
        assert out == ""
        assert err.startswith(message)


def test_status_port_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPERVISOR_HEALTH_PORT", "99999")
    call = output.Invocation(argparse.Namespace(command="status", host=None, port=None, timeout="1s", json=False))
    assert statuscmd.main(call) == exitcodes.CONFIG_ERROR
    assert "SUPERVISOR_HEALTH_PORT=99999: expected a port number" in capsys.readouterr().err


def test_config_show_returns_ok_for_a_runnable_config(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = loading.load(output.Invocation(namespace()))
    assert configcmd.show(cfg, as_json=False) == exitcodes.OK
    out = capsys.readouterr().out
    assert any(line.split()[:2] == ["health_port", "8081"] for line in out.splitlines())


def test_wait_report_has_one_entry_per_target_in_order() -> None:
    states = tuple(
        record_success(CheckState(f"target{i}", "tcp", "tcp://db:5432"), now=1.0, duration=0.001) for i in (1, 2, 10)
    )
    doc = json.loads(waitcmd.report_json(Snapshot(Phase.GATING, states), True))
    assert list(doc["checks"]) == ["target1", "target2", "target10"]
    assert [e[0]["target"] for e in doc["checks"].values()] == ["tcp://db:5432"] * 3
