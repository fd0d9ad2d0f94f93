"""Refused and reset connections across app restarts: sockets held by the supervisor
(``SUPERVISOR_APP_LISTEN``) against gunicorn binding its own (``--bind``), in one run.

Each side: gunicorn with 2 workers under the supervisor with ``RESTART=on-failure``; one client
opens a new connection for every request, every 5 ms; the master is killed with SIGKILL three
times (each time once the new master answers). Printed per side: answered, refused, reset or
empty, and the latency of the answered requests (median, p99, max).
Usage: python3 bench/held_sockets.py [restarts]
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

from _common import ROOT, announce, env_for, free_port, interpreter_of, status, stop, supervisor_argv

APPS = os.path.join(ROOT, "tests", "integration", "apps")


def _client(port: int, seen: Counter[str], latencies: list[float], done: threading.Event) -> None:
    while not done.is_set():
        began = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                answer = conn.recv(64)
            if answer.startswith(b"HTTP/1."):
                seen["answered"] += 1
                latencies.append(time.perf_counter() - began)
            else:
                seen["empty"] += 1
        except ConnectionRefusedError:
            seen["refused"] += 1
        except ConnectionResetError:
            seen["reset"] += 1
        except OSError as exc:
            seen[type(exc).__name__] += 1
        done.wait(0.005)


def _master(health: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", health, timeout=1)
    try:
        conn.request("GET", "/readyz?format=json")
        doc = json.loads(conn.getresponse().read())
        return int(doc["child"]["pid"]) if doc["status"] == "pass" else 0
    except (OSError, ValueError):
        return 0
    finally:
        conn.close()


def side(held: bool, restarts: int) -> tuple[Counter[str], list[float]]:
    health, app = free_port(), free_port()
    extra = {"SUPERVISOR_APP_LISTEN": f"127.0.0.1:{app}"} if held else {}
    env = env_for(health, SUPERVISOR_RESTART="on-failure", SUPERVISOR_CHECK_INTERVAL="200ms", **extra)
    python = interpreter_of(supervisor_argv())
    bind = [] if held else ["--bind", f"127.0.0.1:{app}"]
    gunicorn = [python, "-m", "gunicorn", *bind, "--chdir", APPS, "--workers", "2", "hello:app"]
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", *gunicorn], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    seen: Counter[str] = Counter()
    latencies: list[float] = []
    done = threading.Event()
    try:
        while status(health, "/readyz") != 200:
            time.sleep(0.01)
        client = threading.Thread(target=_client, args=(app, seen, latencies, done))
        client.start()
        killed: list[int] = []
        for _ in range(restarts):
            deadline = time.monotonic() + 30
            while (master := _master(health)) in (0, *killed):
                if time.monotonic() > deadline:
                    raise RuntimeError("no new master within 30 s")
                time.sleep(0.01)
            time.sleep(0.3)  # a few answers from this master first
            os.kill(master, signal.SIGKILL)
            killed.append(master)
        while _master(health) in (0, *killed):
            time.sleep(0.01)
        time.sleep(0.3)
        done.set()
        client.join()
    finally:
        done.set()
        stop(proc)
    return seen, latencies


def main() -> None:
    restarts = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    announce()
    print(f"gunicorn 2 workers, RESTART=on-failure, the master killed {restarts} times; a new connection per request")
    for label, held in (("gunicorn --bind (unheld)", False), ("SUPERVISOR_APP_LISTEN (held)", True)):
        seen, latencies = side(held, restarts)
        ms = sorted(x * 1000 for x in latencies)
        tail = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else 0.0
        counts = ", ".join(f"{k} {v}" for k, v in sorted(seen.items()))
        print(f"  {label:<30} {counts}")
        if ms:
            print(f"  {'':<30} latency median {ms[len(ms) // 2]:.2f} ms, p99 {tail:.2f} ms, max {ms[-1]:.2f} ms")


if __name__ == "__main__":
    main()
