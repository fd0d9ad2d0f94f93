"""No start-up stall: the longest /healthz answer in the first 2 s after it first answered.

PostgreSQL, Redis and HTTPS gates are configured (the machine's PostgreSQL and Redis on
127.0.0.1:5432 and :6379, only connected to; an HTTPS server of this script's own with an openssl
certificate), and 20 keep-alive clients probe /healthz from the moment it answers, each every
10 ms (2,000 probes a second in all: far more than any orchestrator sends, but paced, so that a
slow answer measures the supervisor's loop and not a queue of back-to-back requests). Beside it,
in the same run, the same supervisor with no gates. Goal: at most 30 ms, and the first /healthz
within 250 ms of the process start.

Usage: python3 bench/startup_stall.py [RUNS]
Set PYTHONASYNCIODEBUG=1 in the supervisor's environment (STALL_DEBUG=1 here) to have asyncio
log every callback that held the loop for more than 10 ms, with where it came from.
"""

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import announce, env_for, free_port, stop, supervisor_argv

CLIENTS = 20
WINDOW = 2.0
PACE = 0.010  # seconds between one client's probes


HTTPS_SERVER = """
import ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ok)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""


def https_server(directory: str) -> tuple[subprocess.Popen[bytes], int, str]:
    """An HTTPS server in a process of its own (in this one, it would hold up the probing loop)."""
    cert, key = os.path.join(directory, "c.pem"), os.path.join(directory, "k.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-days",
            "1",
            "-keyout",
            key,
            "-out",
            cert,
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", HTTPS_SERVER, str(port), cert, key])
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port, cert
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.01)


async def probe_loop(port: int, until: float, worst: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            worst.append(time.perf_counter() - started)
            await asyncio.sleep(max(0.0, PACE - (time.perf_counter() - started)))
    finally:
        writer.close()


async def first_answer(port: int, started: float) -> float:
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if (await reader.read(12)).startswith(b"HTTP/1.1 200"):
                writer.close()
                return time.perf_counter() - started
            writer.close()
        except OSError:
            await asyncio.sleep(0.0005)


def one_run(env_extra: dict[str, str]) -> tuple[float, float]:
    """(first /healthz in ms since the process start, longest answer in the window in ms)."""
    port = free_port()
    env = env_for(port, **env_extra)
    if os.environ.get("STALL_DEBUG"):
        env.update(PYTHONASYNCIODEBUG="1", SUPERVISOR_LOG_LEVEL="warning")
    started = time.perf_counter()
    proc = subprocess.Popen([*supervisor_argv(), "run", "--", "sleep", "3600"], env=env)

    async def measure() -> tuple[float, float]:
        first = await first_answer(port, started)
        until = time.perf_counter() + WINDOW
        samples: list[float] = []
        await asyncio.gather(*(probe_loop(port, until, samples) for _ in range(CLIENTS)))
        return first, max(samples)

    try:
        first, worst = asyncio.run(measure())
    finally:
        stop(proc)
    return first * 1000, worst * 1000


def main() -> None:
    announce(https_server=sys.executable)
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        server, https_port, cert = https_server(tmp)
        gates = {
            "SUPERVISOR_GATE_DB": "postgresql://postgres@127.0.0.1:5432/postgres",
            "SUPERVISOR_GATE_CACHE": "redis://127.0.0.1:6379/0",
            "SUPERVISOR_GATE_API": f"https://localhost:{https_port}/",
            "SSL_CERT_FILE": cert,
        }
        rows = {"no gates": [one_run({}) for _ in range(runs)], "postgresql + redis + https": []}
        rows["postgresql + redis + https"] = [one_run(gates) for _ in range(runs)]
        server.terminate()
        server.wait()
    print(
        f"{CLIENTS} keep-alive clients probing /healthz every {PACE * 1000:.0f} ms each, for {WINDOW:.0f} s "
        f"from its first answer, {runs} runs"
    )
    for name, results in rows.items():
        firsts, worsts = [r[0] for r in results], [r[1] for r in results]
        print(
            f"  {name:<28} first /healthz median {statistics.median(firsts):6.1f} ms (max {max(firsts):6.1f})"
            f"   longest answer median {statistics.median(worsts):6.1f} ms (max {max(worsts):6.1f})"
        )
    print("goal: longest answer <= 30 ms with the gates; first /healthz <= 250 ms")


if __name__ == "__main__":
    main()
