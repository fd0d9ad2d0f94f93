"""Property: a generated password, over the whole printable range, in any URL kind and written
raw or percent-encoded, never appears in any output of any command.

``config`` and ``check`` run in-process (fast enough for many examples); ``run`` runs as a real
process, with fewer examples, and every /readyz form and /metrics are read while it runs.
"""

import contextlib
import io
import os
import shlex
import signal
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from supervisor import cli
from supervisor.core.reasons import ReasonClass
from supervisor.core.redaction import secrets
from tests.helpers import clean_env, free_port, wait_until
from tests.integration.supervised import Supervised

pytestmark = pytest.mark.integration

PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
passwords = st.text(alphabet=PRINTABLE, min_size=5, max_size=16)
KINDS = (
    "postgresql-userinfo",
    "postgresql-query",
    "redis-userinfo",
    "redis-query",
    "http-userinfo",
    "http-query",
    "tcp-userinfo",
    "app-probe",
    "cmd-url",
    "prestart-url",
)
CLOSED = 1  # nothing listens on port 1 of loopback: every attempt fails at once


def environment(kind: str, password: str, encode: bool) -> dict[str, str]:
    pw = quote(password, safe="") if encode else password
    host = f"127.0.0.1:{CLOSED}"
    url = {
        "postgresql-userinfo": f"postgresql://app:{pw}@{host}/db",
        "postgresql-query": f"postgresql://app@{host}/db?password={pw}",
        "redis-userinfo": f"redis://:{pw}@{host}/0",
        "redis-query": f"redis://{host}/0?password={pw}",
        "http-userinfo": f"http://app:{pw}@{host}/health",
        "http-query": f"http://{host}/health?token={pw}",
        "tcp-userinfo": f"tcp://app:{pw}@{host}",
    }.get(kind)
    env = {"SUPERVISOR_STARTUP_TIMEOUT": "200ms", "SUPERVISOR_LOG_LEVEL": "debug", "SUPERVISOR_LOG_FORMAT": "json"}
    if url is not None:
        env["SUPERVISOR_GATE_DEP"] = url
    elif kind == "app-probe":
        env["SUPERVISOR_APP_PROBE"] = f"http://app:{pw}@{host}/"
        env["SUPERVISOR_GATE_DEP"] = f"tcp://{host}"
    elif kind == "cmd-url":
        env["SUPERVISOR_GATE_DEP"] = "cmd:false " + shlex.quote(f"postgresql://app:{pw}@{host}/db")
    else:
        env["SUPERVISOR_PRESTART_MIGRATE"] = "false " + shlex.quote(f"redis://:{pw}@{host}/0")
        env["SUPERVISOR_GATE_DEP"] = f"tcp://{host}"
    return env


@contextlib.contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(clean_env(**env))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def in_process(args: list[str], env: dict[str, str]) -> str:
    """Every byte that ``supervisor ARGS`` writes, with ``env`` as its whole SUPERVISOR_* setup."""
    secrets.clear()
    out, err = io.StringIO(), io.StringIO()
    with environ(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    assert code in (0, 1, 78), (code, err.getvalue())
    assert "Traceback" not in err.getvalue()
    return out.getvalue() + err.getvalue()


COMMANDS = (["config"], ["config", "--json"], ["check"], ["check", "--json"])


def forms(password: str) -> set[str]:
    return {password, quote(password, safe="")}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=passwords, kind=st.sampled_from(KINDS), encode=st.booleans())
def test_config_and_check_never_show_a_password(password: str, kind: str, encode: bool) -> None:
    baseline = "\n".join(in_process(args, environment(kind, "Qz7Qz7Qz7", True)) for args in COMMANDS)
    assume(not any(form in baseline for form in forms(password)))  # too common to tell apart
    output = "\n".join(in_process(args, environment(kind, password, encode)) for args in COMMANDS)
    for form in forms(password):
        assert form not in output, (kind, encode)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(password=passwords, kind=st.sampled_from(KINDS), encode=st.booleans())
def test_run_never_shows_a_password(
    tmp_path_factory: pytest.TempPathFactory, password: str, kind: str, encode: bool
) -> None:
    env = {**environment(kind, password, encode), "SUPERVISOR_HEALTH_PORT": str(free_port())}
    assume(password.strip(' :{}[]",.-_=') == password)  # not a piece of the log's own JSON
    # nor a run of digits: timings and metric values (0.2000004) may hold any of them by chance
    assume(not set(password) <= set("0123456789.+-e"))
    # a configuration error prints what `config` prints, checked above; here the running supervisor
    assume(in_process(["config"], env) and not in_process(["config"], env).startswith("supervisor:"))
    s = Supervised(tmp_path_factory.mktemp("run"), ["run", "--", "sleep", "60"], env)
    replies = []
    try:
        s.wait_listening(10)
        wait_until(lambda: s.status("/metrics") == 200, 10, "/metrics")  # else its text says nothing
        for path in ("/readyz", "/readyz?verbose", "/readyz?format=json", "/readyz/dep?verbose", "/metrics"):
            replies.append(s.get(path).text)
        s.signal(signal.SIGTERM)
        s.wait(10)
    finally:
        s.stop()
    output = "\n".join([*replies, s.log_path.read_text(errors="replace")])
    vocabulary = (
        "componentId componentType observedValue observedUnit consecutiveFailures lastSuccess exitCode restarts "
        "supervisor_gate_checks_total supervisor_gate_check_duration_seconds_bucket supervisor_child_restarts_total "
        "HELP TYPE counter gauge histogram logger message level debug info warning gates.dep health processes "
        "reasonClass reason_class reason " + " ".join(ReasonClass)
    )
    baseline = vocabulary + "\n".join(in_process(a, environment(kind, "Qz7Qz7Qz7", True)) for a in COMMANDS)
    assume(password not in baseline)  # words the output has anyway cannot tell a leak
    for form in forms(password):
        assert form not in output, (kind, encode)
