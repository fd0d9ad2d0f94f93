"""The supervisor's own logs on stderr: JSON lines for log collectors, text for humans, written
by a thread of their own so that a stalled stderr never holds up the event loop (``LineWriter``).

Every record passes through redaction, whatever logger produced it, so a driver echoing a DSN
cannot leak a password. The app's output is not touched: it is inherited, never relayed.
"""

import contextlib
import enum
import json
import logging
import numbers
import os
import queue
import select
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from supervisor.core.redaction import redact_text

LOGGER_NAME = "supervisor"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class Shown(str):
    """A text fit to be shown as it is: its pieces from outside are masked already and the words
    around them are ours (a check's reason, ``exit status 3: ***``). The log filter passes it
    untouched, where masking it again would mask our words; anything made from it (an f-string,
    a slice) is a plain ``str`` again, masked as any other."""

    __slots__ = ()


class _MaskedObject:
    """A log argument that is neither text nor a number (an exception, a path): rendered by
    ``%s`` or ``%r`` as the object renders itself, masked."""

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        self._value = value

    def __str__(self) -> str:
        return redact_text(str(self._value))

    def __repr__(self) -> str:
        return redact_text(repr(self._value))


def _masked_arg(value: object) -> object:
    if isinstance(value, Shown | enum.Enum | numbers.Number) or value is None:
        return value  # ours (an enum's name: a phase, a signal); a number stays one, for %d and %.1f
    if isinstance(value, str):
        return redact_text(value)  # masked whole, before %r quotes it
    return _MaskedObject(value)


class RedactingFilter(logging.Filter):
    """Masks every record: with arguments, each argument (text from outside) and not the template
    (our words); without, the whole message, which may be a line composed elsewhere. After it,
    ``record.msg`` is the final message and ``record.args`` is None."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if args:
            if not isinstance(record.msg, str):  # an object logged as the template: text from outside
                record.msg = redact_text(str(record.msg))
            if isinstance(args, Mapping):  # log.info("%(name)s", {"name": ...})
                record.args = {key: _masked_arg(value) for key, value in args.items()}
            else:
                record.args = tuple(_masked_arg(value) for value in args)
            record.msg = record.getMessage()
        else:
            record.msg = redact_text(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str) and not isinstance(value, Shown):
                setattr(record, key, redact_text(value))
            elif key not in _STANDARD and isinstance(value, list):  # lines of output
                setattr(record, key, [v if isinstance(v, Shown) else redact_text(str(v)) for v in value])
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}"
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        output = fields.pop("output", None)  # lines a failure printed: beneath the message
        extras = " ".join(f"{k}={v}" for k, v in fields.items())
        line = f"{stamp} {record.levelname:<7} {record.getMessage()}"
        if extras:
            line += f"  [{extras}]"
        if isinstance(output, list):
            line += "".join(f"\n    | {text}" for text in output)
        if record.exc_info:
            line += "\n" + redact_text(self.formatException(record.exc_info))
        return line


CAPACITY = 4096  # lines waiting for stderr; past that, new lines are counted and dropped
DRAIN_TIMEOUT = 2.0  # seconds the waiting lines get at exit, at most
STALLED = 0.25  # seconds without one line written after which the drain at exit gives up


class LineWriter:
    """The only writer of the supervisor's log lines, on a thread of its own.

    stderr is a pipe that can stop taking data for minutes (a Docker log driver whose fluentd is
    down, Ctrl-S on a terminal). A write that blocks on the event loop freezes /healthz and every
    signal with it, so nothing on the loop ever writes: a log call formats its line (CPU only)
    and puts it in a bounded queue. When the queue is full the line is dropped and counted, and
    the count is written as soon as stderr takes lines again. At exit, waiting lines get
    ``DRAIN_TIMEOUT`` at most, and ``STALLED`` at most once stderr stops taking them.
    """

    def __init__(self, stream: TextIO, notice: Callable[[int], str], capacity: int = CAPACITY) -> None:
        self._stream = stream
        try:
            self._fd: int | None = stream.fileno()
        except (OSError, ValueError):  # io.UnsupportedOperation: an in-process caller's stream
            self._fd = None
        self._notice = notice
        self._queue: queue.Queue[str | None] = queue.Queue(capacity)
        self._lock = threading.Lock()
        self._dropped = 0
        self.dropped_total = 0
        self._closing = False
        self._written = 0  # lines out so far: progress, for the drain at exit
        self._thread = threading.Thread(target=self._run, name="supervisor log writer", daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        try:
            self._queue.put_nowait(line)
        except queue.Full:
            with self._lock:
                self._dropped += 1
                self.dropped_total += 1

    def close(self, timeout: float = DRAIN_TIMEOUT, stalled: float = STALLED) -> bool:
        """Let the waiting lines out for ``timeout`` at most, and for ``stalled`` at most after
        the last line that got out (a pipe nobody reads costs a fraction of a second, not the
        whole timeout); True when all of them did."""
        self._closing = True
        with contextlib.suppress(queue.Full):  # a full queue: the thread looks at the flag anyway
            self._queue.put_nowait(None)
        deadline = time.monotonic() + timeout
        while self._thread.is_alive():
            written = self._written
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._thread.join(min(stalled, left))
            if self._written == written:  # not one line out meanwhile: stderr is not taking any
                break
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            line = self._queue.get()
            if line is not None:
                self._write(line + "\n")
                self._written += 1
            with self._lock:
                dropped, self._dropped = self._dropped, 0
            if dropped:
                self._write(self._notice(dropped) + "\n")
            if self._closing and self._queue.empty():
                return

    def _write(self, text: str) -> None:
        if self._fd is None:
            with contextlib.suppress(OSError, ValueError):
                self._stream.write(text)
                self._stream.flush()
            return
        data = text.encode("utf-8", "backslashreplace")
        while data:
            try:
                data = data[os.write(self._fd, data) :]
            except BlockingIOError:  # a descriptor someone else made non-blocking: wait here
                select.select([], [self._fd], [], 1.0)
            except InterruptedError:
                continue
            except OSError:  # closed, broken, full disk: the line cannot be written anywhere
                return


_writer: LineWriter | None = None


class _QueueHandler(logging.Handler):
    """Formats on the caller's thread (redaction included), hands the line to the writer."""

    def __init__(self, writer: LineWriter) -> None:
        super().__init__()
        self._writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._writer.put(line)


def setup(level: str = "info", fmt: str | None = None) -> logging.Logger:
    """Configure the root handler once; ``fmt=None`` picks json unless stderr is a terminal.

    Everything that would otherwise write to stderr by itself goes through the same queue:
    warnings, exceptions nobody could raise (``sys.unraisablehook``), exceptions in threads.
    """
    global _writer
    if fmt is None:
        fmt = "text" if sys.stderr.isatty() else "json"
    formatter = JsonFormatter() if fmt == "json" else TextFormatter()

    def notice(dropped: int) -> str:
        record = logging.LogRecord(
            f"{LOGGER_NAME}.logs",
            logging.WARNING,
            __file__,
            0,
            "%d log line(s) dropped: stderr did not take them in time",
            (dropped,),
            None,
        )
        return formatter.format(record)

    close()
    _writer = LineWriter(sys.stderr, notice)
    handler = _QueueHandler(_writer)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # third-party libraries: only what matters
    logging.captureWarnings(True)
    sys.unraisablehook = _log_unraisable
    threading.excepthook = _log_thread_exception
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level.upper())
    return logger


def _log_unraisable(unraisable: "sys.UnraisableHookArgs") -> None:
    exc = unraisable.exc_value
    info = (type(exc), exc, unraisable.exc_traceback) if exc is not None else None
    get().warning("exception ignored in %r: %s", unraisable.object, unraisable.err_msg or "", exc_info=info)


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc = args.exc_value if args.exc_value is not None else args.exc_type()
    get().error("exception in thread %s", name, exc_info=(args.exc_type, exc, args.exc_traceback))


def close(timeout: float = DRAIN_TIMEOUT) -> None:
    """At exit: the waiting lines get ``timeout`` at most, never an unbounded wait."""
    global _writer
    if _writer is not None:
        _writer.close(timeout)
        _writer = None


def dropped_lines() -> int:
    return _writer.dropped_total if _writer is not None else 0


def get(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)
