"""Helpers for the benchmark scripts: spawn the installed supervisor, time HTTP answers."""

import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time


def supervisor_argv() -> list[str]:
    """The installed supervisor; ``BENCH_SUPERVISOR="/path/to/other/supervisor"`` measures another
    build (an older checkout, say) with the same script."""
    other = os.environ.get("BENCH_SUPERVISOR")
    if other:
        return other.split()
    exe = shutil.which("supervisor")
    return [exe] if exe else [sys.executable, "-m", "supervisor"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISOR_")}
    env.update(SUPERVISOR_HEALTH_HOST="127.0.0.1", SUPERVISOR_HEALTH_PORT=str(port), SUPERVISOR_LOG_LEVEL="error")
    env.update(extra)
    return env


def status(port: int, path: str, timeout: float = 1.0) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def time_until(port: int, path: str, want: int, started: float, limit: float = 30.0) -> float:
    """Seconds from ``started`` until ``path`` answers ``want``, polling every millisecond."""
    while time.perf_counter() - started < limit:
        if status(port, path, timeout=0.5) == want:
            return time.perf_counter() - started
        time.sleep(0.001)
    raise RuntimeError(f"{path} did not answer {want} within {limit}s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def summary(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (
        f"{label:<44} n={len(ms):<4} median {statistics.median(ms):8.2f} ms   p99 {p99:8.2f} ms   max {ms[-1]:8.2f} ms"
    )
