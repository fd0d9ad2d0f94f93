"""Probe throughput: requests per second on one core, 50 keep-alive connections, every gate hanging.

Side by side in one run: the baseline (``baseline_h11_server.py``, the smallest h11 + anyio server
answering ``ok``), then the supervisor on ``/healthz`` and ``/readyz`` while its gates hang (an
HTTP gate to a listener that accepts and never answers, a ``cmd:`` gate that never exits). Each
server is pinned to CPU 0 and wrk to CPU 1. Goal: at least 1.0x the baseline, p99 at most 10 ms.

The three are measured in turn, ROUNDS times, and the medians compared (one wrk run varies by
about 5 % on its own).

Usage: python3 bench/probe_throughput.py [SECONDS] [ROUNDS]   (needs wrk: apt-get install wrk)
"""

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import announce, env_for, free_port, status, stop, supervisor_argv

HERE = os.path.dirname(os.path.abspath(__file__))


def wait_answer(port: int, path: str) -> None:
    deadline = time.monotonic() + 20
    while status(port, path) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers {path} on {port}")
        time.sleep(0.01)


def wrk(port: int, path: str, seconds: int, expect_2xx: bool = True) -> tuple[float, float]:
    """(requests per second, p99 latency in ms)."""
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99_match = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99_match is not None, out
    value, unit = float(p99_match.group(1)), p99_match.group(2)
    p99 = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    if ("Non-2xx" in out and expect_2xx) or "Socket errors" in out:
        print(
            "   wrk reported errors:",
            " ".join(line.strip() for line in out.splitlines() if "rror" in line or "Non-2xx" in line),
        )
    return rps, p99


def main() -> None:
    announce(h11_baseline_server=sys.executable)
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(1024)  # accepts (the kernel does) and never answers
    hole = black_hole.getsockname()[1]

    base_port = free_port()
    base = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, os.path.join(HERE, "baseline_h11_server.py"), str(base_port)]
    )
    sup_port = free_port()
    sup = subprocess.Popen(
        ["taskset", "-c", "0", *supervisor_argv(), "run", "--", "sleep", "3600"],
        env=env_for(
            sup_port,
            SUPERVISOR_GATE_API=f"http://127.0.0.1:{hole}/",
            SUPERVISOR_GATE_API__TIMEOUT="1h",
            SUPERVISOR_GATE_JOB="cmd:sleep 3600",
            SUPERVISOR_GATE_JOB__TIMEOUT="1h",
        ),
    )
    try:
        wait_answer(base_port, "/")
        wait_answer(sup_port, "/healthz")
        time.sleep(1.0)  # past the start-up
        targets = (
            ("baseline h11 + anyio 'ok'", base_port, "/"),
            ("supervisor /healthz", sup_port, "/healthz"),
            ("supervisor /readyz (503)", sup_port, "/readyz"),
        )
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in targets}
        for _ in range(rounds):
            for name, port, path in targets:
                runs[name].append(wrk(port, path, seconds, expect_2xx=path != "/readyz"))
        baseline = statistics.median(rps for rps, _ in runs[targets[0][0]])
        print(f"one core each, wrk -t1 -c50 -d{seconds}s, {rounds} rounds in turn, every gate hanging; medians:")
        for name, results in runs.items():
            rps = statistics.median(r for r, _ in results)
            p99 = max(p for _, p in results)
            spread = f"{min(r for r, _ in results):.0f}-{max(r for r, _ in results):.0f}"
            print(f"  {name:<28} {rps:>8.0f} req/s ({spread})  p99 max {p99:5.2f} ms  {rps / baseline:5.2f}x baseline")
        print("goal: supervisor >= 1.00x the baseline, p99 <= 10 ms")
    finally:
        stop(sup)
        base.terminate()
        base.wait()
        black_hole.close()


if __name__ == "__main__":
    main()
