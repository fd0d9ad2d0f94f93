"""Values read from files: the ``*_FILE`` convention of the official database images and of
Docker and Kubernetes secrets, which are mounted as files so that they stay out of the
environment (``docker inspect``, ``/proc/PID/environ``, crash reports).

A file's content never appears in a message: errors name the file, not what is in it.
"""

import errno
import os
import stat

MAX_SIZE = 64 * 1024  # a URL or a password; anything larger is not the file that was meant

_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


class SecretFileError(ValueError):
    """The file cannot be used; the message names the file and what to do."""


class NotRegularError(OSError):
    """The path names something other than a regular file; ``str(exc)`` says what it is."""


def read_regular(path: str, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``path`` (``limit + 1`` at most).

    Opened without blocking, then checked with ``fstat``: a plain ``open`` of a FIFO waits for a
    writer that may never come, and that wait would come before the health port listens. The
    check is on the opened file itself, so the path cannot be swapped in between.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "something else")
            raise NotRegularError(f"{path} is {kind}, not a regular file")
        chunks, size = [], 0
        while limit is None or size <= limit:
            chunk = os.read(fd, 65536 if limit is None else min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read(path: str) -> str:
    """The file's text without surrounding whitespace (secrets files usually end in a newline)."""
    if "\x00" in path:
        raise SecretFileError("the file name holds a NUL byte")
    try:
        data = read_regular(path, MAX_SIZE)
    except FileNotFoundError:
        raise SecretFileError(f"the file {path} does not exist; mount the secret there or fix the path") from None
    except IsADirectoryError:
        raise SecretFileError(f"{path} is a directory; give the file inside it") from None
    except NotRegularError as exc:
        raise SecretFileError(f"{exc}; give a file that holds the value") from None
    except OSError as exc:
        raise SecretFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SIZE:
        raise SecretFileError(f"{path} is larger than {MAX_SIZE // 1024} KB; it should hold one value")
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretFileError(f"{path} is not UTF-8 text") from None
    if not text:
        raise SecretFileError(f"{path} is empty")
    if "\x00" in text:
        raise SecretFileError(f"{path} holds a NUL byte")
    return text
