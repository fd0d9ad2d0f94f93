"""Allows ``python -m supervisor`` where the console script is not on PATH."""

from supervisor.console import main

main()
