"""Masking on the real thing: a password that is one of the supervisor's own words (``failed``,
``exit``, ``refused``, ``timed``, ``status``, ``gate``, ``cannot``) never shows where it stands as
a secret, and never masks our words either (where ``***`` landed would tell the password), in
``check``, ``check --json``, every ``/readyz`` form and the logs, text and JSON. Outside text is
masked whole before it is cut (a command gate's output too, short passwords as tokens); a port is
ASCII digits only."""

import json
import logging
import shlex
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from supervisor import logs
from supervisor.commands import client
from supervisor.commands import wait as waitcmd
from supervisor.core.checks import CheckState
from supervisor.core.redaction import register, secrets
from supervisor.kinds import postgres
from supervisor.kinds.base import one_line
from supervisor.kinds.command import TAIL_BYTES
from tests.helpers import cli, free_port, wait_until
from tests.integration.supervised import Launcher, Supervised

pytestmark = pytest.mark.integration

OUR_WORDS = ("failed", "exit", "refused", "timed", "status", "gate", "cannot")


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    secrets.clear()  # the in-process tests register secrets of their own
    yield
    secrets.clear()


def _environment(password: str, silent: int) -> dict[str, str]:
    """Five gates that fail, each with ``password`` as its secret: refused (PostgreSQL, Redis,
    TCP), an exit status (``cmd:``) and a timeout (HTTP against a listener that never answers)."""
    closed = free_port()  # nothing listens there
    return {
        "SUPERVISOR_GATE_DB": f"postgresql://app:{password}@127.0.0.1:{closed}/app",
        "SUPERVISOR_GATE_CACHE": f"redis://:{password}@127.0.0.1:{closed}/0",
        "SUPERVISOR_GATE_PORT": f"tcp://app:{password}@127.0.0.1:{closed}",
        "SUPERVISOR_GATE_JOB": f"cmd:sh -c 'exit 3' x --password={password}",
        "SUPERVISOR_GATE_SLOW": f"http://app:{password}@127.0.0.1:{silent}/health",
        "SUPERVISOR_GATE_SLOW__TIMEOUT": "300ms",
        "SUPERVISOR_STARTUP_TIMEOUT": "2s",  # `check` ends then: every gate has failed by then
        "SUPERVISOR_LOG_LEVEL": "debug",
    }


def _no_secret(text: str, password: str) -> None:
    """The password nowhere where it stands as a secret."""
    for secret in (f":{password}@", f"--password={password}", f"password={password}"):
        assert secret not in text, f"{secret!r} shown in:\n{text}"


# our words in each gate's reason, as the drivers and the engine write them
REASONS = {
    "db": "refused: cannot connect: ",
    "cache": "refused: PING failed: ",
    "port": "refused: cannot connect to 127.0.0.1:",
    "job": "exit-status: exit status 3",
    "slow": "timeout: timed out after 300ms",
}


def _check_reasons(outputs: dict[str, str]) -> None:
    for name, words in REASONS.items():
        assert outputs[name].startswith(words), f"{name}: {outputs[name]!r} lost our words {words!r}"
    assert outputs["job"] == REASONS["job"]
    assert outputs["port"].endswith(": Connection refused")  # the system's words, not masked either
    assert outputs["slow"] == REASONS["slow"]


def _outputs(doc: dict[str, Any]) -> dict[str, str]:
    return {name: entries[0]["output"] for name, entries in doc["checks"].items()}


# "gate" is no word of `check`'s output (the logs have it: below)
@pytest.mark.parametrize("password", [w for w in OUR_WORDS if w != "gate"])
def test_check_keeps_our_words_and_masks_the_password(password: str, silent_port: int) -> None:
    env = _environment(password, silent_port)
    text = cli("check", env=env)
    assert text.returncode == 1, text.stderr
    _no_secret(text.stdout + text.stderr, password)
    lines = {line.split()[1]: line for line in text.stdout.splitlines() if line.startswith("[")}
    for name, words in REASONS.items():
        assert words in lines[name], f"{name}: our words {words!r} not in {lines[name]!r}"
    assert lines["job"].endswith("exit-status: exit status 3")
    assert lines["port"].endswith(": Connection refused")
    assert "check failed" in text.stdout

    as_json = cli("check", "--json", env=env)
    assert as_json.returncode == 1, as_json.stderr
    _no_secret(as_json.stdout + as_json.stderr, password)
    doc = json.loads(as_json.stdout)
    _check_reasons(_outputs(doc))
    classes = {name: entries[0]["reasonClass"] for name, entries in doc["checks"].items()}
    assert classes == {"db": "refused", "cache": "refused", "port": "refused", "job": "exit-status", "slow": "timeout"}


def _degraded(s: Supervised) -> dict[str, Any]:
    def failing() -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(s.get("/readyz?format=json").text)
        outputs = {name: entries[0].get("output") or "" for name, entries in doc["checks"].items()}
        done = doc.get("phase") == "degraded" and not any(o.startswith("pending") for o in outputs.values())
        log = s.output()
        done = done and "degraded: not ready because" in log and all(f"gate {n} failing: " in log for n in REASONS)
        return doc if done else {}

    try:
        return wait_until(failing, 40, "degraded, every gate failing")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nlog:\n{s.output()}") from None


@pytest.mark.parametrize("password", OUR_WORDS)
def test_readyz_and_logs_keep_our_words_and_mask_the_password(
    password: str, silent_port: int, supervise: Launcher
) -> None:
    env = _environment(password, silent_port)
    text_run = supervise.run("sleep", "30", env={**env, "SUPERVISOR_LOG_FORMAT": "text"})
    json_run = supervise.run("sleep", "30", env={**env, "SUPERVISOR_LOG_FORMAT": "json"})
    for s in (text_run, json_run):
        s.wait_listening(30)  # a loaded machine may take a while to start two
        doc = _degraded(s)
        _check_reasons(_outputs(doc))
        raw = s.get("/readyz?format=json").text
        _no_secret(raw, password)
        verbose = s.get("/readyz?verbose").text
        _no_secret(verbose, password)
        for name in REASONS:
            assert f"[-]{name} failed: {REASONS[name]}" in verbose, verbose

    log = text_run.output()
    _no_secret(log, password)
    for name, words in REASONS.items():
        assert f"gate {name} failing: {words}" in log, log
        assert f"gate {name} attempt 1: {words}" in log, log
    assert "degraded: not ready because " in log
    assert "phase gating -> degraded" in log

    entries = [json.loads(line) for line in json_run.output().splitlines() if line.startswith("{")]
    _no_secret(json_run.output(), password)
    failing = {e["gate"]: e for e in entries if " failing: " in e["message"]}
    for name, words in REASONS.items():
        assert failing[name]["message"].startswith(f"gate {name} failing: {words}"), failing[name]
    assert {failing[n]["reason_class"] for n in ("db", "cache", "port")} == {"refused"}
    assert failing["job"]["reason_class"] == "exit-status"
    assert failing["slow"]["reason_class"] == "timeout"
    assert any(e["message"].startswith("degraded: not ready because ") for e in entries)
    assert any(e.get("phase") == "degraded" for e in entries)


def test_wait_and_configuration_errors_keep_our_words() -> None:
    """``wait``'s targets and the problem lines of a configuration mask the values from outside on
    their own: a password ``cmd`` or ``must`` leaves ``cmd:`` and ``must be a number`` readable."""
    done = cli("wait", "--timeout", "1s", "cmd:sh -c 'exit 3' x --password=cmd")
    assert done.returncode == 124, done.stderr
    assert "not ready: cmd:sh -c 'exit 3' x --password=***: exit-status: exit status 3" in done.stdout + done.stderr

    bad = cli("wait", "--timeout", "1s", "postgresql://app:must@db:notaport/app", "redis://:must@h:1/0")
    assert bad.returncode == 78
    assert bad.stderr.splitlines()[0] == (
        "supervisor: target 1 (postgresql://app:***@db:notaport/app): the port must be a number from 1 to 65535"
    )
    loose = cli("wait", "--timeout", "1s", "tcp://127.0.0.1:1", "must", "postgresql://u:must@h/db")
    assert loose.returncode == 78
    assert loose.stderr.splitlines()[0] == (
        "supervisor: target 2 (***) is not a URL: put the command after --: "
        "supervisor wait [options] TARGET... -- *** postgresql://u:***@h/db"
    )
    config = cli("check", env={"SUPERVISOR_GATE_DB": "postgresql://app:must@db:notaport/app"})
    assert config.returncode == 78
    assert config.stderr.splitlines()[0] == (
        "supervisor: SUPERVISOR_GATE_DB=postgresql://app:***@db:notaport/app: the port must be a number from 1 to 65535"
    )


# -- masked whole, then cut ----------------------------------------------------------------------

LONG_SECRET = "Zq9Wv4Kp7Tm2Xr"
PAD = "a" * 291  # the secret begins at character 292 of the message: one_line cuts at 299


def _error_replying_redis() -> tuple[int, threading.Event]:
    """A server that answers every command with one long error line whose text holds the secret
    across the 300th character."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()
    reply = f"-ERR {PAD} {LONG_SECRET} is not a password we know\r\n".encode()

    def serve() -> None:
        with srv:
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.settimeout(2)
                    try:
                        if conn.recv(65536):
                            conn.sendall(reply)
                    except OSError:
                        pass  # that client is gone

    threading.Thread(target=serve, daemon=True).start()
    return int(srv.getsockname()[1]), stop


def test_a_long_driver_error_is_masked_before_it_is_cut() -> None:
    port, stop = _error_replying_redis()
    try:
        env = {
            "SUPERVISOR_GATE_CACHE": f"redis://:{LONG_SECRET}@127.0.0.1:{port}/0",
            "SUPERVISOR_STARTUP_TIMEOUT": "2s",
        }
        done = cli("check", "--json", env=env)
    finally:
        stop.set()
    assert done.returncode == 1, done.stderr
    output = json.loads(done.stdout)["checks"]["cache"][0]["output"]
    assert output.endswith(f"PING failed: {PAD} *** is …"), output  # masked, then cut at 300
    assert "***" in output, output
    for piece in (LONG_SECRET[:4], LONG_SECRET[-4:]):
        assert piece not in done.stdout + done.stderr


def test_one_line_masks_the_whole_message_before_its_cut() -> None:
    register([LONG_SECRET])
    line = one_line(ValueError(f"{PAD} {LONG_SECRET} is long"))  # the cut at 299 falls in the secret
    assert line == (f"{PAD} *** is long")[:299] + "…"
    assert LONG_SECRET[:2] not in line
    whole = one_line(ValueError(f"{'c' * 296} {LONG_SECRET}"))  # 300 characters once masked: no cut
    assert whole == f"{'c' * 296} ***"
    # whitespace collapsed only after the mask: a secret with two spaces in it is still found
    register(["two  spaced"])
    assert "spaced" not in one_line(ValueError("login two  spaced refused"))


def test_one_line_never_masks_the_systems_errno_text() -> None:
    register(["refused"])
    assert one_line(ConnectionRefusedError(111, "Connection refused")) == "Connection refused"
    assert one_line(ValueError("the server said refused")) == "the server said ***"


# -- the log filter: arguments masked, our template not -----------------------------------------


def _filtered(msg: object, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("supervisor", logging.INFO, __file__, 1, msg, args or None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    assert logs.RedactingFilter().filter(record)
    assert record.args is None
    return record


def test_the_log_filter_masks_arguments_and_never_the_template() -> None:
    register(["failed", "exit"])
    record = _filtered("gate %s failed after %d attempt(s): %s (%r)", "db", 3, "exit 3", "x exit")
    assert record.msg == "gate db failed after 3 attempt(s): *** 3 ('x ***')"
    assert _filtered("took %.1f s, exit %s", 2.25, OSError("exit failed")).msg == "took 2.2 s, exit *** ***"
    assert _filtered("%(what)s failed", {"what": "exit"}).msg == "*** failed"
    shown = logs.Shown("exit-status: exit status 3")
    assert _filtered("gate %s failing: %s", "job", shown).msg == "gate job failing: exit-status: exit status 3"
    # no arguments: a line composed elsewhere, masked whole
    assert _filtered("the command failed: exit").msg == "the command ***: ***"
    extras = _filtered("x %s", "y", gate="exit", reason_class=logs.Shown("exit-status"))
    assert vars(extras)["gate"] == "***" and vars(extras)["reason_class"] == "exit-status"


# -- ports: ASCII digits only ---------------------------------------------------------------------

ARABIC_8081 = "\u0668\u0660\u0668\u0661"  # ٨٠٨١


def test_probe_and_status_refuse_a_port_in_other_digits() -> None:
    for command in ("probe", "status"):
        done = cli(command, "--port", ARABIC_8081)
        assert done.returncode == 78, (command, done.stdout, done.stderr)
        assert done.stderr.strip().splitlines() == [
            f"supervisor: --port={ARABIC_8081}: expected a port number from 1 to 65535"
        ]
    from_env = cli("probe", env={"SUPERVISOR_HEALTH_PORT": ARABIC_8081})
    assert from_env.returncode == 78
    assert f"SUPERVISOR_HEALTH_PORT={ARABIC_8081}: expected a port number" in from_env.stderr
    with pytest.raises(client.UsageError):
        client.address("127.0.0.1", ARABIC_8081)
    assert client.address("127.0.0.1", " 8081 ") == ("127.0.0.1", 8081)


def test_wait_positions_take_ascii_digits_only() -> None:
    assert waitcmd._position(CheckState(name="target12", kind="tcp", target="t")) == 12
    assert waitcmd._position(CheckState(name="target\u0663", kind="tcp", target="t")) == 0


def test_the_postgres_probe_takes_a_port_of_ascii_digits_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """libpq's port in other digits is no port: the probe of where libpq tried falls back to 5432."""
    ports: list[int] = []

    class _Closed:  # a stand-in for the stream: only closed
        async def aclose(self) -> None:
            return None

    async def connect(host: str, port: int) -> _Closed:  # noqa: ARG001 (anyio.connect_tcp's signature)
        ports.append(port)
        return _Closed()

    monkeypatch.setattr(anyio, "connect_tcp", connect)
    anyio.run(postgres._connect_where_libpq_tried, "db", "", "\u0665\u0664\u0663\u0663")  # ٥٤٣٣
    anyio.run(postgres._connect_where_libpq_tried, "db", "", "5433")
    assert ports == [5432, 5433]


@pytest.mark.parametrize("order", ["the secret's gate first", "the secret's gate last"])
def test_a_problem_line_never_shows_a_password_of_another_setting(order: str) -> None:
    """A value of one gate that holds another gate's password: every secret is registered before
    any problem line is composed, whichever gate is read first."""
    holder = "A" if order.endswith("first") else "ZZ"
    env = {
        "SUPERVISOR_GATE_M": "tcp://127.0.0.1:1",
        "SUPERVISOR_GATE_M__TIMEOUT": "hunter2secret",  # not a duration: quoted in the problem line
        f"SUPERVISOR_GATE_{holder}": "postgresql://app:hunter2secret@127.0.0.1:1/db",
    }
    r = cli("config", env=env)
    assert r.returncode == 78
    assert "SUPERVISOR_GATE_M__TIMEOUT=***: expected" in r.stderr
    assert "hunter2secret" not in r.stderr + r.stdout


@pytest.mark.parametrize(
    "word",
    [
        "http://user:hunter2secret@127.0.0.1/api?email=a@b.c",  # a later '@' in the same word
        "redis://:hunter2secret@h1,redis://:other2secret@h2",  # a list of URLs in one word
    ],
)
def test_a_password_followed_by_another_at_sign_is_masked_in_a_commands_output(word: str) -> None:
    """The command echoes the password as its URL parser reads it: up to the first '@'."""
    echo = "import sys; from urllib.parse import urlsplit; "
    echo += "[print('password is', urlsplit(u).password) for u in sys.argv[1].split(',')]; sys.exit(1)"
    command = shlex.join(["python3", "-c", echo, word])
    r = cli("check", env={"SUPERVISOR_GATE_X": f"cmd:{command}", "SUPERVISOR_STARTUP_TIMEOUT": "1s"})
    assert r.returncode == 1
    assert "password is ***" in r.stdout
    assert "hunter2secret" not in r.stdout + r.stderr and "other2secret" not in r.stdout + r.stderr


# -- a command gate's output: cut after masking, short passwords as tokens ------------------------

PW = "Zq9Zq9Zq9Zq9Zq9Zq9"


def _cmd_gate(program: str, password: str) -> dict[str, str]:
    return {
        "SUPERVISOR_GATE_OUT": f"cmd:{sys.executable} -c {program!r} redis://:{password}@h/0",
        "SUPERVISOR_STARTUP_TIMEOUT": "2s",
    }


@pytest.mark.parametrize(
    "program",
    [
        # the line is cut at 200 characters inside the password
        "import sys; print('x' * 190 + ' ' + sys.argv[1][9:-4]); sys.exit(3)",
        # the tail begins inside the password (one line longer than the tail)
        f"import sys; sys.stdout.write('A' * 100 + sys.argv[1][9:-4] + 'B' * {TAIL_BYTES - 9}); sys.exit(3)",
        # glued between word characters, no cut at all
        "import sys; sys.stdout.write('A' * 100 + sys.argv[1][9:-4] + 'B' * 100); sys.exit(3)",
    ],
)
def test_a_cut_in_command_output_never_shows_a_piece_of_a_password(program: str) -> None:
    out = cli("check", "--json", env=_cmd_gate(program, PW))
    assert out.returncode == 1, out.stderr
    shown = json.loads(out.stdout)["checks"]["out"][0]["output"]
    assert "exit status 3" in shown and "***" in shown
    for piece in ("Zq9", "q9Z", "9Zq"):
        assert piece not in out.stdout + out.stderr


def test_a_short_password_is_masked_as_a_token_in_a_cmd_line_and_its_output() -> None:
    program = "import sys; print('about the token ab, cab'); sys.exit(3)"
    out = cli("check", "--json", env=_cmd_gate(program, "ab"))
    check = json.loads(out.stdout)["checks"]["out"][0]
    assert check["output"].endswith("about the token ***, cab")
    assert ":***@h/0" in check["target"]
    config = cli("config", env=_cmd_gate(program, "ab"))
    assert ":***@h/0" in config.stdout and ":ab@" not in config.stdout
