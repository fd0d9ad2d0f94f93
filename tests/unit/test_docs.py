"""The docs must describe what the code does: every setting and every exit code is documented,
and every test the reliability matrix names exists."""

import argparse
import ast
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


ROOT = DOCS.parent
TESTS = ROOT / "tests"
# `unit/x/test_y.py`, `tests/container/test_z.py::TestA::test_b[param]`, `bench/startup.py`
PATH_REF = re.compile(r"`((?:tests/)?[a-z0-9_]+(?:/[a-z0-9_]+)*\.py)((?:::[A-Za-z0-9_*]+)*)(?:\[[^\]`]*\])?`")
NAME_REF = re.compile(r"`((?:::[A-Za-z0-9_*]+)+)(?:\[[^\]`]*\])?`")


def _written() -> dict[str, str]:
    return {p.name: p.read_text() for p in [ROOT / "README.md", *DOCS.glob("*.md")]}


def _definitions(tree: ast.AST, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every function and class of a module by its path of names: ``("TestA", "test_b")``."""
    found: set[tuple[str, ...]] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add((*prefix, node.name))
            if isinstance(node, ast.ClassDef):
                found |= _definitions(node, (*prefix, node.name))
    return found


def _defines(defined: set[tuple[str, ...]], names: str) -> bool:
    """``::TestA::test_b`` (``*`` as a wildcard) names something ``defined`` holds."""
    wanted = [re.compile(part.replace("*", ".*") + "$") for part in names.strip(":").split("::")]
    return any(
        len(path) >= len(wanted) and all(w.match(n) for w, n in zip(wanted, path[-len(wanted) :], strict=True))
        for path in defined
    )


def _resolve(path: str) -> Path | None:
    """A path as the docs write it: from the repository, the package, the tests or (a bench
    named beside its folder) ``bench/``."""
    for base in (ROOT, ROOT / "supervisor", TESTS, ROOT / "bench"):
        if (base / path).is_file():
            return base / path
    return None


def test_every_file_and_test_the_docs_name_exists() -> None:
    seen = 0
    for doc, text in _written().items():
        for path, names in PATH_REF.findall(text):
            found = _resolve(path)
            assert found is not None, (doc, path)
            seen += 1
            if names:
                assert _defines(_definitions(ast.parse(found.read_text())), names), (doc, path, names)
    assert seen > 60


def test_every_test_named_without_its_file_exists() -> None:
    defined = set().union(*(_definitions(ast.parse(p.read_text())) for p in TESTS.rglob("test_*.py")))
    text = (DOCS / "reliability.md").read_text()
    named = NAME_REF.findall(text)
    assert len(named) > 5
    for names in named:
        assert _defines(defined, names), names


def test_the_reliability_matrix_names_tests_by_their_files() -> None:
    text = (DOCS / "reliability.md").read_text()
    assert len([p for p, _ in PATH_REF.findall(text) if "test_" in p]) > 20


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
