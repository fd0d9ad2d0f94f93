"""From a frozen app to an app serving again (``SUPERVISOR_ON_APP_UNRESPONSIVE=restart``).

Each run: gunicorn with 2 workers under the supervisor, every process of its session frozen with
SIGSTOP, then this script asks the app's port every 5 ms (a new connection each time, 0.2 s
limit) until it answers. The baseline, in the same run: every process of the same gunicorn killed
with SIGKILL under ``RESTART=on-failure``, where there is nothing to detect (the restart's backoff
and gunicorn's boot alone): the difference is the time the hang took to be seen and stopped.
Settings: CHECK_INTERVAL 1s, APP_PROBE_TIMEOUT 1s, APP_PROBE_THRESHOLD 3, STOP_TIMEOUT 10s.
Usage: python3 bench/unresponsive.py [runs]
"""

import os
import signal
import subprocess
import sys
import time

from _common import ROOT, announce, env_for, free_port, interpreter_of, status, stop, summary, supervisor_argv

from supervisor.pid1 import sessions

APPS = os.path.join(ROOT, "tests", "integration", "apps")


def _session(sid: int) -> list[int]:
    return (sessions.session_members([sid]) or {}).get(sid, [])


def _answers(port: int) -> bool:
    return status(port, "/", timeout=0.2) == 200


def once(freeze: bool) -> float:
    """Seconds from the freeze (or the kill) until the app answers again."""
    health, app = free_port(), free_port()
    env = env_for(
        health,
        SUPERVISOR_CHECK_INTERVAL="1s",
        SUPERVISOR_APP_PROBE_TIMEOUT="1s",
        SUPERVISOR_APP_PROBE_THRESHOLD="3",
        SUPERVISOR_STOP_TIMEOUT="10s",
        SUPERVISOR_RESTART="on-failure",
        SUPERVISOR_ON_APP_UNRESPONSIVE="restart",
    )
    python = interpreter_of(supervisor_argv())
    gunicorn = [python, "-m", "gunicorn", "-b", f"127.0.0.1:{app}", "--chdir", APPS, "--workers", "2", "hello:app"]
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", *gunicorn], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while status(health, "/readyz") != 200:
            time.sleep(0.01)
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as children:
            master = int(children.read().split()[0])
        while len(_session(master)) < 3:  # both workers booted
            time.sleep(0.01)
        started = time.perf_counter()
        for pid in _session(master):
            os.kill(pid, signal.SIGSTOP if freeze else signal.SIGKILL)
        while not _answers(app):
            if time.perf_counter() - started > 60:
                raise RuntimeError("the app did not serve again within 60 s")
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        stop(proc)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    announce()
    print("gunicorn 2 workers; CHECK_INTERVAL 1s, APP_PROBE_TIMEOUT 1s, APP_PROBE_THRESHOLD 3")
    killed = [once(freeze=False) for _ in range(runs)]
    frozen = [once(freeze=True) for _ in range(runs)]
    print(summary("all SIGKILL, RESTART=on-failure (baseline)", killed))
    print(summary("every process SIGSTOP, ON_APP_UNRESPONSIVE", frozen))


if __name__ == "__main__":
    main()
