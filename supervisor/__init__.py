"""container-supervisor: a PID 1 health supervisor for Python web containers.

The package is split the way the work is split: settings decide *what* to check, the gate engine
checks it, the health server reports it, and the child module runs the app. The pure pieces
(``backoff``, ``gatestate``, ``readiness``) hold every decision so they can be tested without I/O.
"""

__version__ = "0.1.0"
