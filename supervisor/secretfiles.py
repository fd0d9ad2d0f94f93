"""Values read from files: the ``*_FILE`` convention of the official database images and of
Docker and Kubernetes secrets, which are mounted as files so that they stay out of the
environment (``docker inspect``, ``/proc/PID/environ``, crash reports).

A file's content never appears in a message: errors name the file, not what is in it.
"""

MAX_SIZE = 64 * 1024  # a URL or a password; anything larger is not the file that was meant


class SecretFileError(ValueError):
    """The file cannot be used; the message names the file and what to do."""


def read(path: str) -> str:
    """The file's text without surrounding whitespace (secrets files usually end in a newline)."""
    if "\x00" in path:
        raise SecretFileError("the file name holds a NUL byte")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SIZE + 1)
    except FileNotFoundError:
        raise SecretFileError(f"the file {path} does not exist; mount the secret there or fix the path") from None
    except IsADirectoryError:
        raise SecretFileError(f"{path} is a directory; give the file inside it") from None
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
