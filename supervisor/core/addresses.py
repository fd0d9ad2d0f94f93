"""Where to reach a listener from inside the container: a wildcard listen address (``0.0.0.0``,
``::``) is reached on loopback. Standard library only: ``probe`` imports it on every run."""


def bare(host: str) -> str:
    """``host`` as a socket takes it: an IPv6 address without its URL brackets (``[::1]`` is
    ``::1``), so that a bracketed address means the same to ``run``, ``probe`` and ``config``."""
    host = host.strip()
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def wildcard_family(host: str) -> int | None:
    """4 or 6 when ``host`` is the "any" address of that family (``0.0.0.0``, ``::``, ``[::]``,
    ``::0``...), else None."""
    host = bare(host)
    if not host or not set(host) <= set("0:."):  # only zeros spell "any": skip the import for the rest
        return None
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return address.version if address.is_unspecified else None


def reachable(host: str) -> str:
    """``host`` without brackets, a wildcard replaced by the loopback address of its family."""
    family = wildcard_family(host)
    if family is not None or not bare(host):
        return "::1" if family == 6 else "127.0.0.1"
    return bare(host)


def url_host(host: str) -> str:
    """``reachable(host)`` as it goes into a URL: an IPv6 address in brackets (``[::1]``)."""
    shown = reachable(host)
    return f"[{shown}]" if ":" in shown else shown
