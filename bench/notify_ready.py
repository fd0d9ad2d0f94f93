"""How soon ``READY=1`` reaches the service manager after ``/readyz`` turns 200.

Each run: a supervisor with one ``cmd:`` gate waiting for a file and ``NOTIFY_SOCKET`` at a real
datagram receiver; the file appears, and this script polls ``/readyz`` every millisecond. The
baseline is ``/readyz`` itself: the moment a poll first got 200 (the request's start: the answer
was decided after it). ``READY=1`` is timed by the kernel (``SO_TIMESTAMP``) as it arrived. A
negative difference means the datagram came before a poll could see 200.
Usage: python3 bench/notify_ready.py [runs]
"""

import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

from _common import announce, env_for, free_port, status, stop, supervisor_argv

SO_TIMESTAMP = 29  # Linux


def arrival(sock: socket.socket, limit: float) -> float:
    """The kernel's arrival time of the datagram that holds READY=1."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            data, ancillary, _f, _a = sock.recvmsg(4096, socket.CMSG_SPACE(16))
        except BlockingIOError:
            time.sleep(0.001)
            continue
        if b"READY=1" in data.split(b"\n"):
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMP:
                    seconds, micro = struct.unpack("qq", value[:16])
                    return float(seconds + micro / 1e6)
    raise RuntimeError("no READY=1")


def once(folder: str, i: int) -> tuple[float, float, float]:
    """(the first poll that got 200 began, it was answered, READY=1 arrived), in ms after the
    gate's file appeared."""
    where, flag = os.path.join(folder, f"n{i}"), os.path.join(folder, f"up{i}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
    sock.bind(where)
    sock.setblocking(False)
    port = free_port()
    env = env_for(port, NOTIFY_SOCKET=where, SUPERVISOR_GATE_UP=f"cmd:test -f {flag}")
    env.update(SUPERVISOR_BACKOFF_INITIAL="5ms", SUPERVISOR_BACKOFF_MAX="5ms")
    proc = subprocess.Popen(
        [*supervisor_argv(), "run", "--", "sleep", "30"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while status(port, "/healthz") != 200:
            time.sleep(0.005)
        open(flag, "w").close()
        appeared = time.time()
        while True:
            asked = time.time()
            if status(port, "/readyz", timeout=0.5) == 200:
                answered = time.time()
                break
            time.sleep(0.001)
        told = arrival(sock, 10)
        return (asked - appeared) * 1000, (answered - appeared) * 1000, (told - appeared) * 1000
    finally:
        stop(proc)
        sock.close()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    announce()
    with tempfile.TemporaryDirectory() as folder:
        results = [once(folder, i) for i in range(runs)]
    mid = runs // 2

    def row(label: str, values: list[float]) -> None:
        ordered = sorted(values)
        print(f"  {label:<46} median {ordered[mid]:7.2f} ms   min {ordered[0]:7.2f}   max {ordered[-1]:7.2f} ms")

    print(f"after the gate's file appeared (n={runs}; the gate retries every 5 ms):")
    row("the poll that first got /readyz 200 began", [a for a, _, _ in results])
    row("... and was answered (baseline)", [b for _, b, _ in results])
    row("READY=1 arrived", [n for _, _, n in results])
    row("READY=1 minus the start of that poll", [n - a for a, _, n in results])
    row("READY=1 minus its answer", [n - b for _, b, n in results])


if __name__ == "__main__":
    main()
