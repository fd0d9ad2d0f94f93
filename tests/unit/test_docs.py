"""The docs must describe what the code does: every setting and every exit code is documented,
and every test the reliability matrix names exists."""

import argparse
import re
from pathlib import Path

from supervisor import exitcodes
from supervisor.config.settings import GateSettings, Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`SUPERVISOR_{name.upper()}`" in text, name
    for name in GateSettings.model_fields:
        if name != "url":
            assert f"`SUPERVISOR_GATE_<NAME>__{name.upper()}`" in text, name


def test_every_exit_code_is_documented() -> None:
    text = (DOCS / "exit-codes.md").read_text()
    for name in dir(exitcodes):
        value = getattr(exitcodes, name)
        if name.isupper() and isinstance(value, int):
            assert f"| {value} |" in text, name


def test_every_test_named_in_the_reliability_matrix_exists() -> None:
    text = (DOCS / "reliability.md").read_text()
    tests = DOCS.parent / "tests"
    named = re.findall(r"`((?:integration|unit)/[a-z0-9_/]+\.py)(?:::([A-Za-z0-9_*]+))?`", text)
    assert len(named) > 20
    for path, name in named:
        source = (tests / path).read_text()
        if name:
            assert re.search(rf"(?:def|class) {name.replace('*', '.*')}[(:]", source), (path, name)
    everywhere = "".join(p.read_text() for p in tests.rglob("test_*.py"))
    for name in re.findall(r"`::([A-Za-z0-9_*]+)`", text):
        assert re.search(rf"(?:def|class) {name.replace('*', '.*')}[(:]", everywhere), name


def test_the_configuration_reference_names_every_setting_flag_of_every_command() -> None:
    from supervisor.cli import _parser
    from supervisor.config.models import flags

    text = (DOCS / "configuration.md").read_text()
    for command in ("run", "check", "config"):
        commands = next(a for a in _parser(command)._actions if isinstance(a, argparse._SubParsersAction))
        parser = commands.choices[command]
        given = {o for a in parser._actions for o in a.option_strings}
        settings = ["--config", *("--" + name.replace("_", "-") for name, _m, _h in flags(command))]
        assert "--log-level" in settings, command
        for flag in settings:
            assert flag in given, (command, flag)
            assert f"`{flag}`" in text, (command, flag)


def test_the_design_module_table_names_every_module_and_only_those() -> None:
    """A reader finds every module in docs/design.md's table, and nothing it names is gone."""
    text = (DOCS / "design.md").read_text()
    table = "\n".join(line for line in text.splitlines() if line.startswith("| `"))
    named = set(re.findall(r"`([a-z0-9_/]+\.py)`", table))
    package = DOCS.parent / "supervisor"
    modules = {str(p.relative_to(package)) for p in package.rglob("*.py") if p.name != "__init__.py"}
    assert modules - named == set(), "modules the table does not name"
    assert named - modules == set(), "names in the table with no module"
