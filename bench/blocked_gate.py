"""Threads held by a gate blocked inside a system call, and how long SIGTERM then takes.

A ``sqlite:`` gate whose file is a FIFO blocks in ``open()`` for ever, as on a hung network
filesystem. With 100 ms attempt timeouts and 10-20 ms backoff it is retried about seven times a
second; the script reports the supervisor's thread count over time (an idle supervisor's in the
same run is the baseline), then the time from SIGTERM to exit.
Usage: python3 bench/blocked_gate.py [seconds]
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

from _common import announce, env_for, free_port, supervisor_argv, time_until


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def run(seconds: float, fifo: str | None) -> tuple[list[int], float]:
    port = free_port()
    extra = {}
    if fifo:
        extra = {
            "SUPERVISOR_GATE_DB": f"sqlite:///{fifo}",
            "SUPERVISOR_GATE_DB__TIMEOUT": "100ms",
            "SUPERVISOR_BACKOFF_INITIAL": "10ms",
            "SUPERVISOR_BACKOFF_MAX": "20ms",
        }
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", "sleep", "600"],
        env=env_for(port, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time_until(port, "/healthz", 200, time.perf_counter())
        counts = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(min(5.0, seconds / 4))
            counts.append(threads(proc.pid))
        started = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
            took = time.perf_counter() - started
        except subprocess.TimeoutExpired:
            took = float("inf")
        return counts, took
    finally:
        proc.kill()
        proc.wait()


def main(seconds: float) -> None:
    announce()
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "hung.db")
        os.mkfifo(fifo)
        idle, idle_exit = run(seconds, None)
        blocked, blocked_exit = run(seconds, fifo)
    print(f"idle supervisor: threads {idle}; SIGTERM to exit {idle_exit * 1000:.0f} ms")
    exit_text = "did not exit within 30 s" if blocked_exit == float("inf") else f"{blocked_exit * 1000:.0f} ms"
    print(f"blocked sqlite gate, {seconds:g} s: threads {blocked}; SIGTERM to exit {exit_text}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20)
