"""Time from process start to the first ``/healthz`` 200 (target: under 250 ms).

Baseline in the same run: the bare interpreter (``python3 -c pass``), i.e. the part no code of
ours can remove. Usage: python3 bench/startup.py [runs]
"""

import subprocess
import sys
import time

from _common import announce, env_for, free_port, interpreter_of, stop, summary, supervisor_argv, time_until


def main(runs: int) -> None:
    python = interpreter_of(supervisor_argv())  # bare start-up of the supervisor's own interpreter
    announce(baseline=python)
    baseline = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - t)
    figures = []
    for _ in range(runs):
        port = free_port()
        env = env_for(port, SUPERVISOR_GATE_DB="tcp://127.0.0.1:1", SUPERVISOR_GATE_CMD="cmd:sleep 5")
        t = time.perf_counter()
        proc = subprocess.Popen(
            [*supervisor_argv(), "run", "--", "sleep", "30"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            figures.append(time_until(port, "/healthz", 200, t))
        finally:
            stop(proc)
    print(summary("baseline: python3 -c pass (exit)", baseline))
    print(summary("supervisor run: start -> /healthz 200", figures))
    worst = max(figures) * 1000
    print(f"target 250 ms: {'met' if worst < 250 else 'MISSED'} (max {worst:.1f} ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
