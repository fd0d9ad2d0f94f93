"""The docs must describe what the code does: every setting and every exit code is documented."""

from pathlib import Path

from supervisor import exitcodes
from supervisor.settings import GateSettings, Settings

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
