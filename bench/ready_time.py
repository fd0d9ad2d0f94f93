"""Time from process start to ``/readyz`` 200 with a PostgreSQL and a Redis gate.

Uses running servers (read-only: ``SELECT 1`` and ``PING``), by default the local ones; set
BENCH_PG_URL / BENCH_REDIS_URL to point elsewhere. Baseline in the same run: the same command
with no gates at all. Usage: python3 bench/ready_time.py [runs]
"""

import os
import subprocess
import sys
import time

from _common import announce, env_for, free_port, stop, summary, supervisor_argv, time_until

PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def once(gates: dict[str, str]) -> float:
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", "sleep", "30"],
        env=env_for(port, **gates),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return time_until(port, "/readyz", 200, t)
    finally:
        stop(proc)


def main(runs: int) -> None:
    announce()
    baseline = [once({}) for _ in range(runs)]
    gated = [once({"SUPERVISOR_GATE_DATABASE": PG, "SUPERVISOR_GATE_CACHE": REDIS}) for _ in range(runs)]
    print(summary("baseline: start -> /readyz 200, no gates", baseline))
    print(summary("start -> /readyz 200, PostgreSQL + Redis", gated))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
