"""The smallest WSGI app for integration tests.

``/slow?s=N&mark=PATH`` touches PATH (when given) as the request starts, then sleeps N seconds:
a test can tell a request is in flight without guessing.
"""

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = b"hello\n"
    if environ.get("PATH_INFO") == "/slow":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "mark" in query:
            Path(query["mark"][0]).touch()
        time.sleep(float(query.get("s", ["1"])[0]))  # pacing: the slow request a drain test keeps in flight
        body = b"slow hello\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
