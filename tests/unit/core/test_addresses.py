"""``core/addresses``: a listen address as the server binds it, as a client reaches it and as a
URL names it (IPv6 in brackets), the same for ``commands/client``."""

import pytest

from supervisor.commands import client
from supervisor.core import addresses


@pytest.mark.parametrize(
    ("host", "bare", "reachable", "url"),
    [
        ("0.0.0.0", "0.0.0.0", "127.0.0.1", "127.0.0.1"),
        ("::", "::", "::1", "[::1]"),
        ("[::]", "::", "::1", "[::1]"),
        ("0:0::0", "0:0::0", "::1", "[::1]"),
        ("[::1]", "::1", "::1", "[::1]"),
        ("::1", "::1", "::1", "[::1]"),
        ("localhost", "localhost", "localhost", "localhost"),
        ("", "", "127.0.0.1", "127.0.0.1"),
    ],
)
def test_listen_addresses(host: str, bare: str, reachable: str, url: str) -> None:
    assert addresses.bare(host) == bare
    assert addresses.reachable(host) == reachable
    assert addresses.url_host(host) == url
    assert client.address(host, "8081") == (reachable, 8081)
