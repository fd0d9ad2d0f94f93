"""Settings: precedence, gate families, and one clear line for every class of bad input; a gate
skipped by ``ONLY_IF_SET`` still built and checked in full; numbers in ASCII digits only and TOML
values of the field's type."""

from pathlib import Path

import pytest

from supervisor.config.settings import ConfigError, json_schema, load_config
from supervisor.kinds.http_url import ANY_RESPONSE


def problems(**kw: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(**kw)  # type: ignore[arg-type]
    assert info.value.problems
    for line in info.value.problems:
        assert "\n" not in line and "Traceback" not in line
    return info.value.problems


def test_defaults() -> None:
    c = load_config(environ={})
    s = c.settings
    assert (s.health_host, s.health_port) == ("0.0.0.0", 8081)
    assert (s.startup_timeout, s.on_startup_timeout) == (60.0, "degraded")
    assert (s.backoff_initial, s.backoff_max, s.check_interval, s.stop_timeout) == (0.1, 2.0, 10.0, 30.0)
    assert s.log_level == "info" and s.log_format is None
    assert c.gates == () and c.command == () and c.app_probe is None


def test_environment_values_are_parsed() -> None:
    c = load_config(
        environ={
            "SUPERVISOR_HEALTH_PORT": "9001",
            "SUPERVISOR_STARTUP_TIMEOUT": "2m",
            "SUPERVISOR_BACKOFF_INITIAL": "250ms",
            "SUPERVISOR_ON_STARTUP_TIMEOUT": "exit",
            "SUPERVISOR_COMMAND": "gunicorn -b '0.0.0.0:8000' app:app",
        }
    )
    assert c.settings.health_port == 9001 and c.settings.startup_timeout == 120.0
    assert c.settings.backoff_initial == 0.25 and c.settings.on_startup_timeout == "exit"
    assert c.command == ("gunicorn", "-b", "0.0.0.0:8000", "app:app")
    assert c.app_probe is not None and c.app_probe.display == "tcp://127.0.0.1:8000"
    assert c.app_probe_source == "gunicorn --bind"


def test_command_after_double_dash_wins_over_the_setting() -> None:
    c = load_config(environ={"SUPERVISOR_COMMAND": "a b"}, command=["x", "y"])
    assert c.command == ("x", "y")


def test_gates_from_environment() -> None:
    c = load_config(
        environ={
            "SUPERVISOR_GATE_DATABASE": "postgresql://app@db/app",
            "SUPERVISOR_GATE_DATABASE__TIMEOUT": "2s",
            "SUPERVISOR_GATE_DATABASE__FAILURE_THRESHOLD": "3",
            "SUPERVISOR_GATE_MAIL": "tcp://mail:25",
            "SUPERVISOR_GATE_MAIL__CRITICAL": "false",
            "SUPERVISOR_GATE_DEPLOY": "cmd:python manage.py check --deploy",
        }
    )
    gates = {g.name: g for g in c.gates}
    assert list(gates) == ["database", "deploy", "mail"]
    assert gates["database"].timeout == 2.0 and gates["database"].failure_threshold == 3
    assert not gates["database"].startup_only
    assert not gates["mail"].critical
    assert gates["deploy"].startup_only and gates["deploy"].timeout == 5.0


def test_env_reference_reuses_the_apps_own_variable() -> None:
    c = load_config(environ={"SUPERVISOR_GATE_DB": "env:DATABASE_URL", "DATABASE_URL": "postgres://u:pw9@h/db"})
    assert c.gates[0].kind == "postgresql" and c.gates[0].display == "postgres://u:***@h/db"


def test_precedence_flags_over_env_over_file_over_defaults(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        'health_port = 7000\nstartup_timeout = "5s"\ncheck_interval = 3\n'
        '[gates.db]\nurl = "tcp://file:1"\ntimeout = "1s"\n[gates.cache]\nurl = "redis://c"\n'
    )
    c = load_config(
        environ={
            "SUPERVISOR_HEALTH_PORT": "7001",
            "SUPERVISOR_STARTUP_TIMEOUT": "6s",
            "SUPERVISOR_GATE_DB": "tcp://env:2",
        },
        cli={"health_port": "7002"},
        config_file=str(f),
    )
    assert c.settings.health_port == 7002  # flag
    assert c.settings.startup_timeout == 6.0  # env over file
    assert c.settings.check_interval == 3.0  # file over default
    gates = {g.name: g for g in c.gates}
    assert gates["db"].host == "env" and gates["db"].timeout == 1.0  # env URL, file timeout
    assert gates["cache"].port == 6379


def test_config_file_from_environment(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text("health_port = 7100\n")
    assert load_config(environ={"SUPERVISOR_CONFIG": str(f)}).settings.health_port == 7100


@pytest.mark.parametrize(
    ("env", "names", "accepted"),
    [
        ({"SUPERVISOR_HEALTH_PORT": "http"}, "SUPERVISOR_HEALTH_PORT=http", "a whole number from 1 to 65535"),
        ({"SUPERVISOR_HEALTH_PORT": "70000"}, "SUPERVISOR_HEALTH_PORT=70000", "whole number from 1 to"),
        ({"SUPERVISOR_STARTUP_TIMEOUT": "soon"}, "SUPERVISOR_STARTUP_TIMEOUT=soon", "positive duration"),
        ({"SUPERVISOR_CHECK_INTERVAL": "0"}, "SUPERVISOR_CHECK_INTERVAL=0", "positive duration"),
        ({"SUPERVISOR_BACKOFF_MAX": "-1s"}, "SUPERVISOR_BACKOFF_MAX=-1s", "positive duration"),
        (
            {"SUPERVISOR_ON_STARTUP_TIMEOUT": "crash"},
            "SUPERVISOR_ON_STARTUP_TIMEOUT=crash",
            "expected degraded or exit",
        ),
        ({"SUPERVISOR_LOG_LEVEL": "loud"}, "SUPERVISOR_LOG_LEVEL=loud", "debug, info, warning or error"),
        ({"SUPERVISOR_LOG_FORMAT": "xml"}, "SUPERVISOR_LOG_FORMAT=xml", "json or text"),
        ({"SUPERVISOR_GATE_DB": "cassandra://x"}, "SUPERVISOR_GATE_DB=cassandra://x", "accepted: postgresql://"),
        (
            {"SUPERVISOR_GATE_DB": "tcp://x", "SUPERVISOR_GATE_DB__TIMEOUT": "fast"},
            "SUPERVISOR_GATE_DB__TIMEOUT=fast",
            "positive duration",
        ),
        (
            {"SUPERVISOR_GATE_DB": "tcp://x:1", "SUPERVISOR_GATE_DB__CRITICAL": "maybe"},
            "SUPERVISOR_GATE_DB__CRITICAL=maybe",
            "true or false",
        ),
        (
            {"SUPERVISOR_GATE_DB": "tcp://x:1", "SUPERVISOR_GATE_DB__FAILURE_THRESHOLD": "0"},
            "SUPERVISOR_GATE_DB__FAILURE_THRESHOLD=0",
            "whole number >= 1",
        ),
        (
            {"SUPERVISOR_GATE_DB": "tcp://x:1", "SUPERVISOR_GATE_DB__RETRIES": "3"},
            "SUPERVISOR_GATE_DB__RETRIES",
            "unknown gate setting",
        ),
        ({"SUPERVISOR_GATE_DB__TIMEOUT": "3s"}, "SUPERVISOR_GATE_DB__TIMEOUT", "has no URL"),
        ({"SUPERVISOR_GATE_DB": "env:MISSING_URL"}, "SUPERVISOR_GATE_DB", "MISSING_URL is not set"),
        ({"SUPERVISOR_GATE_DB-1": "tcp://x:1"}, "SUPERVISOR_GATE_DB-1", "letters, digits and _"),
        ({"SUPERVISOR_APP_PROBE": "redis://x"}, "SUPERVISOR_APP_PROBE", "tcp:// or http(s)://"),
        ({"SUPERVISOR_COMMAND": "gunicorn 'oops"}, "SUPERVISOR_COMMAND", "cannot split"),
        (
            {"SUPERVISOR_BACKOFF_INITIAL": "5s", "SUPERVISOR_BACKOFF_MAX": "1s"},
            "SUPERVISOR_BACKOFF_MAX",
            "not be shorter",
        ),
    ],
)
def test_each_bad_input_names_its_variable_and_what_is_accepted(env: dict[str, str], names: str, accepted: str) -> None:
    lines = problems(environ=env)
    assert len(lines) == 1, lines
    assert lines[0].startswith(names) and accepted in lines[0], lines[0]


def test_all_problems_are_reported_at_once() -> None:
    lines = problems(environ={"SUPERVISOR_HEALTH_PORT": "x", "SUPERVISOR_LOG_LEVEL": "y", "SUPERVISOR_GATE_A": "z"})
    assert len(lines) == 3


def test_flag_problems_name_the_flag() -> None:
    assert problems(environ={}, cli={"health_port": "abc"})[0].startswith("--health-port=abc")


def test_secret_is_not_echoed_in_an_error() -> None:
    lines = problems(environ={"SUPERVISOR_GATE_DB": "cassandra://u:topsecret9@h/db"})
    assert "topsecret9" not in lines[0] and "***" in lines[0]


def test_file_problems_name_the_file_key(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('health_port = "x"\nbogus = 1\n[gates.db]\nurl = "tcp://h:1"\ntimout = "1s"\n')
    lines = problems(environ={}, config_file=str(f))
    assert any(line.startswith(f"{f}: key 'health_port'") for line in lines)
    assert any("unknown key 'bogus'" in line for line in lines)
    assert any(f"{f}: [gates.db] timout" in line and "unknown gate setting" in line for line in lines)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    assert "does not exist" in problems(environ={}, config_file=str(tmp_path / "nope.toml"))[0]
    f = tmp_path / "broken.toml"
    f.write_text("health_port = = 1\n")
    assert "not valid TOML" in problems(environ={}, config_file=str(f))[0]


def test_unknown_supervisor_variables_only_warn() -> None:
    c = load_config(environ={"SUPERVISOR_HEALTH_PROT": "1"})
    assert c.warnings == ("SUPERVISOR_HEALTH_PROT is not a setting of this supervisor and is ignored",)


def test_schema_lists_every_setting_and_gates() -> None:
    schema = json_schema()
    props = schema["properties"]
    for name in (
        "health_port",
        "startup_timeout",
        "on_startup_timeout",
        "backoff_initial",
        "check_interval",
        "app_probe",
        "log_level",
        "log_format",
        "command",
        "stop_timeout",
        "gates",
    ):
        assert name in props


def test_defaults_and_prestart_tasks_in_name_order_the_environment_winning(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        '[prestart]\nb_static = "python manage.py collectstatic"\na_migrate = ["python", "manage.py", "migrate"]\n'
    )
    c = load_config(environ={"SUPERVISOR_PRESTART_B_STATIC": "true"}, config_file=str(f))
    s = c.settings
    assert (s.drain_delay, s.restart, s.restart_limit, s.on_restart_limit, s.subreaper) == (
        0.0,
        "never",
        5,
        "exit",
        False,
    )
    assert [(t.name, t.argv) for t in c.prestart] == [
        ("a_migrate", ("python", "manage.py", "migrate")),
        ("b_static", ("true",)),  # the environment wins over the file, by name
    ]
    assert c.warnings == ()
    assert load_config(environ={"SUPERVISOR_DRAIN_DELAY": "5s"}).settings.drain_delay == 5.0


def test_every_flag_is_generated_from_its_setting(capsys: pytest.CaptureFixture[str]) -> None:
    """A setting is declared once: each flag of a command is a field marked ``Flag`` for it, its
    help the field's description with its variable and default (as ``config`` prints it), and
    the flag sets the setting over its variable, naming itself in an error line."""
    from supervisor import cli
    from supervisor.config.models import Flag, Settings, flags
    from supervisor.core.durations import format_duration

    for command in ("run", "check", "config"):
        marked = [
            n
            for n, f in Settings.model_fields.items()
            if any(isinstance(m, Flag) and command in m.commands for m in f.metadata)
        ]
        assert [name for name, _m, _h in flags(command)] == marked and marked, command
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        shown = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        for name, metavar, _help in flags(command):
            field = Settings.model_fields[name]
            assert f"--{name.replace('_', '-')} {metavar}" in shown, name
            assert " ".join(str(field.description).split()) in shown, name
            assert f"SUPERVISOR_{name.upper()}" in shown, name
            if field.default is not None:
                value = format_duration(field.default) if isinstance(field.default, float) else str(field.default)
                assert f"default {value})" in shown, name
    assert {name for name, _m, _h in flags("run")} >= {"health_port", "startup_timeout", "log_level"}
    assert "health_port" not in {name for name, _m, _h in flags("check")}
    env = {"SUPERVISOR_STOP_TIMEOUT": "9s"}
    assert load_config(cli={"stop_timeout": "3s"}, environ=env).settings.stop_timeout == 3.0
    with pytest.raises(ConfigError) as bad:
        load_config(cli={"log_level": "loud"}, environ=env)
    assert bad.value.problems == ["--log-level=loud: expected debug, info, warning or error"]


def test_gates_and_tasks_are_gathered_alike(tmp_path: Path) -> None:
    """One gatherer for both families: a name spelled twice, in the file or in the environment,
    is one line naming both spellings, and an entry without its main field names the entry."""
    f = tmp_path / "c.toml"
    f.write_text(
        '[gates.DB]\nurl = "tcp://a:1"\n[gates.db]\nurl = "tcp://b:1"\n[gates.empty]\n'
        '[prestart]\nM = "true"\nm = "true"\n'
    )
    lines = problems(environ={"SUPERVISOR_PRESTART_X": "true", "SUPERVISOR_PRESTART_x": "false"}, config_file=str(f))
    assert f"{f}: [gates.db] and {f}: [gates.DB] name the same gate (names are not case-sensitive); keep one" in lines
    assert f"{f}: [prestart] m and {f}: [prestart] M name the same pre-start task" in "\n".join(lines)
    assert any(line.startswith(f"{f}: [gates.empty] is set but the gate has no URL") for line in lines)
    assert (
        "SUPERVISOR_PRESTART_X and SUPERVISOR_PRESTART_x set the same pre-start task setting "
        "(variable names are not case-sensitive here); keep one"
    ) in lines


def test_the_config_carries_the_secrets_it_registered() -> None:
    c = load_config(environ={"SUPERVISOR_GATE_DB": "postgres://u:hunter22@db/x"})
    assert c.secrets == ("hunter22",)
    assert "hunter22" not in repr(c)


def test_no_toml_parser_is_imported_without_a_file() -> None:
    import subprocess
    import sys

    code = "import sys; from supervisor.config.settings import load_config; load_config(environ={}); "
    code += "print('tomllib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _problems(environ: dict[str, str], **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(environ=environ, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


SKIP = {"SUPERVISOR_GATE_DEPLOY__ONLY_IF_SET": "DJANGO_SETTINGS_MODULE"}


def test_a_skipped_cmd_gate_is_built_in_full_and_only_marked_skipped() -> None:
    config = load_config(environ={"SUPERVISOR_GATE_DEPLOY": "cmd:python3 -c pass", **SKIP}, check_programs=True)
    (gate,) = config.gates
    assert gate.skipped_because == "DJANGO_SETTINGS_MODULE is not set"
    assert gate.kind == "cmd" and gate.argv == ("python3", "-c", "pass") and gate.startup_only


def test_a_skipped_gate_with_an_invalid_url_is_a_configuration_error() -> None:
    problems = _problems({"SUPERVISOR_GATE_DEPLOY": "redis://h:99999", **SKIP})
    assert problems == ["SUPERVISOR_GATE_DEPLOY=redis://h:99999: the port must be a number from 1 to 65535"]


def test_a_skipped_env_gate_whose_variable_is_unset_is_no_error() -> None:
    env = {"SUPERVISOR_GATE_CACHE": "env:REDIS_URL", "SUPERVISOR_GATE_CACHE__ONLY_IF_SET": "REDIS_URL"}
    (gate,) = load_config(environ=env).gates
    assert gate.skipped_because == "REDIS_URL is not set"


def test_a_variable_of_blanks_is_not_set_for_only_if_set() -> None:
    env = {"SUPERVISOR_GATE_DEPLOY": "cmd:python3 -c pass", "DJANGO_SETTINGS_MODULE": "  ", **SKIP}
    assert load_config(environ=env).gates[0].skipped_because is not None


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


GUNICORN = "gunicorn -b 0.0.0.0:8000 app:app"


@pytest.mark.parametrize("mode", ["restart", "exit"])
def test_acting_on_a_hang_probes_gunicorns_bind_by_http_where_any_response_counts(mode: str) -> None:
    c = load_config(environ={"SUPERVISOR_ON_APP_UNRESPONSIVE": mode, "SUPERVISOR_COMMAND": GUNICORN})
    assert c.app_probe is not None and c.app_probe.display == "http://127.0.0.1:8000/"
    assert ANY_RESPONSE in c.app_probe.options and c.warnings == ()
    plain = load_config(environ={"SUPERVISOR_COMMAND": GUNICORN})  # ignore: a TCP connect, as before
    assert plain.app_probe is not None and plain.app_probe.display == "tcp://127.0.0.1:8000"
    explicit = load_config(
        environ={"SUPERVISOR_ON_APP_UNRESPONSIVE": mode, "SUPERVISOR_APP_PROBE": "http://127.0.0.1:8000/health"},
        command=["gunicorn", "-b", ":8000", "app"],
    )
    assert explicit.app_probe is not None and ANY_RESPONSE not in explicit.app_probe.options  # its own rule


@pytest.mark.parametrize("mode", ["restart", "exit"])
def test_acting_on_a_hang_without_any_app_probe_is_a_configuration_error(mode: str) -> None:
    found = problems(environ={"SUPERVISOR_ON_APP_UNRESPONSIVE": mode}, command=["sleep", "60"])
    assert found == [
        f"SUPERVISOR_ON_APP_UNRESPONSIVE={mode}: there is no app probe to tell that the app hangs; "
        "set SUPERVISOR_APP_PROBE (--app-probe), or start gunicorn with --bind HOST:PORT"
    ]
    (tls,) = problems(
        environ={"SUPERVISOR_ON_APP_UNRESPONSIVE": mode},
        command=["gunicorn", "-b", ":8443", "--certfile=/c.pem", "--keyfile", "/k.pem", "app"],
    )
    assert tls.startswith(f"SUPERVISOR_ON_APP_UNRESPONSIVE={mode}: gunicorn serves TLS (--certfile)")
    assert load_config(environ={"SUPERVISOR_COMMAND": "gunicorn -b :8443 --certfile /c.pem app"}).app_probe
    flag = problems(cli={"on_app_unresponsive": mode}, command=["gunicorn", "-b", "unix:/run/a.sock", "app"])
    assert flag[0].startswith(f"--on-app-unresponsive={mode}: there is no app probe")


def test_a_tcp_app_probe_that_cannot_see_a_hang_is_warned_about() -> None:
    c = load_config(
        environ={"SUPERVISOR_ON_APP_UNRESPONSIVE": "restart", "SUPERVISOR_APP_PROBE": "tcp://127.0.0.1:8000"},
        command=["app"],
    )
    assert len(c.warnings) == 1 and "a frozen app still accepts connections" in c.warnings[0]


@pytest.mark.parametrize(
    ("env", "accepted"),
    [
        ({"SUPERVISOR_ON_APP_UNRESPONSIVE": "kill"}, "expected ignore, restart or exit"),
        ({"SUPERVISOR_APP_PROBE_THRESHOLD": "0"}, "expected a whole number >= 1"),
    ],
)
def test_bad_unresponsive_settings_name_their_variable(env: dict[str, str], accepted: str) -> None:
    (line,) = problems(environ=env, command=["app"])
    assert line.startswith(next(iter(env))) and accepted in line, line


@pytest.mark.parametrize(
    ("env", "command", "says"),
    [
        ({"SUPERVISOR_APP_LISTEN": "localhost:8000"}, ["gunicorn", "app"], "must be an IP address"),
        ({"SUPERVISOR_APP_LISTEN": "0.0.0.0:8000"}, ["uvicorn", "app"], "SUPERVISOR_APP_LISTEN_HANDOFF=systemd"),
        ({"SUPERVISOR_APP_LISTEN": "0.0.0.0:8000"}, ["gunicorn", "--reuse-port", "app"], "gunicorn --reuse-port"),
        (
            {"SUPERVISOR_APP_LISTEN": "0.0.0.0:8000", "GUNICORN_CMD_ARGS": "-w 2 --reuse-port"},
            ["gunicorn", "app"],
            "GUNICORN_CMD_ARGS --reuse-port",
        ),
        ({"SUPERVISOR_APP_LISTEN": "0.0.0.0:8000"}, ["gunicorn", "-b", "0.0.0.0:9000", "app"], "--bind 0.0.0.0:9000"),
        ({"SUPERVISOR_APP_LISTEN": "0.0.0.0:8000"}, ["gunicorn", "--bind=fd://3", "app"], "--bind fd://3"),
    ],
)
def test_what_cannot_take_held_sockets_is_a_configuration_error(
    env: dict[str, str], command: list[str], says: str
) -> None:
    (line,) = problems(environ=env, command=command)
    assert line.startswith("SUPERVISOR_APP_LISTEN") and says in line, line


def test_held_sockets_make_the_default_probe_an_http_request_to_the_first_tcp_address() -> None:
    c = load_config(
        environ={"SUPERVISOR_APP_LISTEN": "unix:/run/a.sock,[::]:8000"},
        command=["gunicorn", "-b", "unix:/run/a.sock", "app"],
    )
    assert [a.shown for a in c.listen] == ["unix:/run/a.sock", "[::]:8000"]
    assert c.app_probe is not None and c.app_probe.display == "http://[::1]:8000/"
    assert ANY_RESPONSE in c.app_probe.options and c.app_probe_source == "APP_LISTEN"
    only_unix = load_config(environ={"SUPERVISOR_APP_LISTEN": "unix:/run/a.sock"}, command=["gunicorn", "app"])
    assert only_unix.app_probe is None
    with_systemd = load_config(
        environ={"SUPERVISOR_APP_LISTEN": "127.0.0.1:8000", "SUPERVISOR_APP_LISTEN_HANDOFF": "systemd"},
        command=["uvicorn", "--fd", "3", "app"],
    )
    assert len(with_systemd.listen) == 1
