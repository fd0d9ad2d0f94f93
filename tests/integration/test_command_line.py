"""The command line a person expects: usage with ``-- CMD``, flags that name their variables,
``config`` in the file's own forms, and a configuration linted without its secrets."""

import json

import pytest

from tests.helpers import cli

pytestmark = pytest.mark.integration


def test_usage_shows_where_the_command_goes() -> None:
    assert "usage: supervisor run [options] [-- CMD [ARG...]]" in cli("run", "--help").stdout
    assert "usage: supervisor wait [options] TARGET... [-- CMD [ARG...]]" in cli("wait", "--help").stdout
    loose = cli("run", "gunicorn", "app:app")
    assert loose.returncode == 2 and "put the command after --" in loose.stderr


def test_every_flag_of_run_names_its_variable() -> None:
    text = " ".join(cli("run", "--help").stdout.split())
    for flag in ("--health-host", "--health-port", "--startup-timeout", "--stop-timeout", "--log-level"):
        variable = "SUPERVISOR_" + flag[2:].replace("-", "_").upper()
        assert variable in text, flag


def test_config_prints_values_as_the_file_writes_them() -> None:
    env = {
        "SUPERVISOR_COMMAND": "gunicorn --bind 0.0.0.0:8000 'my app:application'",
        "SUPERVISOR_GATE_DB": "tcp://127.0.0.1:5432",
        "SUPERVISOR_GATE_DB__CRITICAL": "false",
    }
    r = cli("config", env=env)
    assert r.returncode == 0, r.stderr
    lines = dict(line.strip().split(None, 1) for line in r.stdout.splitlines() if " " in line.strip())
    assert lines["command"] == "gunicorn --bind 0.0.0.0:8000 'my app:application'"
    assert lines["critical"] == "false" and lines["subreaper"] == "false"
    assert "[" not in r.stdout and "False" not in r.stdout and "True" not in r.stdout


def test_config_lints_a_configuration_whose_secrets_are_not_there() -> None:
    env = {
        "SUPERVISOR_GATE_DB": "env:DATABASE_URL",
        "SUPERVISOR_GATE_CACHE": "redis://${REDIS_HOST}:6379/0",
        "SUPERVISOR_GATE_WEB": "http://127.0.0.1:1/",
    }
    r = cli("config", "--json", env=env)
    assert r.returncode == 78  # not runnable as it stands
    gates = json.loads(r.stdout)["gates"]  # and yet printed in full
    assert gates["db"]["unresolved"] == "DATABASE_URL is not set"
    assert gates["cache"]["unresolved"] == "REDIS_HOST is not set"
    assert gates["web"]["url"] == "http://127.0.0.1:1/" and "unresolved" not in gates["web"]
    assert "DATABASE_URL is not set" in r.stderr and "${REDIS_HOST} is not set" in r.stderr
    assert cli("check", env=env).returncode == 78  # everything else still refuses it at once


# -- a command without -- ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["run", "sleep", "1"], "supervisor run [options] -- sleep 1"),
        (
            ["run", "--log-level", "debug", "gunicorn", "-b", ":8000", "app"],
            "supervisor run [options] -- gunicorn -b :8000 app",
        ),
        (
            ["wait", "tcp://127.0.0.1:1", "--timeout", "5s", "sleep", "1"],
            "supervisor wait [options] TARGET... -- sleep 1",
        ),
    ],
)
def test_a_command_without_dashes_gets_a_one_line_hint(args: list[str], hint: str) -> None:
    r = cli(*args, timeout=20)
    assert r.returncode == 2
    assert r.stderr == f"supervisor: put the command after --: {hint}\n"


def test_wait_with_a_command_in_the_targets_names_it_once() -> None:
    r = cli("wait", "--timeout", "1s", "tcp://127.0.0.1:1", "sleep", "1")
    assert r.returncode == 78 and "Traceback" not in r.stderr
    assert r.stderr.count("put the command after --: supervisor wait [options] TARGET... -- sleep 1") == 1


def test_unknown_options_still_read_as_unknown() -> None:
    r = cli("run", "--bogus")
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr
