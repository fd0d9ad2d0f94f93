"""``/healthz`` latency while every gate hangs, against an idle supervisor in the same run.

The hanging gates: a PostgreSQL, a Redis and an HTTP gate pointed at a local listener that
accepts and never answers, a TCP gate at a listener whose backlog is full (connect never
completes), and a ``cmd:`` gate that never exits; all with a 1 s timeout so attempts are cut and
retried throughout. Usage: python3 bench/healthz_under_hang.py [requests]
"""

import socket
import subprocess
import sys
import threading
import time

from _common import announce, env_for, free_port, status, stop, summary, supervisor_argv, time_until


def silent_server(stop_at: float) -> int:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(512)
    srv.settimeout(0.2)
    held = []

    def loop() -> None:
        while time.monotonic() < stop_at:
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except TimeoutError:
                pass
        srv.close()

    threading.Thread(target=loop, daemon=True).start()
    return int(srv.getsockname()[1])


def full_backlog() -> tuple[socket.socket, int]:
    """A listener that is never accepted from; once its backlog is full, SYNs are dropped."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = int(srv.getsockname()[1])
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    return srv, port


def measure(env: dict[str, str], port: int, requests: int) -> list[float]:
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", "sleep", "120"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time_until(port, "/healthz", 200, time.perf_counter())
        time.sleep(1.5)  # let every gate reach its hanging attempt
        out = []
        for _ in range(requests):
            t = time.perf_counter()
            assert status(port, "/healthz", timeout=5) == 200
            out.append(time.perf_counter() - t)
        return out
    finally:
        stop(proc)


def main(requests: int) -> None:
    announce()
    port = free_port()
    idle = measure(env_for(port), port, requests)
    silent = silent_server(time.monotonic() + 120)
    _, blackhole = full_backlog()
    port = free_port()
    env = env_for(
        port,
        SUPERVISOR_GATE_PG=f"postgresql://postgres@127.0.0.1:{silent}/postgres",
        SUPERVISOR_GATE_REDIS=f"redis://127.0.0.1:{silent}/0",
        SUPERVISOR_GATE_WEB=f"http://127.0.0.1:{silent}/",
        SUPERVISOR_GATE_TCP=f"tcp://127.0.0.1:{blackhole}",
        SUPERVISOR_GATE_CMD="cmd:sleep 600",
        SUPERVISOR_BACKOFF_MAX="200ms",
        **{f"SUPERVISOR_GATE_{g}__TIMEOUT": "1s" for g in ("PG", "REDIS", "WEB", "TCP", "CMD")},
    )
    hung = measure(env, port, requests)
    print(summary("baseline: /healthz, no gates", idle))
    print(summary("/healthz while 5 gates hang", hung))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
