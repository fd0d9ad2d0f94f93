"""What the supervisor's own start-up leaves out, in a fresh interpreter as the console script
runs it: each module kept out here is CPU every container start would pay (bench/ready_cpu.py)."""

import inspect
import subprocess
import sys

from pydantic.plugin import _schema_validator


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


_LOAD = "from supervisor.config.settings import load_config; load_config(environ={}); "


def test_the_console_script_builds_the_models_without_scanning_package_metadata() -> None:
    out = _fresh(
        "import sys; from supervisor.cli import _without_pydantic_plugins; _without_pydantic_plugins(); "
        + _LOAD
        + "print(sorted(m for m in ('importlib.metadata', 'tomllib') if m in sys.modules))"
    )
    assert out == "[]"


def test_a_caller_that_imports_the_configuration_keeps_its_pydantic_plugins() -> None:
    """Only the console script replaces the loader: an app or a test that loads a configuration
    in its own process keeps pydantic as it found it."""
    out = _fresh("import sys; " + _LOAD + "print(getattr(sys.modules['pydantic.plugin._loader'], '__file__', None))")
    assert out.endswith("_loader.py")


def test_pydantic_still_finds_its_plugins_through_the_module_that_is_replaced() -> None:
    """If pydantic moves its plugin loader, the replacement silently stops saving anything: this
    says so, and ``cli._without_pydantic_plugins`` must follow it."""
    assert "from ._loader import get_plugins" in inspect.getsource(_schema_validator.create_schema_validator)
