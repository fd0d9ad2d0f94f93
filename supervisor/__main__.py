"""Allows ``python -m supervisor`` where the console script is not on PATH."""

from supervisor.cli import entry

entry()
