"""Config gate: the named environment variables must be set and not empty.

Catches the commonest CI failure (a missing secret) with a message that names the variable,
instead of a stack trace from deep inside the app. A value of blanks only counts as not set: it
is what an empty template line (``SECRET_KEY= ``) leaves, and no app can use it. The failure is
final: a process's environment cannot change from outside, so retrying until the start-up
timeout would only delay the verdict.
"""

from supervisor.config.gatespec import GateSpec
from supervisor.core.reasons import ReasonClass
from supervisor.core.redaction import redact_text
from supervisor.kinds.base import GateFailure
from supervisor.pid1 import processes


async def check(spec: GateSpec) -> str | None:
    environ = processes.child_environ()  # what the app will see
    missing = [name for name in spec.variables if not environ.get(name, "").strip()]
    if missing:
        names = ", ".join(redact_text(name) for name in missing)
        raise GateFailure(
            f"not set or empty: {names} (the environment is fixed for the process's life: set it and restart)",
            ReasonClass.MISSING,
            final=True,
        )
    return None
