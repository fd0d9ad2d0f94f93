"""Signal-forwarding latency: from SIGTERM sent to PID 1 until the child's handler runs.

Both init processes run as PID 1 of a new PID namespace (``unshare``), as in a container, in front
of the same child, a Python program blocked in ``signal.pause()`` whose SIGTERM handler records
``time.monotonic_ns()`` (a clock shared by all processes). tini and dumb-init (both from
Debian) are measured in the same run as the baselines, interleaved. Goal: median within 1 ms.
Needs root (or user namespaces) and tini; dumb-init is measured when installed.
Usage: python3 bench/signal_latency.py [runs]
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import announce, env_for, free_port, supervisor_argv

CHILD = """
import signal, sys, time
out = sys.argv[1]
def on_term(signum, frame):
    stamp = time.monotonic_ns()
    with open(out, "w") as fh:
        fh.write(str(stamp))
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
open(out + ".ready", "w").close()
while True:
    signal.pause()
"""
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]


def wait_for(predicate, limit: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.002)


def inner_pid(outer: int) -> int:
    path = Path(f"/proc/{outer}/task/{outer}/children")
    wait_for(lambda: path.exists() and path.read_text().split())
    return int(path.read_text().split()[0])


def once(init: list[str], workdir: Path, env: dict[str, str]) -> float:
    out = workdir / "stamp"
    ready = workdir / "stamp.ready"
    for f in (out, ready):
        f.unlink(missing_ok=True)
    child = [sys.executable, "-c", CHILD, str(out)]
    proc = subprocess.Popen([*UNSHARE, *init, *child], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pid1 = inner_pid(proc.pid)
        wait_for(ready.exists)
        time.sleep(0.05)  # let the init settle into its wait (not part of the measurement)
        sent = time.monotonic_ns()
        os.kill(pid1, 15)
        wait_for(lambda: out.exists() and out.read_text() != "")
        received = int(out.read_text())
        proc.wait(10)
        return (received - sent) / 1e9
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def describe(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"{label:<28} n={len(ms):<3} median {statistics.median(ms):7.3f} ms   max {max(ms):7.3f} ms"


def main(runs: int) -> None:
    announce(child=sys.executable)
    tini = shutil.which("tini")
    if tini is None:
        sys.exit("tini is not installed (apt-get install tini)")
    inits = {"tini (baseline)": [tini, "--"]}
    dumb_init = shutil.which("dumb-init")
    if dumb_init is not None:
        inits["dumb-init (baseline)"] = [dumb_init, "--"]
    inits["container-supervisor"] = [*supervisor_argv(), "run", "--"]
    times: dict[str, list[float]] = {label: [] for label in inits}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for _ in range(runs):  # interleaved, so all see the same machine conditions
            for label, init in inits.items():
                times[label].append(once(init, workdir, env_for(free_port())))
    for label, seconds in times.items():
        print(describe(label, seconds))
    ours = times["container-supervisor"]
    median = statistics.median(ours) * 1000
    print(f"goal: median within 1 ms: {'met' if median <= 1.0 else 'MISSED'} ({median:.3f} ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
