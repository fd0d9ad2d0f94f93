"""``/healthz`` latency while clients flood the health port with 8 KB malformed request targets
(``GET //[aaaa...``, ``GET http://[::1/b:b:...``), against an idle supervisor in the same run.

Such targets used to reach a 500 whose log line ran a quadratic redaction regex: 16 to 32
clients pushed the median past 1 s, the default probe timeout. Every load is bounded: the
flooding threads stop when the probes are done.
Usage: python3 bench/healthz_under_flood.py [requests] [clients]
"""

import contextlib
import socket
import subprocess
import sys
import threading
import time

from _common import announce, env_for, free_port, status, stop, summary, supervisor_argv, time_until

TARGETS = (b"//[" + b"a" * 8000, b"http://[::1/" + b"b:" * 4000)


def flood(port: int, target: bytes, done: threading.Event, counts: dict[str, int]) -> None:
    request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    while not done.is_set():
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(request)
            head = sock.recv(64)
            key = head[9:12].decode("latin-1") or "closed"
            counts[key] = counts.get(key, 0) + 1


def measure(requests: int, clients: int) -> tuple[list[float], dict[str, int]]:
    port = free_port()
    # a gate with a password: the redaction path is live, as in production
    env = env_for(port, SUPERVISOR_GATE_DB="postgresql://app:s3cr3t-pw@127.0.0.1:1/app")
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", "sleep", "300"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    done, counts = threading.Event(), {}
    threads = [threading.Thread(target=flood, args=(port, TARGETS[i % 2], done, counts)) for i in range(clients)]
    try:
        time_until(port, "/healthz", 200, time.perf_counter())
        for t in threads:
            t.start()
        time.sleep(0.5)  # let the flood build up
        out = []
        for _ in range(requests):
            t0 = time.perf_counter()
            ok = status(port, "/healthz", timeout=10) == 200
            out.append(time.perf_counter() - t0 if ok else 10.0)
        return out, counts
    finally:
        done.set()
        for t in threads:
            t.join(10)
        stop(proc)


def main(requests: int, clients: int) -> None:
    announce()
    idle, _ = measure(requests, 0)
    flooded, counts = measure(requests, clients)
    print(summary("baseline: /healthz, no flood", idle))
    print(summary(f"/healthz while {clients} clients flood", flooded))
    print("flood answers by status:", dict(sorted(counts.items())))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, int(sys.argv[2]) if len(sys.argv) > 2 else 32)
