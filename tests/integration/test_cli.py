"""``check`` and ``config``, bad configuration, and secrets never leaking anywhere."""

import json

import pytest

from tests.helpers import cli, free_port, wait_until
from tests.integration.supervised import Launcher
from tests.servers import RedisFactory, RedisServer

pytestmark = pytest.mark.integration


def test_bad_configuration_exits_78_with_one_line_per_problem() -> None:
    for command in (["run", "--", "true"], ["check"], ["config"]):
        r = cli(*command, env={"SUPERVISOR_HEALTH_PORT": "eighty", "SUPERVISOR_GATE_DB": "cassandra://x"})
        assert r.returncode == 78, r
        lines = r.stderr.strip().splitlines()
        assert lines[0] == "supervisor: SUPERVISOR_HEALTH_PORT=eighty: expected a whole number from 1 to 65535"
        assert lines[1].startswith("supervisor: SUPERVISOR_GATE_DB=cassandra://x: unknown gate URL scheme cassandra://")
        assert len(lines) == 3 and "Traceback" not in r.stderr


def test_run_without_a_command_is_a_configuration_error() -> None:
    r = cli("run")
    assert r.returncode == 78 and "no command to run" in r.stderr


def test_check_passes_and_fails_with_reasons(redis_server: RedisServer) -> None:
    dead = f"tcp://127.0.0.1:{free_port()}"
    env = {"SUPERVISOR_GATE_CACHE": redis_server.url, "SUPERVISOR_GATE_DEAD": dead, "SUPERVISOR_STARTUP_TIMEOUT": "1s"}
    r = cli("check", env=env)
    assert r.returncode == 1
    assert "[+] cache" in r.stdout and "[-] dead" in r.stdout and "refused" in r.stdout.lower()
    assert cli("check", "--gate", "cache", env=env).returncode == 0
    doc = json.loads(cli("check", "--json", "--gate", "cache", env=env).stdout)
    assert doc["status"] == "pass" and doc["checks"]["cache"][0]["status"] == "pass"
    r = cli("check", "--gate", "nope", env=env)
    assert r.returncode == 78 and "--gate nope: no such gate" in r.stderr


def test_check_ignores_failing_non_critical_gates() -> None:
    r = cli(
        "check",
        env={
            "SUPERVISOR_GATE_OPT": f"tcp://127.0.0.1:{free_port()}",
            "SUPERVISOR_GATE_OPT__CRITICAL": "false",
            "SUPERVISOR_GATE_OK": "config:HOME",
        },
    )
    assert r.returncode == 0, r.stdout
    assert "(non-critical)" in r.stdout


def test_config_shows_effective_values_and_schema() -> None:
    r = cli("config", "--json", env={"SUPERVISOR_GATE_DB": "postgresql://u:pw@h/db", "SUPERVISOR_CHECK_INTERVAL": "30"})
    doc = json.loads(r.stdout)
    assert doc["check_interval"] == "30s" and doc["gates"]["db"]["timeout"] == "5s"
    schema = json.loads(cli("config", "--schema").stdout)
    assert "gates" in schema["properties"]


def test_no_password_in_any_output(redis_factory: RedisFactory, supervise: Launcher) -> None:
    secret = "Sup3r-S3cret-Pw"
    r: RedisServer = redis_factory.new("--requirepass", "something-else")
    env = {
        "SUPERVISOR_GATE_CACHE": f"redis://:{secret}@127.0.0.1:{r.port}/0",
        "SUPERVISOR_GATE_DB": f"postgresql://app:{secret}@127.0.0.1:{free_port()}/app",
        "SUPERVISOR_GATE_WEB": f"http://user:{secret}@127.0.0.1:{free_port()}/",
        "SUPERVISOR_GATE_ECHO": f"cmd:sh -c 'echo connecting with {secret}; exit 1'",
        "SUPERVISOR_APP_PROBE": f"http://probe:{secret}@127.0.0.1:{free_port()}/",
        "SUPERVISOR_LOG_LEVEL": "debug",
        "SUPERVISOR_STARTUP_TIMEOUT": "1s",
    }
    outputs = []
    for args in (["check"], ["check", "--json"], ["config"], ["config", "--json"]):
        res = cli(*args, env=env)
        outputs += [res.stdout, res.stderr]
    bad = cli("config", env={**env, "SUPERVISOR_GATE_BAD": f"cassandra://u:{secret}@h/db"})
    assert bad.returncode == 78
    outputs.append(bad.stderr)
    s = supervise.run("sleep", "30", env={**env, "SUPERVISOR_LOG_FORMAT": "json"})
    s.wait_listening()
    wait_until(lambda: '"attempts": 3' in s.get("/readyz?format=json").text, 10, "a few attempts")
    for path in (
        "/readyz",
        "/readyz?verbose",
        "/readyz?format=json",
        "/readyz/cache",
        "/readyz/db?verbose",
        "/readyz/echo?format=json",
        "/metrics",
    ):
        outputs.append(s.get(path).text)
    outputs.append(s.output())
    joined = "\n".join(outputs)
    assert "***" in joined
    assert secret not in joined
