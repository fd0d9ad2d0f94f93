"""Time to serving: from the container's entrypoint starting to the Django app's first 200.

Three ways to start the example Django app (examples/django) against the same throwaway
PostgreSQL and Redis, each RUNS times, in turn:

- serial: ``bench/serial_entrypoint.sh``, the script the supervisor replaces, doing the same work:
  config check (the variables, then ``manage.py check``), ``pg_isready`` loop, ``redis-cli ping``
  loop, ``check --deploy``, ``migrate``, ``exec gunicorn``;
- supervisor: PostgreSQL, Redis and ``config:`` gates, ``check`` and ``check --deploy`` as ``cmd:``
  gates, ``migrate`` as a pre-start task after the database only, then gunicorn;
- bare gunicorn, with the migrations already applied: the floor.

The database is dropped and created again before each serial and supervisor start, so that
``migrate`` has its real work to do every time. Goals: the supervisor at most 0.8x the serial
script, and at most bare gunicorn + max(slowest gate, migrate) + 0.3 s (the gate and migrate
durations are read off the supervisor's own /readyz timeline, median over the runs).

Usage: python3 bench/time_to_serving.py [RUNS]
The app's venv is made once in $BENCH_CACHE (default ~/.cache/container-supervisor-bench) from
examples/django/requirements.txt.
"""

import compileall
import http.client
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _common import announce, free_port, stop, supervisor_argv  # noqa: E402

from tests.servers import PgServer, RedisServer, pg_template  # noqa: E402

SITE = ROOT / "examples" / "django"
CACHE = Path(os.environ.get("BENCH_CACHE", Path.home() / ".cache" / "container-supervisor-bench"))
T = TypeVar("T")
GUNICORN = ["gunicorn", "--workers", "2", "--worker-tmp-dir", "/dev/shm", "mysite.wsgi"]


def app_venv() -> Path:
    venv = CACHE / "django-venv"
    if not (venv / "bin" / "gunicorn").exists():
        print(f"making the app's venv in {venv} (once)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q", "-r", str(SITE / "requirements.txt")]
        subprocess.run(pip, check=True)
    return venv


def answers_200(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
    try:
        conn.request("GET", "/", headers={"Host": "localhost", "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def recreate(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS app WITH (FORCE)")
        conn.execute("CREATE DATABASE app")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, list[float]] = {}  # CPU seconds of each start's whole process tree, by variant


def time_start(
    label: str, argv: list[str], env: dict[str, str], port: int, inspect: Callable[[], T] | None = None
) -> tuple[float, T | None]:
    """Seconds from the start of ``argv`` to the app's first 200, and what ``inspect`` returns
    when called at that moment (before the process is stopped). The CPU time of the whole tree
    (every process in it is reaped by its parent), up to the stop, goes to ``CPU[label]``."""
    cpu_before = children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=SITE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not answers_200(port):
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {proc.returncode} before the app served")
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"{argv[0]} did not serve within 60 s")
            time.sleep(0.005)
        took = time.perf_counter() - started
        return took, inspect() if inspect is not None else None
    finally:
        stop(proc, timeout=30)
        CPU.setdefault(label, []).append(children_cpu() - cpu_before)


def stage_durations(health_port: int) -> dict[str, float]:
    """Each check's first attempt to first pass, from the supervisor's own timeline."""
    conn = http.client.HTTPConnection("127.0.0.1", health_port, timeout=2)
    conn.request("GET", "/readyz?format=json")
    doc = json.loads(conn.getresponse().read())
    conn.close()

    def epoch(iso: str) -> float:
        return time.mktime(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + iso[19:-1])

    return {
        name: epoch(entry[0]["firstPassed"]) - epoch(entry[0]["started"])
        for name, entry in doc["checks"].items()
        if entry[0].get("firstPassed") and entry[0].get("started") and name != "app-probe"
    }


def supervisor_env(env: dict[str, str], health: int) -> dict[str, str]:
    return {
        **env,
        "SUPERVISOR_HEALTH_HOST": "127.0.0.1",
        "SUPERVISOR_HEALTH_PORT": str(health),
        "SUPERVISOR_LOG_LEVEL": "warning",
        "SUPERVISOR_GATE_CONFIG": "config:SECRET_KEY,DATABASE_URL,REDIS_URL",
        "SUPERVISOR_GATE_DATABASE": "env:DATABASE_URL",
        "SUPERVISOR_GATE_CACHE": "env:REDIS_URL",
        "SUPERVISOR_GATE_CHECK": "cmd:python manage.py check",
        "SUPERVISOR_GATE_CHECK__TIMEOUT": "60s",
        "SUPERVISOR_GATE_DEPLOY": "cmd:python manage.py check --deploy --fail-level WARNING",
        "SUPERVISOR_GATE_DEPLOY__TIMEOUT": "60s",
        "SUPERVISOR_PRESTART_MIGRATE": "python manage.py migrate --no-input",
        "SUPERVISOR_PRESTART_MIGRATE__AFTER": "database",
    }


def main() -> None:
    announce()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    venv = app_venv()
    # as an installed package has it: bytecode compiled once (pip does it on install; an
    # editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile at every start)
    compileall.compile_dir(str(ROOT / "supervisor"), quiet=1)
    template = pg_template()
    with tempfile.TemporaryDirectory() as tmp:
        pg, redis = PgServer(template), RedisServer(Path(tmp))
        pg.start()
        redis.start()
        try:
            base_env = {
                **os.environ,
                "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DATABASE_URL": pg.url.rsplit("/", 1)[0] + "/app",
                "REDIS_URL": redis.url,
            }
            base_env = {k: v for k, v in base_env.items() if not k.startswith("SUPERVISOR_")}
            times: dict[str, list[float]] = {"serial script": [], "supervisor": [], "bare gunicorn": []}
            stages: list[dict[str, float]] = []
            for _ in range(runs):
                port = free_port()
                recreate(pg.url)
                script = [str(ROOT / "bench" / "serial_entrypoint.sh")]
                times["serial script"].append(
                    time_start("serial script", script, {**base_env, "PORT": str(port)}, port)[0]
                )
                recreate(pg.url)
                health = free_port()
                app = [GUNICORN[0], "--bind", f"127.0.0.1:{port}", *GUNICORN[1:]]
                took, durations = time_start(
                    "supervisor",
                    [*supervisor_argv(), "run", "--", *app],
                    supervisor_env(base_env, health),
                    port,
                    partial(stage_durations, health),
                )
                times["supervisor"].append(took)
                stages.append(durations or {})
                times["bare gunicorn"].append(time_start("bare gunicorn", app, base_env, port)[0])
        finally:
            pg.remove()
            redis.remove()
    med = {name: statistics.median(values) for name, values in times.items()}
    cpu = {name: statistics.median(CPU[name]) for name in times}
    print(f"time from start to the Django app's first 200, {runs} runs each, in turn (median, min-max):")
    for name, values in times.items():
        print(
            f"  {name:<14} {med[name]:6.3f} s  ({min(values):.3f}-{max(values):.3f})"
            f"   CPU of the whole process tree {cpu[name]:.3f} s"
        )
    stage = {name: statistics.median(s.get(name, 0.0) for s in stages) for name in stages[0]}
    print(
        "  supervisor stages (first attempt to first pass, median): "
        + ", ".join(f"{name} {secs:.3f} s" for name, secs in sorted(stage.items(), key=lambda kv: -kv[1]))
    )
    slowest = max(stage.values())
    bound = med["bare gunicorn"] + slowest + 0.3
    print(f"supervisor / serial script: {med['supervisor'] / med['serial script']:.2f}x (goal: at most 0.80x)")
    print(
        f"supervisor {med['supervisor']:.3f} s against bare gunicorn + slowest stage + 0.3 s = {bound:.3f} s "
        f"(goal: at most that)"
    )


if __name__ == "__main__":
    main()
