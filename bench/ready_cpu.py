"""The supervisor's own CPU time from exec to ``/readyz`` 200 with no gates, against bare Python
**of the same venv** (``python -c pass``) in the same run.

Start-up CPU is paid by every container start, and on a throttled container (a CPU quota of a
fraction of a core) it is wall time too. Goal: a median of at most 85 ms. The supervisor side is
``supervisor run -- sleep 60``; ``/readyz`` is polled until 200, and at that moment the
supervisor process's own user+sys time is read from ``/proc/PID/stat`` (its children's, the
``sleep``, not counted), then it is stopped. The baseline is the bare interpreter the
supervisor's script names, its user+sys from ``os.wait4``. ``/proc/PID/stat`` counts in clock
ticks (10 ms at USER_HZ 100), so the sum of ``/proc/PID/task/*/schedstat`` (nanoseconds, the
threads alive at that moment) is printed beside it. Every poll answered before ready costs the
supervisor a little CPU: their number is printed, and polls are spaced (``POLL``) to keep it
small. Both sides run one interpreter: by default a venv made here with the checkout installed
as the image installs it (``bench/_common.py``); ``BENCH_SUPERVISOR=/path/bin/supervisor``
measures another install, against the interpreter its script names.
Usage: python3 bench/ready_cpu.py [runs]
"""

import os
import statistics
import subprocess
import sys
import time

from _common import announce, env_for, free_port, interpreter_of, status, stop, supervisor_argv

GOAL_MS = 85.0
POLL = 0.002  # seconds between polls of /readyz
LIMIT = 30.0  # seconds a run may take to be ready
TICK = os.sysconf("SC_CLK_TCK")


def stat_cpu_ms(pid: int) -> float:
    """utime + stime of ``pid`` itself (fields 14 and 15 of ``/proc/PID/stat``), in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after "(comm)", which may hold spaces
    return (int(fields[11]) + int(fields[12])) * 1000 / TICK


def schedstat_cpu_ms(pid: int) -> float:
    """CPU time on the run queue of every thread of ``pid`` alive now, in ms (nanosecond counts)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total / 1e6


# What the supervisor's dependencies cost before any code of ours runs: the event loop (asyncio
# with anyio's backend), pydantic, h11, argparse and logging, with the collector off as
# ``supervisor run`` has it during start-up. A floor for the goal, not a target.
FLOOR = (
    "import gc; gc.disable(); import argparse, logging, asyncio, anyio, anyio._backends._asyncio, h11; "
    "from pydantic import BaseModel, Field, ConfigDict, ValidationError"
)


def bare_cpu_ms(python: str, code: str = "pass") -> float:
    """user+sys of ``python -c CODE``, from the rusage ``os.wait4`` returns."""
    proc = subprocess.Popen([python, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, code, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(code)
    assert proc.returncode == 0, (python, proc.returncode)
    return (usage.ru_utime + usage.ru_stime) * 1000


def supervisor_cpu_ms(argv: list[str]) -> tuple[float, float, int]:
    """(stat ms, schedstat ms, polls answered before 200) for one start to ``/readyz`` 200."""
    port = free_port()
    proc = subprocess.Popen(
        [*argv, "run", "--", "sleep", "60"],
        env=env_for(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.monotonic()
        answered = 0
        while True:
            code = status(port, "/readyz", timeout=0.5)
            if code == 200:
                return stat_cpu_ms(proc.pid), schedstat_cpu_ms(proc.pid), answered
            if code is not None:
                answered += 1
            if proc.poll() is not None:
                raise RuntimeError(f"supervisor exited with {proc.returncode} before /readyz answered 200")
            if time.monotonic() - started > LIMIT:
                raise RuntimeError(f"/readyz did not answer 200 within {LIMIT:g}s")
            time.sleep(POLL)
    finally:
        stop(proc)


def line(label: str, ms: list[float]) -> str:
    ordered = sorted(ms)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"{label:<52} n={len(ms):<3} median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms"


def main(runs: int) -> int:
    argv = supervisor_argv()
    python = interpreter_of(argv)
    announce(baseline=python)
    bare: list[float] = []
    floor: list[float] = []
    stat: list[float] = []
    sched: list[float] = []
    polls: list[int] = []
    for _ in range(runs):  # interleaved: a busy moment of the machine costs both sides alike
        bare.append(bare_cpu_ms(python))
        floor.append(bare_cpu_ms(python, FLOOR))
        s, t, n = supervisor_cpu_ms(argv)
        stat.append(s)
        sched.append(t)
        polls.append(n)
    print(line("baseline: python -c pass, user+sys (same venv)", bare))
    print(line("floor: python importing the dependencies only", floor))
    print(line("supervisor run: exec -> /readyz 200, user+sys (stat)", stat))
    print(line("  the same, threads' schedstat (ns resolution)", sched))
    print(f"{'':<52} polls answered before 200: median {statistics.median(polls):g}, max {max(polls)}")
    median = statistics.median(stat)
    over = median - statistics.median(bare)
    print(f"supervisor over bare python: {over:.1f} ms ({median / max(statistics.median(bare), 0.001):.1f}x)")
    print(f"supervisor over the floor (our own code and its imports): {median - statistics.median(floor):.1f} ms")
    met = median <= GOAL_MS
    print(f"goal: median at most {GOAL_MS:g} ms of CPU to ready: {'met' if met else 'NOT met'} ({median:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
