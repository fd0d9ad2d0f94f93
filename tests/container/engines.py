"""The engines the image runs under, driven by their own command lines as users type them:
podman (no daemon) and Docker Engine (``dockerd``, reached as the ``docker`` client finds it:
``DOCKER_HOST`` or the default socket).

Where the two differ, and the tests must know it:

- Health. Docker's daemon runs the image's HEALTHCHECK on its own timer (``--health-interval
  1s`` at ``run``, so that a test sees a few results in seconds) and ``.State.Health`` is what it
  found. podman 4.3 runs the check from a systemd timer, which these machines lack: there a
  check runs only when ``podman healthcheck run`` asks for one.
- Builds. ``podman build`` needs ``--format docker`` to keep the HEALTHCHECK; Docker's ``build``
  is the legacy builder here (Engine 20.10, and no buildx beside the client).
- ``docker rm -f`` kills at once and has no ``-t``.
"""

import contextlib
import json
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[2]


class Engine:
    name: ClassVar[str]

    def __init__(self, env: dict[str, str], program: str | None = None) -> None:
        self.env = env
        self.program = program or self.name  # the client to run: found on PATH unless given

    def __repr__(self) -> str:
        return self.name

    def run(
        self, *args: str, check: bool = True, timeout: float = 600, **kw: object
    ) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            [self.program, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kw,  # type: ignore[call-overload]
        )
        if check and r.returncode != 0:
            raise AssertionError(f"{self.name} {' '.join(args[:3])} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r  # type: ignore[no-any-return]

    def exists(self, image: str) -> bool:
        return self.run("image", "inspect", image, check=False).returncode == 0

    def build(self, dockerfile: str, tag: str, *build_args: str, context: Path = ROOT) -> str:
        """``dockerfile`` (under ``context``) built as users build it, with the host's network for pip."""
        args = [arg for value in build_args for arg in ("--build-arg", value)]
        self.run(*self.build_flags, "-f", str(context / dockerfile), "-t", tag, *args, str(context), timeout=900)
        return tag

    build_flags: ClassVar[tuple[str, ...]]
    run_flags: ClassVar[tuple[str, ...]] = ()
    remove_flags: ClassVar[tuple[str, ...]] = ("-f",)

    def remove(self, name: str) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.run("rm", *self.remove_flags, name, check=False, timeout=60)

    def health(self, name: str) -> "Health":
        raise NotImplementedError


@dataclass
class Health:
    """One look at a container's health: its status and the results it has seen, oldest first."""

    status: str
    results: list[tuple[datetime, int]]  # (when the check started, its exit code)


class Podman(Engine):
    name = "podman"
    build_flags = ("build", "--format", "docker", "--network", "host", "--pull=never")
    remove_flags = ("-f", "-t", "0")

    def health(self, name: str) -> Health:
        """One check run now, as podman's timer would run it (podman has no daemon to run it)."""
        started = datetime.now().astimezone()
        code = self.run("healthcheck", "run", name, check=False).returncode
        return Health("healthy" if code == 0 else "unhealthy", [(started, code)])


class Docker(Engine):
    name = "docker"
    build_flags = ("build", "--network", "host")
    run_flags = ("--health-interval", "1s")

    def health(self, name: str) -> Health:
        """What the daemon's own checks found: ``.State.Health`` (the last five results)."""
        state: dict[str, Any] = json.loads(self.run("inspect", "--format", "{{json .State.Health}}", name).stdout)
        results = [(instant(entry["Start"]), int(entry["ExitCode"])) for entry in state.get("Log") or []]
        return Health(str(state["Status"]), results)


def instant(text: str) -> datetime:
    """Docker's RFC 3339 time, with up to nine decimals where Python reads six."""
    found = re.fullmatch(r"([^.]+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    assert found, f"not an RFC 3339 time: {text!r}"
    whole, fraction, zone = found.groups()
    return datetime.fromisoformat(f"{whole}.{(fraction or '')[:6].ljust(6, '0')}{'+00:00' if zone == 'Z' else zone}")
