"""Memory: the supervisor's RSS after start-up next to the import floor of the same libraries,
and its growth over a soak of 10,000 probes and 1,000 failing gate attempts (goal: under 2 MB).

The floor, in the same run: a bare interpreter that imports anyio, h11, pydantic, psycopg,
redis.asyncio and prometheus-client and does nothing else. The soak: a gate that fails at once
(a refused TCP connect, retried every few milliseconds) while one keep-alive client asks for
/healthz, /readyz?verbose, /readyz?format=json and /metrics in turn.

Usage: python3 bench/memory.py [PROBES] [ATTEMPTS]
"""

import http.client
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import announce, env_for, free_port, stop, supervisor_argv, time_until

FLOOR = (
    "import anyio, h11, pydantic, psycopg, redis.asyncio, prometheus_client\n"
    "print([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])"
)


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line for line in fh if line.startswith("VmRSS")).split()[1])


def attempts(conn: http.client.HTTPConnection, gate: str) -> int:
    conn.request("GET", "/readyz?format=json")
    doc = json.loads(conn.getresponse().read())
    return int(doc["checks"][gate][0]["attempts"])


def main() -> None:
    announce(import_floor=sys.executable)
    probes = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    failing = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
    bare = int(
        subprocess.run(
            [sys.executable, "-c", "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    floor = int(subprocess.run([sys.executable, "-c", FLOOR], capture_output=True, text=True, check=True).stdout)
    port = free_port()
    env = env_for(
        port,
        SUPERVISOR_GATE_DOWN="tcp://127.0.0.1:1",
        SUPERVISOR_GATE_DOWN__CRITICAL="false",
        SUPERVISOR_GATE_DB="postgresql://postgres@127.0.0.1:5432/postgres",
        SUPERVISOR_GATE_CACHE="redis://127.0.0.1:6379/0",
        SUPERVISOR_BACKOFF_INITIAL="1ms",
        SUPERVISOR_BACKOFF_MAX="3ms",
    )
    proc = subprocess.Popen([*supervisor_argv(), "run", "--", "sleep", "600"], env=env)
    try:
        time_until(port, "/readyz", 200, time.perf_counter())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while attempts(conn, "down") < 200:  # past the start-up: metrics loaded, caches warm
            time.sleep(0.05)
        start_attempts, start_rss = attempts(conn, "down"), rss_kb(proc.pid)
        paths = ["/healthz", "/readyz?verbose", "/readyz?format=json", "/metrics"]
        for i in range(probes):
            conn.request("GET", paths[i % len(paths)])
            conn.getresponse().read()
        while attempts(conn, "down") < start_attempts + failing:
            time.sleep(0.05)
        end_attempts, end_rss = attempts(conn, "down"), rss_kb(proc.pid)
    finally:
        stop(proc)
    print(f"RSS, KB: bare python {bare}, import floor of the same libraries {floor}")
    print(f"supervisor after start-up (PostgreSQL, Redis and a failing TCP gate): {start_rss} "
          f"({start_rss - floor:+d} over the floor)")  # fmt: skip
    print(f"after {probes} probes and {end_attempts - start_attempts} failing attempts: {end_rss} "
          f"(growth {end_rss - start_rss:+d} KB; goal under 2048)")  # fmt: skip


if __name__ == "__main__":
    main()
