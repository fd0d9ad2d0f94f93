"""The kinds whose URL names no server: ``sqlite:``, ``cmd:`` and ``config:``, and their readers.

Their drivers import nothing heavy either, but they import anyio, sqlite3 and the process table,
which the settings have no use for; so their definitions live here, beside each other.
"""

import re
import shlex
from collections.abc import Mapping

from supervisor.core import cmdline
from supervisor.core.redaction import register, shorten
from supervisor.kinds.base import Kind
from supervisor.kinds.urls import UrlError, UrlParts, mask_unparsed, secrets_in_text

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_sqlite(url: str, _ports: Mapping[str, int]) -> UrlParts:
    path, _, query = url.partition(":")[2].partition("?")
    if not path.startswith("///") or len(path) <= 3:
        raise UrlError("expected sqlite:///relative/path.db or sqlite:////absolute/path.db")
    if query not in ("", "must_exist=true", "must_exist=false"):
        raise UrlError("the only sqlite: option is ?must_exist=true (the file must exist already)")
    return UrlParts(url, target=path[3:], must_exist=query == "must_exist=true")


def parse_cmd(url: str, _ports: Mapping[str, int]) -> UrlParts:
    try:
        argv = tuple(cmdline.split(url.partition(":")[2]))
    except ValueError as exc:
        raise UrlError(f"cannot split the command like a shell: {exc}") from None
    if not argv:
        raise UrlError("cmd: needs a command, e.g. cmd:python manage.py check --deploy")
    secrets = tuple(s for arg in argv for s in secrets_in_text(arg))
    return UrlParts("cmd:" + shlex.join(argv), secrets, argv=argv)


def parse_config(url: str, _ports: Mapping[str, int]) -> UrlParts:
    names = tuple(v.strip() for v in url.partition(":")[2].split(",") if v.strip())
    if not names:
        raise UrlError("config: needs variable names, e.g. config:SECRET_KEY,DATABASE_URL")
    bad = [n for n in names if not _VARIABLE.fullmatch(n)]
    if bad:  # config:DATABASE_URL=postgresql://u:pw@... : a URL where a name belongs
        register(s for b in bad for s in secrets_in_text(b))
        shown = ", ".join(repr(shorten(mask_unparsed(b), 40)) for b in bad)
        raise UrlError(
            f"config: takes environment variable names (letters, digits and _, not starting with a digit); "
            f"not one: {shown}"
        )
    return UrlParts(url, variables=names)


SQLITE = Kind("sqlite", ("sqlite",), "sqlite:///PATH", "supervisor.kinds.sqlite", parse_sqlite)
CMD = Kind("cmd", ("cmd",), "cmd:COMMAND", "supervisor.kinds.command", parse_cmd, startup_only=True, runs_command=True)
CONFIG = Kind("config", ("config",), "config:VAR1,VAR2", "supervisor.kinds.config", parse_config, startup_only=True)
