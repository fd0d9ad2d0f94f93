"""The console script ``supervisor``: a plain ``probe`` at once, everything else through ``cli``.

``probe`` runs every few seconds for a container's whole life; importing the command line (its
argparse, logging and signal handling) would cost it more than Python's own start-up.
"""

import sys


def main() -> None:
    if sys.argv[1:2] == ["probe"]:
        from supervisor.commands import probe

        code = probe.main(sys.argv[2:])
        if code is not None:
            sys.exit(code)  # buffers flushed; the probe starts no thread
    from supervisor.cli import entry

    entry()
