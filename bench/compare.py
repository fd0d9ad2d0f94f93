"""Benches against an earlier commit, side by side in one run: is a change within noise?

Each bench named is run twice in a row, first against ``REF`` (that commit of this repository,
installed as the image installs it: ``git archive`` into a temporary folder, then a venv of its
own, kept in the cache like this checkout's), then against this checkout; both outputs are kept,
and every line of figures that both runs printed in the same shape is shown as one row with the
two sides' numbers. Both sides run the same interpreter (the one running this script) and this
checkout's bench scripts, so only the supervisor differs.
The machine drifts between two runs in a row (the bench's own baseline, measured on both sides,
shows by how much): ``--after-first`` swaps the order, to tell drift from a change; the ratios
each bench takes against its own baseline are the figures to compare.
Usage: python3 bench/compare.py [--after-first] REF [NAME ...]   (NAME: as for run_all.py; default: the five below)
"""

import os
import re
import subprocess
import sys
import tempfile

from _common import ROOT, cached_install, regular_install
from run_all import BENCHES

DEFAULT = ("probe_throughput", "startup_stall", "startup", "time_to_serving", "memory")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def install_ref(ref: str) -> str:
    commit = subprocess.run(["git", "rev-parse", ref], cwd=ROOT, capture_output=True, text=True, check=True)
    sha = commit.stdout.strip()
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "container-supervisor-bench")
    venv = os.path.join(cache, f"ref-{sha[:12]}")
    script = os.path.join(venv, "bin", "supervisor")
    if not os.path.exists(script):
        with tempfile.TemporaryDirectory() as tree:
            archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
            print(f"compare: installing {ref} ({sha[:12]}) into {venv}", flush=True)
            regular_install(venv, source=tree)
    return script


def run(bench: str, args: tuple[str, ...], supervisor: str) -> str:
    env = {**os.environ, "BENCH_SUPERVISOR": supervisor}
    here = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run([sys.executable, f"{bench}.py", *args], cwd=here, env=env, capture_output=True, text=True)
    return done.stdout + (f"(exit {done.returncode}) {done.stderr[-500:]}" if done.returncode else "")


def _shape(line: str) -> str:
    """A line with its numbers as ``#`` and its blanks collapsed (widths follow the numbers)."""
    return " ".join(_NUMBER.sub("#", line).split())


def rows(before: str, after: str) -> list[str]:
    """Lines of figures printed alike by both sides: the text once, then before -> after."""
    shaped = {_shape(line): line for line in before.splitlines() if _NUMBER.search(line)}
    out = []
    for line in after.splitlines():
        old = shaped.get(_shape(line))
        if old is None or "side:" in line:
            continue
        pairs = [f"{a} -> {b}" for a, b in zip(_NUMBER.findall(old), _NUMBER.findall(line), strict=True) if a != b]
        label = _shape(line)
        out.append(f"  {label[:90]:<90}  {'; '.join(pairs) or 'same'}")
    return out


def main(argv: list[str]) -> int:
    after_first = "--after-first" in argv
    argv = [a for a in argv if a != "--after-first"]
    if not argv:
        print(__doc__)
        return 2
    ref, names = argv[0], argv[1:] or list(DEFAULT)
    known = {b.name: b for b in BENCHES}
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"compare: no bench named {', '.join(unknown)}; known: {', '.join(known)}")
        return 2
    old, new = install_ref(ref), cached_install()[0]
    print(f"before: {ref} at {old}\nafter: this checkout at {new}\ninterpreter of both: {sys.version.split()[0]}")
    for name in names:
        bench = known[name]
        print(f"\n=== {name} {' '.join(bench.args)}", flush=True)
        if after_first:
            after = run(name, bench.args, new)
            before = run(name, bench.args, old)
        else:
            before = run(name, bench.args, old)
            after = run(name, bench.args, new)
        print(f"--- before ({ref})\n{before}--- after (this checkout)\n{after}--- figures, before -> after")
        print("\n".join(rows(before, after)) or "  (no line printed alike by both)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
