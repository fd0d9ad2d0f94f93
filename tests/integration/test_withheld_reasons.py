"""SUPERVISOR_HEALTH_REASONS=loopback: callers from the network read `reason withheld`."""

import json
import subprocess

import pytest

from tests.helpers import clean_env, cli, free_port, get, supervisor_argv, wait_until
from tests.integration.supervised import Launcher

pytestmark = pytest.mark.integration


def non_loopback_address() -> str:
    """An address of this host's that is not loopback: a connection to it comes from it."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        fields = line.split()
        if "inet" in fields:
            return fields[fields.index("inet") + 1].split("/")[0]
    pytest.skip("this host has no non-loopback IPv4 address to call from")


def test_network_callers_are_not_told_why_loopback_callers_and_the_logs_are(supervise: Launcher) -> None:
    address = non_loopback_address()
    hidden = "db-internal.invalid"
    s = supervise.run(
        "sleep",
        "60",
        env={
            "SUPERVISOR_HEALTH_HOST": "0.0.0.0",
            "SUPERVISOR_HEALTH_REASONS": "loopback",
            "SUPERVISOR_GATE_DB": f"tcp://{hidden}:5432",
            "SUPERVISOR_GATE_DB__TIMEOUT": "1s",
        },
    )
    wait_until(lambda: "failed: " in s.get("/readyz?verbose").text and "pending" not in s.get("/readyz").text, 15,
               "the gate's first verdict")  # fmt: skip
    local = s.get("/readyz?verbose").text
    assert hidden in local and "reason withheld" not in local  # loopback callers are told why
    remote = get(s.port, "/readyz?verbose", host=address)
    assert remote.status == 503 and remote.text.splitlines()[0] == "[-]db failed: reason withheld"
    remote_json = get(s.port, "/readyz?format=json", host=address)
    assert hidden not in remote_json.text and json.loads(remote_json.body)["output"] == "reason withheld"
    assert json.loads(remote_json.body)["checks"]["db"][0]["reasonClass"] == "dns"  # names nothing: kept
    assert get(s.port, "/healthz", host=address).status == 200
    status = cli("status", "--port", str(s.port), timeout=30)
    assert status.returncode == 1 and hidden in status.stdout  # status asks over loopback
    assert hidden in s.output()  # the logs keep everything


def test_the_setting_takes_only_its_two_values() -> None:
    r = subprocess.run(
        [*supervisor_argv(), "config"],
        env=clean_env(SUPERVISOR_HEALTH_REASONS="none", SUPERVISOR_HEALTH_PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 78 and "SUPERVISOR_HEALTH_REASONS=none: expected all or loopback" in r.stderr
