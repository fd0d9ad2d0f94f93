"""Log lines derived from state changes: one line per verdict change, not per attempt.

Attempts themselves are logged at debug level; a check flipping, the phase changing and the set of
checks holding readiness back changing are what an operator needs to read. Gates, pre-start tasks
and the app probe are logged alike, each named by its role.
"""

import re

from supervisor import logs
from supervisor.core.checks import CheckState, Role, Status
from supervisor.core.readiness import Phase, Snapshot, holding

log = logs.get()


def _gist(lines: tuple[str, ...]) -> tuple[str, ...]:
    """What a failure's lines say, without what changes at every attempt (times, PIDs, durations,
    addresses such as ``0x7f3a9c``, hashes, UUIDs): a new gist is news, a new timestamp is not."""
    return tuple(_CHANGING.sub("0", line) for line in lines)


_HEX = "[0-9a-f]"
_CHANGING = re.compile(
    rf"{_HEX}{{8}}(?:-{_HEX}{{4}}){{3}}-{_HEX}{{12}}"  # a UUID
    rf"|0x{_HEX}+"  # an address
    rf"|(?<![0-9a-z])(?=[a-f]*[0-9]){_HEX}{{6,}}(?![0-9a-z])"  # a hash, an id: hex with a digit
    r"|\d+",
    re.IGNORECASE,
)

RECENT = 4  # the reasons a failing check is remembered to have given, newest last


class ChangeLog:
    """Logs what changed between two snapshots (a ``StateStore`` listener). A check failing for
    one of the reasons it gave lately is no news: one that alternates between two (refused, then
    timed out, then refused again) logs each once, not once per attempt."""

    def __init__(self) -> None:
        self._recent: dict[str, list[tuple[str, ...]]] = {}

    def __call__(self, before: Snapshot, after: Snapshot) -> None:
        for new in after.checks:
            self._check_line(before.check(new.name), new)
        _phase_lines(before, after)

    def _news(self, state: CheckState) -> bool:
        """Whether this failure says something the check has not said lately; remembers it."""
        gist = _gist((state.reason, *state.output))
        recent = self._recent.setdefault(state.name, [])
        known = gist in recent
        if known:
            recent.remove(gist)
        recent.append(gist)
        del recent[:-RECENT]
        return not known

    def _check_line(self, old: CheckState | None, new: CheckState) -> None:
        # our words, shown as they are (logs.Shown): a password "gate" must not mask them
        took = logs.Shown(f"{(new.last_duration or 0) * 1000:.0f} ms")
        noun = logs.Shown(new.role.noun)
        extra: dict[str, object] = {"gate": new.name}
        if new.reason_class is not None:  # JSON logs carry it as a field of its own: "reason_class": "refused"
            extra["reason_class"] = logs.Shown(new.reason_class)  # our word: never masked
        if old is not None and new.attempts > old.attempts:
            log.debug(
                "%s %s attempt %d: %s (%s)",
                noun,
                new.name,
                new.attempts,
                logs.Shown(new.error_line or "passed"),  # masked where it was made, our words not
                took,
                extra=extra,
            )
        if new.status is not Status.FAIL:
            self._recent.pop(new.name, None)  # a failure after a pass is news whatever it says
        if old is not None and old.status is new.status:
            if new.status is Status.FAIL and new.name not in self._recent:
                self._news(old)  # a failure from before this log began
            if new.status is Status.FAIL and self._news(new):
                # still failing, for another reason (refused, then a login turned away), or with
                # other lines that say why: news, where a reason given lately is not
                if new.output:
                    extra["output"] = list(new.output)
                log.info("%s %s still failing: %s", noun, new.name, logs.Shown(new.reason), extra=extra)
            return
        if new.status is Status.PASS:
            log.info("%s %s passed after %d attempt(s) (%s)", noun, new.name, new.attempts, took, extra=extra)
        elif new.status is Status.FAIL:
            self._news(new)  # remembered: the same reason at the next attempt is no news
            level = log.warning if (old is not None and old.status is Status.PASS) else log.info
            note = "" if new.critical else " (non-critical)"
            if new.output:
                extra["output"] = list(new.output)  # JSON: a field; text: the lines beneath the message
            level("%s %s failing: %s%s", noun, new.name, logs.Shown(new.reason), note, extra=extra)


def _degraded_by(snapshot: Snapshot) -> tuple[CheckState, ...]:
    """The checks that keep a degraded supervisor degraded. An app probe with no verdict yet is
    none of them: it is pending by design until the app has been spawned and first answers."""
    return tuple(c for c in holding(snapshot.checks) if not (c.role is Role.APP_PROBE and c.status is Status.PENDING))


def _phase_lines(before: Snapshot, after: Snapshot) -> None:
    if before.phase is not after.phase:
        log.info("phase %s -> %s", before.phase, after.phase, extra={"phase": logs.Shown(after.phase)})
    if after.phase is Phase.DEGRADED:
        now_failing = _degraded_by(after)
        if before.phase is not Phase.DEGRADED or [c.name for c in _degraded_by(before)] != [
            c.name for c in now_failing
        ]:
            if now_failing:
                reasons = "; ".join(f"{c.name}: {c.reason}" for c in now_failing)
                log.warning("degraded: not ready because %s", logs.Shown(reasons))
            elif after.child.status.value == "not-started":
                log.warning("degraded: every critical check passes now; starting the app")
