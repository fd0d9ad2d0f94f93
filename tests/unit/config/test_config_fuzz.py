"""Generated configurations: every one is accepted or refused with one line per problem, never
with another exception (which the command line would show as a traceback)."""

import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervisor.commands.config import effective
from supervisor.config.settings import ConfigError, GateSettings, Settings, TaskSettings, load_config

NAMES = [f"SUPERVISOR_{n.upper()}" for n in Settings.model_fields]
GATE_FIELDS = ["", *(f"__{n.upper()}" for n in GateSettings.model_fields), "__BOGUS"]
TASK_FIELDS = ["", *(f"__{n.upper()}" for n in TaskSettings.model_fields), "__BOGUS"]
VALUES = st.one_of(
    st.sampled_from(
        ["", "0", "-1", "1", "true", "no", "5s", "1h", "0.5", "all", "loopback", "exit", "degraded", "never",
         "always", "on-failure", "json", "text", "debug", "tcp://h:1", "tcp://h:0", "http://h/", "env:HOME",
         "env:NOPE_X", "config:HOME", "cmd:true", "cmd:'", "sqlite:///x.db", "redis://h/0?db=x",
         "postgresql://u:p@h/db", "postgresql://[::1/db", "a,b", "db", "prestart-t", "t", "x" * 300,
         "\u00e9", "\x00", "gunicorn -b 0.0.0.0:8000 app:app", "/no/such/file"]
    ),
    st.text(alphabet=string.printable, max_size=30),
)  # fmt: skip
GATE_NAMES = st.sampled_from(["DB", "db", "T", "CACHE", "A-B", "9", "x__y"])
TASK_NAMES = st.sampled_from(["T", "MIGRATE", "t", "1_A", "B"])


@st.composite
def environments(draw: st.DrawFn) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=6)):
        env[name] = draw(VALUES)
    for _ in range(draw(st.integers(0, 4))):
        env[f"SUPERVISOR_GATE_{draw(GATE_NAMES)}{draw(st.sampled_from(GATE_FIELDS))}"] = draw(VALUES)
    for _ in range(draw(st.integers(0, 3))):
        env[f"SUPERVISOR_PRESTART_{draw(TASK_NAMES)}{draw(st.sampled_from(TASK_FIELDS))}"] = draw(VALUES)
    return env


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env=environments(), command=st.sampled_from([(), ("true",), ("no-such-program-x",)]))
def test_every_configuration_is_accepted_or_refused_line_by_line(env: dict[str, str], command: tuple[str, ...]) -> None:
    try:
        config = load_config(
            environ={"PATH": "/usr/bin:/bin", "HOME": "/root", **env}, command=command, check_programs=True
        )
        json.dumps(effective(config))  # what `supervisor config --json` prints
    except ConfigError as exc:
        assert exc.problems, env
        for line in exc.problems:
            assert line and "\n" not in line and "Traceback" not in line, (env, line)


TOML_VALUES = st.sampled_from(
    ['"x"', '""', "true", "5", "-1", "0.5", '["a", 1]', '["true"]', "[]", '{ a = 1 }', '"5s"', '"tcp://h:1"',
     '"cmd:true"', '"env:HOME"', '"postgresql://u:p@h/db"', '"a\\nb"', '"\\u0000"', '"db"', '["db", "t"]']
)  # fmt: skip
TOML_KEYS = st.sampled_from([*Settings.model_fields, "bogus"])
GATE_KEYS = st.sampled_from([*GateSettings.model_fields, "bogus"])
TASK_KEYS = st.sampled_from([*TaskSettings.model_fields, "bogus"])


@st.composite
def toml_documents(draw: st.DrawFn) -> str:
    lines = [f"{draw(TOML_KEYS)} = {draw(TOML_VALUES)}" for _ in range(draw(st.integers(0, 4)))]
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["db", "DB", "t", '"a b"', "cache"]))
        if draw(st.booleans()):
            lines.append(f"[gates.{name}]")
            lines += [f"{draw(GATE_KEYS)} = {draw(TOML_VALUES)}" for _ in range(draw(st.integers(0, 3)))]
        else:
            lines.append(f"[prestart.{name}]")
            lines += [f"{draw(TASK_KEYS)} = {draw(TOML_VALUES)}" for _ in range(draw(st.integers(0, 3)))]
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None)
@given(document=toml_documents())
def test_every_configuration_file_is_accepted_or_refused_line_by_line(document: str) -> None:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".toml") as fh:
        fh.write(document)
        fh.flush()
        try:
            config = load_config(environ={"PATH": "/usr/bin:/bin", "HOME": "/root"}, config_file=fh.name)
            json.dumps(effective(config))  # what `supervisor config --json` prints
        except ConfigError as exc:
            assert exc.problems, document
            for line in exc.problems:
                assert line and "\n" not in line and "Traceback" not in line, (document, line)
