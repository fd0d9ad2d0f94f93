"""What the supervisor knows about gunicorn, in one place.

gunicorn is the app server we are built in front of, so a few of its conventions are worth
knowing: its ``--bind`` address is where the app will answer (the default app probe), exit codes
3 and 4 mean a worker or the app failed to load, and USR2 re-executes the master as a child of
the old one, which a supervisor that follows the master it started cannot follow. Its daemon
mode (``--daemon``) forks the master away and exits 0 at once: the supervisor would take that
for the app's exit and leave the daemon serving without a parent, so it is refused up front.
"""

import ast
import os
import shlex
import signal
from collections.abc import Mapping

from supervisor.config.secretfiles import read_regular
from supervisor.core import cmdline
from supervisor.core.addresses import reachable
from supervisor.core.redaction import redact_text

EXIT_CODES = {3: "gunicorn: worker boot error", 4: "gunicorn: app load error"}

USR2_WARNING = (
    "gunicorn's USR2 re-exec is not supported: the supervisor follows the master it started; use HUP to reload"
)


def args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """gunicorn's own arguments when ``argv`` runs gunicorn (``gunicorn ...`` or
    ``python -m gunicorn ...``), else None."""
    first = argv[0].rsplit("/", 1)[-1] if argv else ""
    if first == "gunicorn":
        return argv[1:]
    if first.startswith("python") and argv[1:3] == ("-m", "gunicorn"):
        return argv[3:]
    return None


def bind_probe(argv: tuple[str, ...], *, http: bool = False) -> str | None:
    """``tcp://host:port`` of gunicorn's first ``--bind``/``-b`` when given as host:port, or
    ``http://host:port/`` with ``http``.

    Wildcard addresses are probed on loopback, which is where the supervisor can reach them.
    """
    bind = next(iter(binds(argv)), None)
    if bind is None or bind.startswith(("unix:", "fd://")) or "/" in bind:
        return None
    host, sep, port = bind.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()):
        return None
    host = reachable(host)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"http://{address}/" if http else f"tcp://{address}"


def serves_tls(argv: tuple[str, ...]) -> bool:
    """gunicorn started with ``--certfile`` (its own TLS): a probe in plain HTTP gets no answer."""
    own = args(argv) or ()
    return any(a == "--certfile" or a.startswith("--certfile=") for a in own)


def binds(argv: tuple[str, ...]) -> list[str]:
    """Every ``--bind``/``-b`` value when ``argv`` runs gunicorn, as written."""
    found: list[str] = []
    own = args(argv) or ()
    for i, arg in enumerate(own):
        if arg == "--":
            break
        if arg in ("-b", "--bind") and i + 1 < len(own):
            found.append(own[i + 1])
        elif arg.startswith("--bind="):
            found.append(arg.split("=", 1)[1])
        elif arg.startswith("-b") and len(arg) > 2:
            found.append(arg[2:])
    return found


def reuse_port(argv: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    """Where ``--reuse-port`` is asked for (gunicorn 24+ then binds fresh sockets in each worker
    and ignores inherited ones), in words for an error line; None when it is not."""
    for where, words in (("gunicorn", args(argv) or ()), ("GUNICORN_CMD_ARGS", None)):
        if words is None:
            try:
                words = tuple(cmdline.split(environ.get("GUNICORN_CMD_ARGS", "")))
            except ValueError:
                continue
        if any(w == "--reuse-port" or w.startswith("--reuse-port=") for w in words):
            return f"{where} --reuse-port"
    return None


def explain_exit(code: int, argv: tuple[str, ...]) -> str:
    """What gunicorn means by ``code``, when ``argv`` runs gunicorn and the code is one of its own."""
    if code in EXIT_CODES and args(argv) is not None:
        return f" ({EXIT_CODES[code]})"
    return ""


def warning_for_signal(signum: int, argv: tuple[str, ...]) -> str | None:
    """A warning to log when ``signum`` is forwarded to gunicorn and will not do what was meant."""
    if signum == signal.SIGUSR2 and args(argv) is not None:
        return USR2_WARNING
    return None


_NO_VALUE_SHORT = "DRvh"  # gunicorn's short flags that take no value (-D, -R, -v, -h)
DEFAULT_CONFIG = "gunicorn.conf.py"  # read from the working directory when no -c is given


def _daemon_flag(own: tuple[str, ...] | list[str]) -> tuple[str | None, list[str]]:
    """The daemon flag among gunicorn arguments as written, as argparse reads them (``--da`` is
    ``--daemon``; ``-RD`` and ``-Dw4`` hold ``-D``, ``-wD`` does not), and the config files named
    by ``-c``/``--config``."""
    flag: str | None = None
    configs: list[str] = []
    for i, arg in enumerate(own):
        if arg == "--":
            break
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if len(name) >= 4 and "--daemon".startswith(name) and not eq:
                flag = flag or arg
            elif name == "--config":
                configs += [value] if eq else list(own[i + 1 : i + 2])
        elif arg.startswith("-") and len(arg) > 1:
            for j, c in enumerate(arg[1:], 1):
                if c == "D":
                    flag = flag or arg
                if c == "c":
                    configs += [arg[j + 1 :]] if arg[j + 1 :] else list(own[i + 1 : i + 2])
                if c not in _NO_VALUE_SHORT:
                    break  # the rest of the word is this flag's value
    return flag, configs


def _daemon_in_file(path: str) -> bool:
    """Whether the gunicorn config file sets ``daemon`` to a true constant. The file is parsed,
    never run: running it belongs to gunicorn, with the app's environment."""
    try:
        tree = ast.parse(read_regular(path, 1 << 20))
    except (OSError, SyntaxError, ValueError):
        return False  # gunicorn reports an unreadable config file itself
    value: ast.expr | None
    daemon = False  # the last assignment wins, as when the file runs
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "daemon" for t in targets) and isinstance(value, ast.Constant):
            daemon = bool(value.value)
    return daemon


def daemon_mode(argv: tuple[str, ...], environ: Mapping[str, str], cwd: str = ".") -> str | None:
    """Where daemon mode is asked for when ``argv`` runs gunicorn (its arguments, ``GUNICORN_CMD_ARGS``
    or its config file), in words for an error line; None when it is not."""
    own = args(argv)
    if own is None:
        return None
    flag, configs = _daemon_flag(own)
    if flag is not None:
        return f"gunicorn {redact_text(flag)}"  # the pieces from outside masked, our words not
    env_args = environ.get("GUNICORN_CMD_ARGS", "")
    try:
        env_flag, env_configs = _daemon_flag(cmdline.split(env_args))
    except ValueError:
        env_flag, env_configs = None, []
    if env_flag is not None:
        return f"GUNICORN_CMD_ARGS={shlex.quote(redact_text(env_args))}"
    configs = configs or env_configs or [DEFAULT_CONFIG]
    for config in configs:
        if config.startswith("python:"):
            continue
        path = os.path.join(cwd, config)
        if _daemon_in_file(path):
            return f"daemon = True in gunicorn's config file {redact_text(config)}"
    return None
