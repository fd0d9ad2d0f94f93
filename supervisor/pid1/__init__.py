"""What an init does: spawn and reap processes, forward signals, mind the fd limit.

Below both the gate kinds (``cmd:`` and ``config:`` spawn processes) and the runtime."""
