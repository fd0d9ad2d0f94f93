"""Gate URLs: the scheme picks the driver, the rest says what to check.

Parsing happens once, at configuration time, so that a typo is a configuration error (exit 78)
instead of a gate that fails forever.
"""

import ipaddress
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from supervisor.config import secretfiles
from supervisor.core import interpolation
from supervisor.core.redaction import MASK, redact_text, register
from supervisor.kinds import registry, urls
from supervisor.kinds.base import Kind


class GateUrlError(ValueError):
    """The URL is not one we can check; the message says what is accepted, and holds no secret."""


@dataclass(frozen=True)
class GateSpec:
    """One configured check, fully validated."""

    name: str
    kind: str
    url: str = field(repr=False)  # may hold a password: never print it, use ``display``
    display: str
    timeout: float = 5.0
    critical: bool = True
    startup_only: bool = False
    failure_threshold: int = 1
    host: str = ""
    port: int = 0
    lookups: tuple[str, ...] = ()  # host names to resolve before each attempt (not IPs, not sockets)
    path: str = ""  # sqlite: the file; http: the request target
    argv: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    must_exist: bool = False  # sqlite: the file must exist (else a missing file in a writable directory passes)
    skipped_because: str | None = None  # ONLY_IF_SET names a variable that is not set: never checked
    unresolved: str | None = None  # `config` only: why the URL cannot be known here (a variable unset)
    after: tuple[str, ...] = ()  # check names to wait for before the first attempt (the graph's)
    scheme: str = ""  # as written, lowercase: http or https, mysql or amqp...
    # what the kind's reader found for the driver (libpq's conninfo, the HTTP Host header...):
    # may hold a password, like ``url``
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)


@dataclass(frozen=True)
class ParsedUrl:
    kind: str
    display: str
    secrets: tuple[str, ...] = ()
    host: str = ""
    port: int = 0
    lookups: tuple[str, ...] = ()
    path: str = ""
    argv: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    must_exist: bool = False
    options: Mapping[str, str] = field(default_factory=dict, repr=False)


def _parsed(kind: registry.Kind, parts: urls.UrlParts) -> ParsedUrl:
    named = parts.hosts if parts.resolve else ()  # a socket directory or an IP needs no lookup
    return ParsedUrl(
        kind.name,
        parts.display,
        parts.secrets,
        host=parts.host,
        port=parts.port or 0,
        lookups=tuple(dict.fromkeys(h for h in named if h and needs_lookup(h))),
        path=parts.target,
        argv=parts.argv,
        variables=parts.variables,
        must_exist=parts.must_exist,
        options=parts.options,
    )


def needs_lookup(host: str) -> bool:
    if host.startswith(("/", "@")):
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return True
    return False


def parse_gate_url(url: str) -> ParsedUrl:
    """Validate ``url`` (already resolved from ``env:``) and split out what its driver needs.

    Raises ``GateUrlError``; the secrets of a rejected URL are registered first, so that any
    line that shows it can mask them.
    """
    try:
        return _parse(url)
    except urls.UrlError as exc:
        register([*urls.liberal_secrets(url)[0], *urls.rejected_secrets(exc), *urls.secrets_in_text(url)])
        raise GateUrlError(str(exc)) from None


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}")


def _parse(url: str) -> ParsedUrl:
    if "\x00" in url:
        raise urls.UrlError("the URL holds a NUL byte")
    scheme, sep, rest = url.partition(":")
    kind = registry.by_scheme(scheme) if sep else None
    if kind is None:
        found = f" {scheme.lower()}://" if rest.startswith("//") and _SCHEME.fullmatch(scheme) else ""
        raise urls.UrlError(
            f"unknown gate URL scheme{found}; accepted: {registry.ACCEPTED_URLS}; for another service, "
            "tcp://HOST:PORT checks that it listens and a cmd: gate can run its own client"
        )
    return _parsed(kind, kind.parse(url))


def resolve_env_url(url: str, environ: Mapping[str, str]) -> str:
    """``env:VAR`` is the URL held by ``VAR`` (the app's own setting, reused), or by the file that
    ``VAR_FILE`` names (the official images' convention for secrets); other URLs as they are."""
    if not url.startswith("env:"):
        return url
    var = url[4:].strip()
    if not var:
        raise GateUrlError("env: needs a variable name, e.g. env:DATABASE_URL")
    value, from_file = environ.get(var, ""), environ.get(var + "_FILE", "")
    value, from_file = (v if v.strip() else "" for v in (value, from_file))  # whitespace is not set
    if value and from_file:
        raise GateUrlError(f"env:{var} but both {var} and {var}_FILE are set; keep one")
    if from_file:
        try:
            value = secretfiles.read(from_file)
        except secretfiles.SecretFileError as exc:
            raise GateUrlError(f"env:{var} reads {var}_FILE, but {exc}") from None
    if not value:
        raise UnsetInUrl(
            f"env:{var} but {var} is not set or empty; set {var} (or {var}_FILE) or give the URL itself", var
        )
    if value.startswith("env:"):
        raise GateUrlError(f"env:{var} points at another env: reference; give a URL")
    return value


class UnsetInUrl(GateUrlError):
    """A ``${VAR}`` in the URL names a variable that is not set (and has no default)."""

    def __init__(self, message: str, variable: str) -> None:
        super().__init__(message)
        self.variable = variable


def expand_url(url: str, environ: Mapping[str, str]) -> str:
    """``${VAR}`` and its Compose forms expanded in a gate URL as written in the settings
    (``interpolation``). ``env:`` references and ``cmd:`` commands are not: an ``env:`` variable
    holds the URL itself, and a command's ``$`` is for the shell it may run."""
    if url.startswith(("env:", "cmd:")) or not interpolation.has_references(url):
        return url
    try:
        expanded = interpolation.expand(url, environ, userinfo=interpolation.userinfo_of(url))
    except interpolation.UnsetVariable as exc:
        raise UnsetInUrl(str(exc), exc.name) from None
    except interpolation.InterpolationError as exc:
        raise GateUrlError(str(exc)) from None
    register(expanded.passwords)  # a value put where the password goes is one
    return expanded.text


def env_file_variable(url: str, environ: Mapping[str, str]) -> str | None:
    """``VAR`` when ``url`` is ``env:VAR`` and its value comes from ``VAR_FILE``, else None."""
    if not url.startswith("env:"):
        return None
    var = url[4:].strip()
    return var if var and not environ.get(var, "").strip() and environ.get(var + "_FILE", "").strip() else None


def build_gate(
    name: str,
    url: str,
    *,
    timeout: float,
    critical: bool,
    startup_only: bool | None,
    failure_threshold: int,
) -> GateSpec:
    url = registry.canonical_url(url)  # postgis://, postgresql+psycopg://: PostgreSQL under our name
    parsed = parse_gate_url(url)
    register(parsed.secrets)
    scheme = url.partition(":")[0].lower()
    default_startup_only = registry.get(parsed.kind).startup_only
    return GateSpec(
        name=name,
        kind=parsed.kind,
        url=url,
        # a command is shown word by word, each masked on its own (``shown_command``)
        display=f"{scheme}:{shown_command(parsed.argv)}" if parsed.argv else parsed.display,
        timeout=timeout,
        critical=critical,
        startup_only=default_startup_only if startup_only is None else startup_only,
        failure_threshold=failure_threshold,
        host=parsed.host,
        port=parsed.port,
        lookups=parsed.lookups,
        path=parsed.path,
        argv=parsed.argv,
        variables=parsed.variables,
        must_exist=parsed.must_exist,
        scheme=scheme,
        options=MappingProxyType(dict(parsed.options)),
    )


def shown_word(arg: str) -> str:
    """One command-line word as it may be shown: masked as a whole value first (a secret with a
    quote in it must not be split by quoting), then quoted only if the word needs it."""
    masked = redact_text(arg)
    probe = masked.replace(MASK, "_")
    return masked if probe and shlex.quote(probe) == probe else shlex.quote(masked)


def shown_command(argv: Sequence[str]) -> str:
    """A command line as it may be shown: each word masked on its own, then joined (masking the
    joined line could mask a word of ours, such as the ``cmd:`` in front)."""
    return " ".join(shown_word(arg) for arg in argv)


def kind_of(gate: GateSpec) -> Kind | None:
    """What configuration does for a gate follows its kind's attributes, never its name; a gate
    skipped before its URL could be known (``env:VAR``, ``skipped_gate``) has no kind."""
    return registry.find(gate.kind)


def shown_form(gate: GateSpec) -> GateSpec:
    """``gate`` with its shown form masked, once every secret is registered: a command word by
    word behind its scheme (``cmd:``), anything else masked whole."""
    kind = kind_of(gate)
    if kind is not None and kind.runs_command:
        return replace(gate, display=f"{gate.scheme}:{shown_command(gate.argv)}")
    return replace(gate, display=redact_text(gate.display))


def skipped_gate(
    name: str,
    url: str,
    variable: str,
    *,
    timeout: float,
    critical: bool,
    startup_only: bool | None,
    failure_threshold: int,
) -> GateSpec:
    """A gate skipped by ONLY_IF_SET whose URL cannot be known: an ``env:VAR`` whose variable
    is not set either (with ``ONLY_IF_SET=VAR``, the usual case, that is no error). Any other
    skipped gate is built in full (``build_gate``) and marked skipped."""
    return GateSpec(
        name=name,
        kind="env",
        url=url,
        display=url,
        timeout=timeout,
        critical=critical,
        startup_only=bool(startup_only),
        failure_threshold=failure_threshold,
        skipped_because=skip_reason(variable),
    )


def skip_reason(variable: str) -> str:
    return f"{variable} is not set"
