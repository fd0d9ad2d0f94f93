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
    """The supervisor a bench measures: by default this checkout installed as the image installs
    it, a venv of its own and not editable (``regular_install``, made once per state of the
    source and kept in the user's cache). ``BENCH_SUPERVISOR="/path/to/supervisor"`` measures
    another build (an older checkout, say); ``BENCH_SUPERVISOR=installed`` the one on PATH."""
    other = os.environ.get("BENCH_SUPERVISOR")
    if other == "installed":
        exe = shutil.which("supervisor")
        return [exe] if exe else [sys.executable, "-m", "supervisor"]
    if other:
        return other.split()
    argv = cached_install()
    os.environ["BENCH_SUPERVISOR"] = " ".join(argv)  # every later call, and the benches run_all starts
    return argv


def cached_install() -> list[str]:
    """``regular_install`` of this checkout, made once per state of its source."""
    import hashlib

    digest = hashlib.sha256(sys.version.encode())
    for folder, _dirs, files in sorted(os.walk(os.path.join(ROOT, "supervisor"))):
        for name in sorted(files):
            if name.endswith((".py", ".typed")):
                with open(os.path.join(folder, name), "rb") as f:
                    digest.update(name.encode() + f.read())
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        digest.update(f.read())
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "container-supervisor-bench")
    venv = os.path.join(cache, digest.hexdigest()[:16])
    script = os.path.join(venv, "bin", "supervisor")
    if not os.path.exists(script):
        shutil.rmtree(venv, ignore_errors=True)
        os.makedirs(cache, exist_ok=True)
        print(f"bench: installing this checkout into {venv} (a regular install, as in the image)", flush=True)
        regular_install(venv)
    return [script]


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def interpreter_of(argv: list[str]) -> str:
    """The Python that ``argv`` runs: a console script's shebang, or ``argv[0]`` itself."""
    if len(argv) >= 2 and argv[1] == "-m":
        return argv[0]
    try:
        with open(argv[0], "rb") as script:
            first = script.readline().decode(errors="replace")
    except OSError:
        return argv[0]
    return first[2:].strip().split()[0] if first.startswith("#!") else argv[0]


_DESCRIBE = (
    "import sys, importlib.metadata as m\n"
    "try:\n"
    "    d = m.distribution('container-supervisor')\n"
    "    u = d.read_text('direct_url.json') or ''\n"
    "    kind = 'editable install' if '\"editable\": true' in u else 'regular install'\n"
    "    pkg = f'container-supervisor {d.version}, {kind}'\n"
    "except m.PackageNotFoundError:\n"
    "    pkg = 'container-supervisor not installed'\n"
    "finder = any(n.startswith('__editable__') for n in sys.modules)\n"
    "print(f'Python {sys.version.split()[0]}, {pkg}' + ('; its site loads an editable finder' if finder else ''))\n"
)


def describe(python: str) -> str:
    """Which interpreter and which install of ours it has, in one line (for every bench's header)."""
    r = subprocess.run([python, "-c", _DESCRIBE], capture_output=True, text=True)
    return f"{python}: {r.stdout.strip() or r.stderr.strip()[-200:]}"


def announce(**baselines: str) -> None:
    """Print what each side of the bench ran: the supervisor's interpreter and install, and the
    interpreter of each Python baseline named (``label=path``)."""
    print(f"supervisor side: {' '.join(supervisor_argv())} ({describe(interpreter_of(supervisor_argv()))})")
    for label, python in baselines.items():
        print(f"{label.replace('_', ' ')} side: {describe(python)}")


def regular_install(into: str, source: str = "") -> list[str]:
    """The checkout (or another ``source`` tree) installed as the image installs it (a venv of
    its own, not editable), so that start-up is measured without an editable install's finder
    in every interpreter start."""
    subprocess.run([sys.executable, "-m", "venv", into], check=True)
    subprocess.run(
        [os.path.join(into, "bin", "pip"), "install", "-q", "--disable-pip-version-check", source or ROOT],
        check=True,
        cwd=into,
        stderr=subprocess.DEVNULL,
    )
    return [os.path.join(into, "bin", "supervisor")]


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
