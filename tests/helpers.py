"""Shared test helpers: free ports, condition waits with deadlines, a tiny HTTP client."""

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent


def checkout_files() -> list[str]:
    """The files of the checkout as a clone holds them (tracked, plus new files not ignored)."""
    import pytest

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout, to copy what a clone holds")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_checkout(target: Path) -> Path:
    """The checkout's files copied under ``target``, as a fresh clone would have them."""
    for name in checkout_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def readme_block(after: str, language: str) -> str:
    """The first fenced block in ``language`` of README.md after the text ``after``, as it stands."""
    import re

    text = (ROOT / "README.md").read_text()
    assert after in text, f"README.md no longer says {after!r}"
    found = re.search(rf"```{language}\n(.*?)```", text[text.index(after) :], re.S)
    assert found, f"no {language} block after {after!r} in README.md"
    return found.group(1).strip()


def supervisor_argv() -> list[str]:
    exe = shutil.which("supervisor")
    return [exe] if exe else [sys.executable, "-m", "supervisor"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SUPERVISOR_")}
    env.update(extra)
    return env


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """One supervisor command to its end, in a clean environment plus ``env``."""
    return subprocess.run(
        [*supervisor_argv(), *args],
        env=clean_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def children(pid: int) -> list[int]:
    """The PIDs of ``pid``'s children, as the kernel lists them."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], T], timeout: float, what: str = "condition", interval: float = 0.02) -> T:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except (OSError, http.client.HTTPException) as exc:
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_error})")
        time.sleep(interval)  # pacing: the poll interval of a condition wait with a deadline


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode()

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body[:200]!r})"


def get(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 2.0,
    host: str = "127.0.0.1",
) -> Reply:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def status_of(port: int, path: str) -> int | None:
    try:
        return get(port, path, timeout=1.0).status
    except (OSError, http.client.HTTPException):
        return None
