"""Issue 15, the pure parts: skipped gates built in full, masking before any cut and in every
form, the supervisor's own words never masked, iterative cycle finding, gunicorn's daemon mode,
one rule for numbers."""

from pathlib import Path

import pytest

from supervisor import gunicorn
from supervisor.config.gatespec import build_gate, shown_command
from supervisor.config.settings import ConfigError, load_config
from supervisor.core import graph
from supervisor.core.durations import parse_duration
from supervisor.core.redaction import redact_tail, redact_text, register, secrets, shorten
from supervisor.kinds.command import _Tail, last_line


@pytest.fixture(autouse=True)
def _clean() -> None:
    secrets.clear()


def _problems(environ: dict[str, str], **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(environ=environ, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


# -- item 4: a skipped gate is a gate -----------------------------------------------------------

SKIP = {"SUPERVISOR_GATE_DEPLOY__ONLY_IF_SET": "DJANGO_SETTINGS_MODULE"}


def test_a_skipped_cmd_gate_is_built_in_full_and_only_marked_skipped() -> None:
    config = load_config(environ={"SUPERVISOR_GATE_DEPLOY": "cmd:python3 -c pass", **SKIP}, check_programs=True)
    (gate,) = config.gates
    assert gate.skipped_because == "DJANGO_SETTINGS_MODULE is not set"
    assert gate.kind == "cmd" and gate.argv == ("python3", "-c", "pass") and gate.startup_only


def test_a_skipped_gate_with_an_invalid_url_is_a_configuration_error() -> None:
    problems = _problems({"SUPERVISOR_GATE_DEPLOY": "redis://h:99999", **SKIP})
    assert problems == ["SUPERVISOR_GATE_DEPLOY=redis://h:99999: the port must be a number from 1 to 65535"]


def test_a_skipped_cmd_gate_has_its_secrets_registered_and_masked() -> None:
    url = "cmd:psql postgresql://u:urlpass99@h/db password=kwpass99"
    (gate,) = load_config(environ={"SUPERVISOR_GATE_DEPLOY": url, **SKIP}).gates
    assert gate.display == "cmd:psql postgresql://u:***@h/db password=***"
    assert redact_text("kwpass99 urlpass99") == "*** ***"


def test_a_skipped_env_gate_whose_variable_is_unset_is_no_error() -> None:
    env = {"SUPERVISOR_GATE_CACHE": "env:REDIS_URL", "SUPERVISOR_GATE_CACHE__ONLY_IF_SET": "REDIS_URL"}
    (gate,) = load_config(environ=env).gates
    assert gate.skipped_because == "REDIS_URL is not set"


def test_a_variable_of_blanks_is_not_set_for_only_if_set() -> None:
    env = {"SUPERVISOR_GATE_DEPLOY": "cmd:python3 -c pass", "DJANGO_SETTINGS_MODULE": "  ", **SKIP}
    assert load_config(environ=env).gates[0].skipped_because is not None


# -- item 5: masking ----------------------------------------------------------------------------


def test_every_encoded_form_of_a_secret_is_registered() -> None:
    register(["p/ss word"])
    for form in ("p/ss word", "p%2Fss%20word", "p%2fss%20word", "p%2Fss+word", "p%2fss+word"):
        assert redact_text(f"x {form} y") == "x *** y", form


def test_a_secret_inside_an_encoded_options_value_is_found_and_masked() -> None:
    gate = build_gate(
        "g",
        "postgresql://u@h/db?options=-c%20password%3Dhunter22",
        timeout=1,
        critical=True,
        startup_only=None,
        failure_threshold=1,
    )
    assert "hunter22" not in gate.display
    assert redact_text("options=-c%20password%3Dhunter22%20") == "options=-c%20password%3D***%20"


def test_short_secrets_are_masked_as_tokens_but_not_inside_words() -> None:
    register(["ab"])
    assert redact_text("about cabbage") == "about cabbage"
    assert redact_text("login -p ab, :ab@h x=ab&y 'ab'") == "login -p ***, :***@h x=***&y '***'"
    assert shown_command(["mysql", "-p", "ab"]) == "mysql -p ***"


def test_a_cut_never_shows_a_piece_of_a_secret() -> None:
    register(["Zq9Zq9Zq9Zq9"])
    line = "x" * 190 + " Zq9Zq9Zq9Zq9"
    assert "Zq9" not in shorten(line, 200) and "Zq9" not in last_line(line)
    assert redact_tail("9Zq9Zq9 and more") == "*** and more"  # the end of the secret, cut before it


def test_the_tail_of_a_command_masks_a_secret_cut_at_its_start() -> None:
    register(["Zq9Zq9Zq9Zq9Zq9Zq9"])
    tail = _Tail(limit=64)
    tail.add(b"A" * 10 + b"Zq9Zq9Zq9Zq9Zq9Zq9" + b"B" * 55)  # the tail starts inside the secret
    text = tail.text()
    assert text.startswith("***B") and "9" not in text


def test_our_own_words_are_never_masked_even_when_a_password_is_one_of_them() -> None:
    # the password "cmd" must not turn the cmd: in front into ***, which would tell it
    (gate,) = load_config(environ={"SUPERVISOR_GATE_D": "cmd:psql postgresql://u:cmd@h/db"}).gates
    assert gate.display == "cmd:psql postgresql://u:***@h/db"
    problems = _problems({"SUPERVISOR_GATE_DB": "postgresql://u:expected@h/db", "SUPERVISOR_HEALTH_PORT": "x"})
    assert problems == ["SUPERVISOR_HEALTH_PORT=x: expected a whole number from 1 to 65535"]


def test_a_url_written_as_a_config_name_is_masked_before_it_is_cut() -> None:
    url = "config:DATABASE_URL=postgresql://app:hunter2hunter2hunter2@db/app"
    (problem,) = _problems({"SUPERVISOR_GATE_C": url})
    assert "hunter" not in problem


# -- low items ----------------------------------------------------------------------------------


def test_a_cycle_of_thousands_of_nodes_is_found_without_recursion() -> None:
    n = 5000
    edges = {f"g{i}": [f"g{(i + 1) % n}"] for i in range(n)}
    cycle = graph.find_cycle(edges)
    assert cycle[0] == cycle[-1] and len(cycle) == n + 1
    nodes = [graph.Node(f"g{i}", False, (f"g{(i + 1) % 1500}",)) for i in range(1500)]
    with pytest.raises(graph.GraphError, match="the start-up order has a cycle"):
        graph.resolve(nodes)


def test_a_chain_without_a_cycle_has_none() -> None:
    assert graph.find_cycle({f"g{i}": [f"g{i + 1}"] for i in range(5000)}) == []


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


@pytest.mark.parametrize("text", ["\u0661\u0660s", "\u0661\u0660", "\uff11s", "5\u0660s"])
def test_durations_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("value", ["\u0668\u0660\u0668\u0661", "9_000", "+9000", "9000.0", "0x10"])
def test_whole_numbers_from_the_environment_take_ascii_digits_only(value: str) -> None:
    (problem,) = _problems({"SUPERVISOR_HEALTH_PORT": value})
    assert problem.startswith("SUPERVISOR_HEALTH_PORT=")


def test_environment_numbers_and_booleans_still_parse() -> None:
    env = {"SUPERVISOR_HEALTH_PORT": " 9000 ", "SUPERVISOR_SUBREAPER": "yes", "SUPERVISOR_GATE_A": "tcp://h:1"}
    config = load_config(environ={**env, "SUPERVISOR_GATE_A__CRITICAL": "false"})
    assert config.settings.health_port == 9000 and config.settings.subreaper and not config.gates[0].critical


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("health_port = 9000.0", "'health_port'"),
        ('health_port = "9000"', "'health_port'"),
        ("subreaper = 1", "'subreaper'"),
        ('restart_limit = "3"', "'restart_limit'"),
        ('[gates.a]\nurl = "tcp://h:1"\ncritical = "yes"', "[gates.a] critical"),
        ('[gates.a]\nurl = "tcp://h:1"\nstartup_only = 1', "[gates.a] startup_only"),
        ('[gates.a]\nurl = "tcp://h:1"\nfailure_threshold = 2.0', "[gates.a] failure_threshold"),
        ('[gates.a]\nurl = "tcp://h:1"\ntimeout = "\u0661\u0660s"', "[gates.a] timeout"),
    ],
)
def test_a_toml_value_must_have_the_fields_type(tmp_path: Path, line: str, key: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(line + "\n")
    (problem,) = _problems({}, config_file=str(path))
    assert problem.startswith(f"{path}: ") and key in problem and "expected" in problem


def test_toml_values_of_the_right_type_pass(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('health_port = 9000\nsubreaper = true\n[gates.a]\nurl = "tcp://h:1"\ncritical = false\n')
    config = load_config(environ={}, config_file=str(path))
    assert config.settings.health_port == 9000 and not config.gates[0].critical
