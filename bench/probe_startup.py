"""``supervisor probe`` from start to exit, against bare Python **of the same venv** and ``curl -f``
(what many images' HEALTHCHECKs run instead), in the same run.

HEALTHCHECK runs the probe every few seconds for a container's whole life, so it must cost
little more than starting Python. Goal: a median of at most 2x the bare interpreter's. Both
sides run one interpreter: by default a venv made here with the checkout installed as the image
installs it (not editable: an editable install's finder loads in every start of that Python and
would slow the baseline as much as the probe). ``BENCH_SUPERVISOR=/path/bin/supervisor`` measures
another install, against the interpreter its script names (``bench/_common.py``).
Usage: python3 bench/probe_startup.py [runs]
"""

import shutil
import statistics
import subprocess
import sys
import time

from _common import (
    announce,
    env_for,
    free_port,
    interpreter_of,
    stop,
    summary,
    supervisor_argv,
    time_until,
)

GOAL = 2.0


def timed(argv: list[str], env: dict[str, str] | None, runs: int, expect: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        code = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        out.append(time.perf_counter() - t)
        assert code == expect, (argv, code)
    return out


def main(runs: int) -> None:
    probe = supervisor_argv()
    python = interpreter_of(probe)
    announce(baseline=python)
    port = free_port()
    env = env_for(port)
    server = subprocess.Popen(
        [*probe, "run", "--", "sleep", "600"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time_until(port, "/readyz", 200, time.perf_counter())
        bare: list[float] = []
        live: list[float] = []
        ready: list[float] = []
        for _ in range(runs):  # interleaved: a busy moment of the machine costs every side alike
            bare += timed([python, "-c", "pass"], None, 1, 0)
            live += timed([*probe, "probe", "live"], env, 1, 0)
            ready += timed([*probe, "probe", "ready"], env, 1, 0)
        curl_path = shutil.which("curl")
        curl = timed([curl_path, "-fsS", f"http://127.0.0.1:{port}/livez"], None, runs, 0) if curl_path else []
    finally:
        stop(server)
    print(summary("baseline: python -c pass (same venv)", bare))
    if curl:
        print(summary("baseline: curl -fsS .../livez", curl))
    print(summary("supervisor probe live", live))
    print(summary("supervisor probe ready", ready))
    ratio = statistics.median(live) / statistics.median(bare)
    print(f"probe live / bare python: {ratio:.2f}x (goal: at most {GOAL:g}x): {'met' if ratio <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
