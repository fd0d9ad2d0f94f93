"""Every benchmark in turn, each with the arguments docs/performance.md quotes, then a summary.

Each script prints its own figures beside its baseline from the same run; this one only runs
them one after another (never two at once: they would measure each other), keeps their output,
and says at the end which ran, how long each took, and which could not run and why (a missing
tool is named with the package that has it). ``--quick`` runs each with a few repetitions only:
a check that every bench still works, not figures to quote.

Usage: python3 bench/run_all.py [--quick] [NAME ...]   (NAME: a script's name without .py)
"""

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]  # as docs/performance.md quotes them
    quick: tuple[str, ...]
    needs: tuple[tuple[str, str], ...] = ()  # (program, Debian package)


BENCHES = (
    Bench("time_to_serving", ("7",), ("2",)),
    Bench("probe_throughput", ("5", "5"), ("2", "1"), (("wrk", "wrk"), ("taskset", "util-linux"))),
    Bench("startup_stall", ("5",), ("2",), (("openssl", "openssl"),)),
    Bench("startup", ("20",), ("5",)),
    Bench("probe_startup", ("30",), ("5",)),  # curl is measured when installed
    Bench("memory", (), ("2000", "200")),
    Bench("recovery", ("5",), ("2",), (("redis-server", "redis-server"),)),
    Bench("signal_latency", ("30",), ("5",), (("tini", "tini"), ("unshare", "util-linux"))),
    Bench("ready_time", ("10",), ("3",)),
    Bench("ready_cpu", ("15",), ("3",)),
    Bench("notify_ready", ("15",), ("3",)),
    Bench("unresponsive", ("5",), ("1",)),
    Bench("held_sockets", ("3",), ("1",)),
    Bench("healthz_under_hang", ("500",), ("100",)),
    Bench("healthz_under_flood", ("200", "32"), ("50", "8")),
    Bench("blocked_gate", ("20",), ("5",)),
    Bench("pid1_io", ("5",), ("1",), (("unshare", "util-linux"), ("prlimit", "util-linux"))),
)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    unknown = set(wanted) - {b.name for b in BENCHES}
    if unknown:
        print(f"run_all: no bench named {', '.join(sorted(unknown))}; known: {', '.join(b.name for b in BENCHES)}")
        return 2
    results: list[tuple[str, str, float]] = []
    for bench in BENCHES:
        if wanted and bench.name not in wanted:
            continue
        missing = [f"{prog} (apt-get install {pkg})" for prog, pkg in bench.needs if not shutil.which(prog)]
        if missing:
            results.append((bench.name, "not run: needs " + ", ".join(missing), 0.0))
            continue
        args = bench.quick if quick else bench.args
        command = f"python3 bench/{bench.name}.py {' '.join(args)}".strip()
        print(f"\n=== {command}", flush=True)
        started = time.monotonic()
        # each script is run from bench/, as some of them expect
        code = subprocess.call([sys.executable, f"{bench.name}.py", *args], cwd=HERE)
        took = time.monotonic() - started
        results.append((bench.name, "ok" if code == 0 else f"FAILED (exit {code})", took))
    print("\n=== summary" + (" (--quick: smoke run, not figures to quote)" if quick else ""))
    width = max(len(name) for name, _, _ in results)
    for name, outcome, took in results:
        print(f"{name:<{width}}  {took:6.1f} s  {outcome}")
    return 0 if all(outcome == "ok" for _, outcome, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
