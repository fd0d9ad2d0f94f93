"""``supervisor probe`` from start to exit, against bare ``python3 -c pass`` and ``curl -f`` (what
many images' HEALTHCHECKs run instead) in the same run.

HEALTHCHECK runs the probe every few seconds for a container's whole life, so it must cost
little more than starting Python. Goal: a median of at most 3x the bare interpreter's.
Usage: python3 bench/probe_startup.py [runs]
"""

import shutil
import statistics
import subprocess
import sys
import time

from _common import env_for, free_port, stop, summary, supervisor_argv, time_until


def timed(argv: list[str], env: dict[str, str] | None, runs: int, expect: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        code = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        out.append(time.perf_counter() - t)
        assert code == expect, (argv, code)
    return out


def main(runs: int) -> None:
    port = free_port()
    env = env_for(port)
    server = subprocess.Popen(
        [*supervisor_argv(), "run", "--", "sleep", "600"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time_until(port, "/readyz", 200, time.perf_counter())
        bare = timed([sys.executable, "-c", "pass"], None, runs, 0)
        curl_path = shutil.which("curl")
        curl = timed([curl_path, "-fsS", f"http://127.0.0.1:{port}/livez"], None, runs, 0) if curl_path else []
        live = timed([*supervisor_argv(), "probe", "live"], env, runs, 0)
        ready = timed([*supervisor_argv(), "probe", "ready"], env, runs, 0)
    finally:
        stop(server)
    print(summary("baseline: python3 -c pass", bare))
    if curl:
        print(summary("baseline: curl -fsS .../livez", curl))
    print(summary("supervisor probe live", live))
    print(summary("supervisor probe ready", ready))
    ratio = statistics.median(live) / statistics.median(bare)
    print(f"probe live / bare python: {ratio:.2f}x (goal: at most 3x): {'met' if ratio <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
