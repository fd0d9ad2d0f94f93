"""Gate URLs from files (Docker and Kubernetes secrets, the *_FILE convention), on the real thing."""

import json
from pathlib import Path

import pytest

from tests.helpers import cli
from tests.servers import PgServer

pytestmark = pytest.mark.integration

PASSWORD = "s3cr3t-from-a-file"


def secret(tmp_path: Path, text: str, name: str = "url") -> str:
    path = tmp_path / name
    path.write_text(text + "\n")  # as `echo ... > file` and most secret tools write it
    return str(path)


def with_password(pg: PgServer) -> str:
    return pg.url.replace("postgres@", f"postgres:{PASSWORD}@")


@pytest.mark.parametrize("how", ["url_file", "env_file"])
def test_a_url_from_a_file_is_checked_and_its_password_never_shown(pg: PgServer, tmp_path: Path, how: str) -> None:
    path = secret(tmp_path, with_password(pg))
    if how == "url_file":
        env = {"SUPERVISOR_GATE_DB__URL_FILE": path}
    else:
        env = {"SUPERVISOR_GATE_DB": "env:DATABASE_URL", "DATABASE_URL_FILE": path}
    check = cli("check", "--json", env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["checks"]["db"][0]["target"].startswith("postgresql://postgres:***@")
    config = cli("config", "--json", env=env)
    assert config.returncode == 0, config.stderr
    for out in (check.stdout, check.stderr, config.stdout, config.stderr):
        assert PASSWORD not in out


def test_a_url_in_a_toml_table_from_a_file(pg: PgServer, tmp_path: Path) -> None:
    path = secret(tmp_path, with_password(pg))
    toml = tmp_path / "s.toml"
    toml.write_text(f'[gates.db]\nurl_file = "{path}"\n')
    r = cli("check", "--config", str(toml), env={})
    assert r.returncode == 0, r.stdout + r.stderr
    assert PASSWORD not in r.stdout + r.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SUPERVISOR_GATE_DB": "tcp://h:1", "SUPERVISOR_GATE_DB__URL_FILE": "{file}"}, "both give the gate's URL"),
        ({"SUPERVISOR_GATE_DB__URL_FILE": "{missing}"}, "does not exist"),
        ({"SUPERVISOR_GATE_DB__URL_FILE": "{empty}"}, "is empty"),
        ({"SUPERVISOR_GATE_DB__URL_FILE": "{tmp}"}, "is a directory"),
        ({"SUPERVISOR_GATE_DB__URL_FILE": "{bad}"}, "the URL in the file: unknown gate URL scheme"),
        (
            {"SUPERVISOR_GATE_DB": "env:DATABASE_URL", "DATABASE_URL": "tcp://h:1", "DATABASE_URL_FILE": "{file}"},
            "both DATABASE_URL and DATABASE_URL_FILE are set",
        ),
        ({"SUPERVISOR_GATE_DB": "env:DATABASE_URL", "DATABASE_URL_FILE": "{missing}"}, "reads DATABASE_URL_FILE"),
    ],
)
def test_bad_secret_files_are_exit_78_with_one_line(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    paths = {
        "file": secret(tmp_path, f"postgresql://u:{PASSWORD}@h/db"),
        "missing": str(tmp_path / "nope"),
        "empty": secret(tmp_path, "", "empty"),
        "tmp": str(tmp_path),
        "bad": secret(tmp_path, f"cassandra://u:{PASSWORD}@h/db", "bad"),
    }
    env = {k: v.format(**paths) for k, v in env.items()}
    r = cli("config", env=env)
    assert r.returncode == 78, r.stdout + r.stderr
    problems = [line for line in r.stderr.splitlines() if "configuration invalid" not in line]
    assert len(problems) == 1 and expected in problems[0], r.stderr
    assert PASSWORD not in r.stderr and "Traceback" not in r.stderr
