"""A minimal WSGI app for trying the supervisor: it serves what it finds in its SQLite database.

Run by README's first command through ``examples/supervisor.toml``.
"""

import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DATABASE = os.environ.get("EXAMPLE_DATABASE", str(Path(__file__).with_name("example.db")))


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    with sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True) as conn:
        (greeting,) = conn.execute("SELECT text FROM greeting LIMIT 1").fetchone()
    body = json.dumps({"greeting": greeting, "path": environ.get("PATH_INFO", "/")}).encode() + b"\n"
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
