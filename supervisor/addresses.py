"""Where to reach a listener from inside the container: a wildcard listen address (``0.0.0.0``,
``::``) is reached on loopback. Standard library only: ``probe`` imports it on every run."""

_WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def reachable(host: str) -> str:
    """``host`` without brackets, a wildcard replaced by the loopback address of its family."""
    bare = host.strip().strip("[]")
    return _WILDCARDS.get(bare, bare)
