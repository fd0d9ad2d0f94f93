"""``gunicorn``: daemon mode found wherever gunicorn reads it (flags, ``GUNICORN_CMD_ARGS``, a
config file, ``gunicorn.conf.py`` in the working directory) and refused as a configuration error."""

from pathlib import Path

import pytest

from supervisor import gunicorn
from supervisor.config.settings import ConfigError, load_config
from supervisor.core.redaction import secrets


@pytest.fixture(autouse=True)
def _clean() -> None:
    secrets.clear()


def _problems(environ: dict[str, str], **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(environ=environ, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


@pytest.mark.parametrize(
    "argv",
    [
        ("gunicorn", "-D", "app:app"),
        ("gunicorn", "--daemon", "app:app"),
        ("gunicorn", "--daem", "app:app"),
        ("gunicorn", "-RD", "app:app"),
        ("gunicorn", "-Dw4", "app:app"),
        ("/venv/bin/python3", "-m", "gunicorn", "-b", ":8000", "-D", "app:app"),
    ],
)
def test_gunicorn_daemon_flags_are_found(argv: tuple[str, ...]) -> None:
    assert gunicorn.daemon_mode(argv, {}) is not None


def test_gunicorn_without_daemon_mode_passes(tmp_path: Path) -> None:
    assert gunicorn.daemon_mode(("gunicorn", "-w", "D", "app:app"), {}, str(tmp_path)) is None
    assert gunicorn.daemon_mode(("gunicorn", "app:app", "--", "-D"), {}, str(tmp_path)) is None
    assert gunicorn.daemon_mode(("python3", "-D"), {}) is None


def test_gunicorn_daemon_mode_from_its_environment_and_config_file(tmp_path: Path) -> None:
    assert gunicorn.daemon_mode(("gunicorn", "app:app"), {"GUNICORN_CMD_ARGS": "-w 2 --daemon"}) is not None
    conf = tmp_path / "conf.py"
    conf.write_text("workers = 2\ndaemon = True\n")
    for argv in (("gunicorn", "-c", str(conf), "app"), ("gunicorn", f"--config={conf}", "app")):
        assert gunicorn.daemon_mode(argv, {}) is not None
    assert gunicorn.daemon_mode(("gunicorn", "app"), {"GUNICORN_CMD_ARGS": f"-c {conf}"}) is not None
    (tmp_path / "gunicorn.conf.py").write_text("daemon = True\n")  # read from the working directory
    assert gunicorn.daemon_mode(("gunicorn", "app"), {}, str(tmp_path)) is not None
    conf.write_text("daemon = False\n")
    assert gunicorn.daemon_mode(("gunicorn", "-c", str(conf), "app"), {}) is None


def test_gunicorn_daemon_mode_is_a_configuration_error() -> None:
    (problem,) = _problems({}, command=["gunicorn", "--daemon", "app:app"])
    assert problem.startswith("the command after --: gunicorn --daemon runs gunicorn as a daemon")
