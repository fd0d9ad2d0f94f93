"""Recovery: how soon readiness follows a dependency that goes and comes back.

A throwaway Redis, a supervisor with a Redis gate (re-checked every CHECK_INTERVAL, each attempt
bounded by TIMEOUT, retries backing off up to BACKOFF_MAX). In each trial Redis is stopped and
the time to the first /readyz 503 measured, then started again and the time to the first 200.
Promises (docs/reliability.md): 503 within CHECK_INTERVAL + TIMEOUT, 200 within BACKOFF_MAX + 0.5 s.

Usage: python3 bench/recovery.py [TRIALS]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _common import announce, env_for, free_port, status, stop, supervisor_argv, time_until  # noqa: E402

from tests.servers import RedisServer  # noqa: E402

INTERVAL, TIMEOUT, BACKOFF_MAX = 1.0, 0.5, 1.0


def until(port: int, want: int, limit: float = 30.0) -> float:
    started = time.perf_counter()
    while status(port, "/readyz", timeout=0.5) != want:
        if time.perf_counter() - started > limit:
            raise RuntimeError(f"/readyz did not answer {want} within {limit}s")
        time.sleep(0.005)
    return time.perf_counter() - started


def main() -> None:
    announce()
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp))
        redis.start()
        port = free_port()
        env = env_for(
            port,
            SUPERVISOR_GATE_CACHE=redis.url,
            SUPERVISOR_GATE_CACHE__TIMEOUT=f"{TIMEOUT}s",
            SUPERVISOR_CHECK_INTERVAL=f"{INTERVAL}s",
            SUPERVISOR_BACKOFF_MAX=f"{BACKOFF_MAX}s",
        )
        proc = subprocess.Popen([*supervisor_argv(), "run", "--", "sleep", "600"], env=env)
        gone, back = [], []
        try:
            time_until(port, "/readyz", 200, time.perf_counter())
            for _ in range(trials):
                time.sleep(0.3)  # pacing: somewhere within the re-check rhythm, not just after a check
                redis.stop()
                gone.append(until(port, 503))
                time.sleep(2 * BACKOFF_MAX)  # pacing: let the retries reach their longest delay
                redis.start()
                back.append(until(port, 200))
        finally:
            stop(proc)
            redis.remove()
    print(f"{trials} trials, CHECK_INTERVAL {INTERVAL}s, TIMEOUT {TIMEOUT}s, BACKOFF_MAX {BACKOFF_MAX}s")
    print(f"  gone -> 503: median {statistics.median(gone):.3f} s, max {max(gone):.3f} s "
          f"(promise: within {INTERVAL + TIMEOUT:.1f} s)")  # fmt: skip
    print(f"  back -> 200: median {statistics.median(back):.3f} s, max {max(back):.3f} s "
          f"(promise: within {BACKOFF_MAX + 0.5:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
