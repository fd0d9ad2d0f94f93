"""PID 1 and its own I/O: three figures, each beside its baseline from the same run.

1. /healthz latency while stderr is a pipe nobody reads for 10 s (the app fills it at once;
   debug logging and 20 gates failing every few milliseconds keep the supervisor writing),
   against the same supervisor whose stderr is read; then SIGTERM-to-exit of each.
2. SIGTERM-to-exit while 1,000 orphans exit at once (the supervisor is PID 1 of a PID namespace,
   so every one of them is its child to reap, a flood of SIGCHLD), against the same app with no
   orphans.
3. Connections held past the file-descriptor limit: 1,000 idle connections against a supervisor
   started with ``ulimit -n 64``, a /healthz probe after every 100 of them, then the time until
   /healthz answers once they close; against the same with the machine's default limit.

Usage: python3 bench/pid1_io.py [TRIALS]   (default 5; figures are medians over the trials)
Needs unshare and prlimit (util-linux) and root for the PID namespace.
"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from _common import announce, env_for, free_port, status, summary, supervisor_argv

APPS = Path(__file__).resolve().parent.parent / "tests" / "integration" / "apps"  # shared with the fault tests
FILL_STDERR = str(APPS / "fill_stderr.py")
ORPHANS = str(APPS / "orphans.py")


def wait_for(condition, limit: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.005)
    raise RuntimeError(f"timed out waiting for {what}")


def timed_get(port: int) -> float:
    started = time.perf_counter()
    code = status(port, "/healthz", timeout=5.0)
    took = time.perf_counter() - started
    return took if code == 200 else float("inf")


def sigterm_to_exit(proc: subprocess.Popen[bytes], pid: int | None = None) -> float:
    started = time.perf_counter()
    os.kill(pid or proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return float("inf")
    return time.perf_counter() - started


def stalled_stderr(read: bool, seconds: float) -> tuple[list[float], float]:
    port = free_port()
    gates = {f"SUPERVISOR_GATE_F{i}": "cmd:false" for i in range(20)}
    gates |= {f"SUPERVISOR_GATE_F{i}__CRITICAL": "false" for i in range(20)}
    env = env_for(
        port, SUPERVISOR_LOG_LEVEL="debug", SUPERVISOR_BACKOFF_INITIAL="5ms", SUPERVISOR_BACKOFF_MAX="10ms", **gates
    )
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", sys.executable, FILL_STDERR],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=write_end,
    )
    os.close(write_end)
    stop = threading.Event()
    reader = None
    if read:

        def drain() -> None:
            while not stop.is_set():
                try:
                    if not os.read(read_end, 1 << 16):
                        return
                except OSError:
                    return

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
    try:
        wait_for(lambda: status(port, "/healthz") == 200, 10, "/healthz")
        latencies = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            latencies.append(timed_get(port))
            time.sleep(0.02)  # pacing: a probe every 20 ms
        exit_time = sigterm_to_exit(proc)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(read_end)
    return latencies, exit_time


def orphans_exit(count: int) -> float:
    with TemporaryDirectory() as tmp:
        go, forked = Path(tmp, "go"), Path(tmp, "forked")
        port = free_port()
        read_end, write_end = os.pipe()  # stderr nobody reads, as in the worst case
        proc = subprocess.Popen(
            [
                "unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                *supervisor_argv(), "run", "--", sys.executable, ORPHANS, str(go), str(count), str(forked),
            ],
            env=env_for(port, SUPERVISOR_LOG_LEVEL="debug"),
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=write_end,
        )  # fmt: skip
        os.close(write_end)
        try:
            wait_for(forked.exists, 120, "the orphans forked")

            def inner() -> int:
                kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
                return int(kids[0]) if kids else 0

            pid = wait_for(inner, 10, "the namespace's PID 1")
            go.touch()
            if count:
                time.sleep(0.05)  # pacing: SIGTERM lands while the orphans exit
            return sigterm_to_exit(proc, pid)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(read_end)


def past_the_limit(limit: str | None, count: int) -> tuple[int, list[float], float, bool]:
    port = free_port()
    prefix = ["prlimit", f"--nofile={limit}", "--"] if limit else []
    proc = subprocess.Popen(
        [*prefix, *supervisor_argv(), "run", "--", "sleep", "300"],
        env=env_for(port),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    held: list[socket.socket] = []
    probes: list[float] = []
    try:
        wait_for(lambda: status(port, "/healthz") == 200, 10, "/healthz")
        for i in range(count):
            sock = socket.socket()
            sock.settimeout(5)
            try:
                sock.connect(("127.0.0.1", port))
            except OSError:
                sock.close()
                break
            held.append(sock)
            if i % 100 == 99:
                probes.append(timed_get(port))
        connected = len(held)
        for sock in held:
            sock.close()
        held.clear()
        started = time.perf_counter()
        try:
            wait_for(lambda: status(port, "/healthz", timeout=0.5) == 200, 10, "/healthz again")
            back = time.perf_counter() - started
        except RuntimeError:  # it never answered again (a build that died of EMFILE)
            back = float("inf")
        alive = proc.poll() is None
    finally:
        for sock in held:
            sock.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    return connected, probes, back, alive


def main() -> None:
    announce()
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"supervisor: {' '.join(supervisor_argv())}; interpreter of this script: {sys.executable}")
    print("\n1. /healthz every 20 ms for 10 s (ms), then SIGTERM to exit")
    for read, label in ((True, "stderr read (baseline)"), (False, "stderr stalled (nobody reads)")):
        latencies, exit_time = stalled_stderr(read, 10.0)
        print(summary(label, latencies), f"  SIGTERM->exit {exit_time * 1000:7.1f} ms")
    print(f"\n2. SIGTERM to exit as PID 1, stderr stalled, median of {trials} (ms)")
    for count, label in ((0, "no orphans (baseline)"), (1000, "1,000 orphans exiting at once")):
        times = [orphans_exit(count) for _ in range(trials)]
        print(f"{label:<44} median {statistics.median(times) * 1000:8.1f} ms   max {max(times) * 1000:8.1f} ms")
    print("\n3. 1,000 idle connections held, a /healthz after every 100, then the time to answer again")
    for limit, label in ((None, "default descriptor limit (baseline)"), ("64:64", "ulimit -n 64")):
        connected, probes, back, alive = past_the_limit(limit, 1000)
        answered = sum(1 for p in probes if p != float("inf"))
        print(
            f"{label:<44} held {connected}; probes answered {answered}/{len(probes)}, "
            f"slowest {max(probes) * 1000:.1f} ms; answering again {back * 1000:.1f} ms after; alive: {alive}"
        )


if __name__ == "__main__":
    main()
