"""Configuration checked on the real thing, the real CLI as a subprocess: a skipped gate still
checked in full, FIFOs and devices refused as secret or config files, a start-up order cycle of a
thousand gates, gunicorn in daemon mode refused, TOML values of the wrong type, number settings in
ASCII digits only, a ``config:`` gate whose variable is blanks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import clean_env, cli, free_port, supervisor_argv

pytestmark = pytest.mark.integration

SKIP = {"SUPERVISOR_GATE_DEPLOY__ONLY_IF_SET": "DJANGO_SETTINGS_MODULE"}


def run_env(**extra: str) -> dict[str, str]:
    return {"SUPERVISOR_HEALTH_HOST": "127.0.0.1", "SUPERVISOR_HEALTH_PORT": str(free_port()), **extra}


def one_problem(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 78, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[1].startswith("supervisor: configuration invalid"), result.stderr
    return str(lines[0])


# -- a skipped gate is a gate: checked in full, masked, never a crash ---------------------------


def test_a_skipped_cmd_gate_neither_crashes_check_nor_run() -> None:
    env = {"SUPERVISOR_GATE_DEPLOY": f"cmd:{sys.executable} -c pass", **SKIP}
    check = cli("check", "--json", env=env)
    assert check.returncode == 0 and "Traceback" not in check.stderr, check.stderr
    assert json.loads(check.stdout)["checks"]["deploy"][0]["skipped"] is True
    run = cli("run", "--", sys.executable, "-c", "pass", env=run_env(**env), timeout=30)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("command", ["check", "config", "run"])
def test_a_skipped_gate_with_an_invalid_url_is_exit_78(command: str) -> None:
    env = run_env(SUPERVISOR_GATE_DEPLOY="tcp://h:99999", **SKIP)
    extra = ["--", sys.executable, "-c", "pass"] if command == "run" else []
    problem = one_problem(cli(command, *extra, env=env, timeout=30))
    assert problem.startswith("supervisor: SUPERVISOR_GATE_DEPLOY=tcp://h:99999: the port must be")


def test_config_masks_the_passwords_of_a_skipped_cmd_gate() -> None:
    env = {"SUPERVISOR_GATE_DEPLOY": "cmd:psql 'host=db password=kw-secret-9' postgresql://u:url-secret-9@h/d", **SKIP}
    for args in (["config"], ["config", "--json"]):
        out = cli(*args, env=env)
        assert out.returncode == 0, out.stderr
        assert "kw-secret-9" not in out.stdout and "url-secret-9" not in out.stdout and "***" in out.stdout


# -- files, the start-up order, gunicorn, values of the wrong type -----------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> str:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize("how", ["url_file", "env_file", "config_file"])
@pytest.mark.parametrize("command", ["config", "run"])
def test_a_fifo_as_a_secret_or_config_file_is_refused_at_once(fifo: str, how: str, command: str) -> None:
    env = run_env()
    args = [command, *(["--", sys.executable, "-c", "pass"] if command == "run" else [])]
    if how == "url_file":
        env["SUPERVISOR_GATE_R__URL_FILE"] = fifo
        setting = "SUPERVISOR_GATE_R__URL_FILE"
    elif how == "env_file":
        env.update(SUPERVISOR_GATE_R="env:REDIS_URL", REDIS_URL_FILE=fifo)
        setting = "REDIS_URL_FILE"
    else:
        env["SUPERVISOR_CONFIG"] = fifo
        setting = "SUPERVISOR_CONFIG"
    problem = one_problem(cli(*args, env=env, timeout=20))  # it hung for ever
    assert setting in problem and "named pipe (FIFO)" in problem


def test_a_character_device_as_a_secret_file_is_refused() -> None:
    problem = one_problem(cli("config", env={"SUPERVISOR_GATE_R__URL_FILE": "/dev/zero"}, timeout=20))
    assert "SUPERVISOR_GATE_R__URL_FILE" in problem and "character device" in problem


def test_a_start_up_order_cycle_of_a_thousand_gates_is_exit_78() -> None:
    n = 1200
    env = {f"SUPERVISOR_GATE_G{i}": "tcp://127.0.0.1:1" for i in range(n)}
    env.update({f"SUPERVISOR_GATE_G{i}__AFTER": f"g{(i + 1) % n}" for i in range(n)})
    problem = one_problem(cli("config", env=env))
    assert "the start-up order has a cycle: " in problem


@pytest.mark.parametrize("how", ["-D", "--daemon", "GUNICORN_CMD_ARGS", "config_file", "default_config_file"])
def test_gunicorn_in_daemon_mode_is_refused_before_anything_starts(tmp_path: Path, how: str) -> None:
    env = run_env()
    argv = ["gunicorn", "--bind", f"127.0.0.1:{free_port()}", "app:app"]
    if how.startswith("-"):
        argv.insert(1, how)
    elif how == "GUNICORN_CMD_ARGS":
        env["GUNICORN_CMD_ARGS"] = "--workers 1 --daemon"
    elif how == "config_file":
        (tmp_path / "conf.py").write_text("daemon = True\n")
        argv[1:1] = ["-c", str(tmp_path / "conf.py")]
    else:
        (tmp_path / "gunicorn.conf.py").write_text("daemon = True\n")
    result = subprocess.run(
        [*supervisor_argv(), "run", "--", *argv],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    problem = one_problem(result)
    assert "runs gunicorn as a daemon" in problem


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("health_port = 9000.0", "health_port"),
        ('[gates.a]\nurl = "tcp://h:1"\ncritical = "yes"', "critical"),
        ('[gates.a]\nurl = "tcp://h:1"\nstartup_only = 1', "startup_only"),
    ],
)
def test_a_toml_value_of_the_wrong_type_is_exit_78(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(toml + "\n")
    problem = one_problem(cli("config", "--config", str(path)))
    assert key in problem and "(a TOML " in problem


@pytest.mark.parametrize(
    ("var", "value"),
    [("SUPERVISOR_STOP_TIMEOUT", "\u0661\u0660s"), ("SUPERVISOR_HEALTH_PORT", "\u0668\u0660\u0668\u0661")],
)
def test_unicode_digits_are_refused_in_every_number(var: str, value: str) -> None:
    problem = one_problem(cli("config", env={var: value}))
    assert problem.startswith(f"supervisor: {var}={value}: expected")


def test_a_config_gate_fails_for_a_variable_of_blanks() -> None:
    env = {"SUPERVISOR_GATE_C": "config:SECRET_KEY", "SECRET_KEY": " \t ", "SUPERVISOR_STARTUP_TIMEOUT": "300ms"}
    out = cli("check", "--json", env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "SECRET_KEY" in json.loads(out.stdout)["checks"]["c"][0]["output"]
