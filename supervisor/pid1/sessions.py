"""The sessions the app and the tasks run in, and what is left in them: found by one pass over
``/proc``, signalled as a whole (the session's own group, and each member that moved to a group
of its own).

A process table stops a session only when nothing is left in it, so a worker that outlives its
parent is stopped too; this module only finds and signals, the table decides when.
"""

import contextlib
import os
from collections.abc import Collection, Sequence


def _group_exists(pgid: int) -> bool:
    """The kernel's word alone (zombies count): the fallback when ``/proc`` cannot be read."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal (setuid): there, but out of our reach
        return True
    return True


def _processes() -> list[tuple[int, bytes, int]] | None:
    """(pid, state, session) of every process but ours, from one pass over ``/proc``; None when
    ``/proc`` cannot be read (out of descriptors, say)."""
    found: list[tuple[int, bytes, int]] = []
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rpartition(b")")[2].split()
        except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
            continue
        except OSError:
            return None
        if len(fields) > 3:
            found.append((int(entry), fields[0], int(fields[3])))
    return found


def session_members(sessions: Collection[int]) -> dict[int, list[int]] | None:
    """The live processes (zombies left out) of each of ``sessions``, from one pass over ``/proc``;
    None when ``/proc`` cannot be read.

    By session, not by process group: a process that moved to a group of its own with
    ``setpgid`` is still in the app's session, and only ``setsid`` takes it out of reach. Zombies
    are left out because they only wait for whoever reaps them (us as PID 1, or an init that may
    take its time), and one pass serves every session, so the cost does not grow with their number.
    """
    processes = _processes()
    if processes is None:
        return None
    found: dict[int, list[int]] = {sid: [] for sid in sessions}
    for pid, state, sid in processes:
        members = found.get(sid)
        if members is not None and state != b"Z":
            members.append(pid)
    return found


def stopped_members(sid: int) -> list[int]:
    """The members of session ``sid`` stopped by a signal (SIGSTOP, SIGTSTP) or a tracer: a stop
    signal stays pending there, so a graceful stop cannot work. Blocking: call it off the loop."""
    return [pid for pid, state, session in _processes() or () if session == sid and state in (b"T", b"t")]


def signal(sid: int, members: Sequence[int], signum: int) -> None:
    """``signum`` to the session's own group, and to each member found in another group."""
    with contextlib.suppress(OSError):
        os.killpg(sid, signum)
    for pid in members:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)


def live(sessions: Collection[int]) -> dict[int, list[int]]:
    """The sessions that still have live members, with them; where ``/proc`` cannot be read,
    those whose own group still exists (the kernel's word, zombies counted), members unknown."""
    members = session_members(sessions)
    if members is None:  # /proc unreadable: the sessions' own groups, by the kernel's word
        return {sid: [] for sid in sessions if _group_exists(sid)}
    return {sid: found for sid, found in members.items() if found}
