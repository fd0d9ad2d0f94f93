"""container-supervisor: a PID 1 health supervisor for Python web containers.

The packages are its layers, each importing only from those below: ``core`` (pure decisions:
check state, readiness phases, the start-up graph, backoff), ``pid1`` (processes, reaping,
signals), ``kinds`` (one module per kind of gate), ``config`` (what to check), ``runtime`` (the
engine, start-up, the app's lifecycle, stopping), ``health`` (the endpoints) and ``commands``;
``cli`` parses and dispatches. ``docs/design.md`` names every module.
"""

__version__ = "0.1.0"
