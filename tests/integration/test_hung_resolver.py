"""A resolver that never answers, for real: a network namespace of the test's own whose
resolv.conf points at a loopback UDP port that swallows every query. Lookups stay bounded by
each attempt's timeout, one per gate and name, and a gate whose address needs no lookup is not
held up by those that hang (the drivers' own lookups share asyncio's six executor threads)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clean_env, free_port, supervisor_argv, wait_until

pytestmark = pytest.mark.integration

SWALLOW = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
while True:
    s.recv(4096)
"""


@pytest.fixture
def hung_dns() -> Iterator[str]:
    """The name of a network namespace in which every DNS query goes unanswered for 30 s."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 to make a network namespace")
    name = f"cs-dns-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here")
    etc = Path("/etc/netns") / name
    swallower: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        etc.mkdir(parents=True)
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:30 attempts:1\n")
        swallower = subprocess.Popen(["ip", "netns", "exec", name, sys.executable, "-c", SWALLOW])
        yield name
    finally:
        if swallower is not None:
            swallower.kill()
            swallower.wait()
        shutil.rmtree(etc, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", name], check=False)


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_a_hung_resolver_costs_each_gate_its_attempts_and_nothing_more(hung_dns: str, tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(
        SUPERVISOR_HEALTH_HOST="127.0.0.1",
        SUPERVISOR_HEALTH_PORT=str(port),
        SUPERVISOR_LOG_FORMAT="text",
        SUPERVISOR_BACKOFF_INITIAL="20ms",
        SUPERVISOR_BACKOFF_MAX="50ms",
        SUPERVISOR_GATE_DB="postgresql://app@db.example.org/app",
        SUPERVISOR_GATE_CACHE="redis://cache.example.org/0",
        SUPERVISOR_GATE_API="http://api.example.org/",
        **{f"SUPERVISOR_GATE_{n}__TIMEOUT": "300ms" for n in ("DB", "CACHE", "API")},
        # its own health port, by a name that resolves from /etc/hosts: the same lookup call
        SUPERVISOR_GATE_LOCAL=f"tcp://localhost:{port}",
        SUPERVISOR_GATE_LOCAL__TIMEOUT="300ms",
        SUPERVISOR_CHECK_INTERVAL="100ms",  # the local gate is re-checked all along
    )
    log = open(tmp_path / "log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        ["ip", "netns", "exec", hung_dns, *supervisor_argv(), "run", "--", "sleep", "60"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def state() -> dict[str, dict[str, Any]]:
        out = subprocess.run(
            ["ip", "netns", "exec", hung_dns, *supervisor_argv(), "status", "--json", "--port", str(port)],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=10,
        )
        if not out.stdout.strip():
            return {}
        return {name: entries[0] for name, entries in json.loads(out.stdout).get("checks", {}).items()}

    try:
        wait_until(lambda: state().get("local", {}).get("status") == "pass", 10, "the local gate to pass")
        counts = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # 3 s of attempts: ten lookups each would have been started
            counts.append(threads(proc.pid))
            time.sleep(0.2)  # pacing: a sample of the thread count
        now = state()
        assert max(counts) <= 12, counts  # three lookups in flight at most, one per name
        local = now["local"]
        assert local["status"] == "pass" and local["attempts"] >= 10 and local["consecutiveFailures"] == 0, local
        for name in ("db", "cache", "api"):
            assert now[name]["attempts"] >= 5, now[name]
            assert "resolver" in str(now[name]["output"]) or "the lookup of" in str(now[name]["output"]), now[name]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
