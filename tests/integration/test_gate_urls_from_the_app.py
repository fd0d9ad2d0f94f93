"""Gate URLs the way an app's settings hold them, against real servers: ``VAR_FILE`` secrets the
app reads as ``VAR``, dj-database-url's schemes, and URLs made from ``DB_*`` parts."""

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import cli, free_port
from tests.integration.supervised import Launcher
from tests.servers import PgFactory, PgServer

pytestmark = pytest.mark.integration
PRINT_ENV = "import json, os; print('ENV=' + json.dumps({k: v for k, v in os.environ.items() if 'DATABASE' in k}))"


def app_environment(output: str) -> dict[str, str]:
    line = next(line for line in output.splitlines() if line.startswith("ENV="))
    env: dict[str, str] = json.loads(line[4:])
    return env


def test_the_app_gets_var_from_var_file_and_not_var_file(supervise: Launcher, pg: PgServer, tmp_path: Path) -> None:
    secret = tmp_path / "database_url"
    secret.write_text(pg.url + "\n")
    env = {"DATABASE_URL_FILE": str(secret), "SUPERVISOR_GATE_DB": "env:DATABASE_URL"}
    s = supervise.run(sys.executable, "-c", PRINT_ENV, env=env)
    assert s.wait(30) == 0, s.output()
    assert app_environment(s.output()) == {"DATABASE_URL": pg.url}  # content, stripped; no DATABASE_URL_FILE
    # `wait -- CMD` hands CMD the same environment
    w = cli("wait", "env:DATABASE_URL", "--", sys.executable, "-c", PRINT_ENV, env={"DATABASE_URL_FILE": str(secret)})
    assert w.returncode == 0 and app_environment(w.stdout) == {"DATABASE_URL": pg.url}, w.stdout + w.stderr


def test_a_var_file_not_named_by_an_env_gate_is_left_alone(supervise: Launcher, tmp_path: Path) -> None:
    secret = tmp_path / "other"
    secret.write_text("x")
    s = supervise.run(sys.executable, "-c", PRINT_ENV, env={"OTHER_DATABASE_FILE": str(secret)})
    assert s.wait(30) == 0
    assert app_environment(s.output()) == {"OTHER_DATABASE_FILE": str(secret)}


@pytest.mark.parametrize(
    "scheme", ["postgis", "pgsql", "postgresql+psycopg", "postgres+psycopg2", "timescale", "PostgreSQL"]
)
def test_dj_database_url_and_sqlalchemy_names_of_postgresql(pg: PgServer, scheme: str) -> None:
    url = pg.url.replace("postgresql", scheme, 1)
    r = cli("check", env={"DATABASE_URL": url, "SUPERVISOR_GATE_DB": "env:DATABASE_URL"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "postgresql://postgres@127.0.0.1" in r.stdout  # shown as the URL libpq was given


def test_mysql_and_amqp_urls_are_checked_at_tcp_level_and_say_so(silent_port: int) -> None:
    for url in (f"mysql://app:pw@127.0.0.1:{silent_port}/app", f"amqp://guest:guest@127.0.0.1:{silent_port}//"):
        r = cli("check", "--json", env={"SUPERVISOR_GATE_Q": url})
        assert r.returncode == 0, r.stdout + r.stderr
        entry = json.loads(r.stdout)["checks"]["q"][0]
        assert entry["componentType"] == "tcp-level" and entry["detail"].startswith("TCP level only")
        assert "checked at TCP level only" in r.stderr  # the warning, when the configuration is read
        assert "pw" not in r.stdout.replace("pw@", "") and ":pw@" not in r.stdout + r.stderr


def test_an_unknown_scheme_names_itself_and_what_to_use() -> None:
    r = cli("check", env={"DATABASE_URL": "cassandra://db:9042/ks", "SUPERVISOR_GATE_DB": "env:DATABASE_URL"})
    assert r.returncode == 78
    assert "unknown gate URL scheme cassandra://" in r.stderr and "tcp://HOST:PORT" in r.stderr


def test_a_url_from_db_parts_with_a_password_that_needs_encoding(pg_factory: PgFactory) -> None:
    password = "p@ss/w:rd%"
    pg = pg_factory.new(start=False)
    pg.require_passwords(password)
    env = {
        "DB_USER": "postgres",
        "DB_PASSWORD": password,
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(pg.port),
        "SUPERVISOR_GATE_DB": "postgresql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT:-5432}/${DB_NAME:-postgres}",
    }
    r = cli("check", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert password not in r.stdout + r.stderr and "p%40ss" not in r.stdout + r.stderr
    shown = cli("config", "--json", env=env)
    assert json.loads(shown.stdout)["gates"]["db"]["url"] == f"postgresql://postgres:***@127.0.0.1:{pg.port}/postgres"
    wrong = cli("check", env={**env, "DB_PASSWORD": "wrong", "SUPERVISOR_STARTUP_TIMEOUT": "1s"})
    assert wrong.returncode == 1 and "auth" in wrong.stdout


def test_an_unset_part_is_exit_78_naming_it_or_skips_the_gate() -> None:
    url = "postgresql://${DB_USER}@${DB_HOST}/app"
    r = cli("check", env={"DB_USER": "u", "SUPERVISOR_GATE_DB": url})
    assert r.returncode == 78 and "${DB_HOST} is not set" in r.stderr and "__ONLY_IF_SET" in r.stderr, r.stderr
    skipped = cli("check", env={"SUPERVISOR_GATE_DB": url, "SUPERVISOR_GATE_DB__ONLY_IF_SET": "DB_HOST"})
    assert skipped.returncode == 0 and "DB_HOST is not set" in skipped.stdout
    literal = cli("config", "--json", env={"SUPERVISOR_GATE_T": "http://127.0.0.1:1/a$$b"})
    assert json.loads(literal.stdout)["gates"]["t"]["url"] == "http://127.0.0.1:1/a$b"


def test_cmd_gates_are_not_expanded_their_shell_is() -> None:
    # `$$` is the shell's own PID: unexpanded by us, the shell sees both forms as it would anyway
    r = cli("check", env={"SUPERVISOR_GATE_C": 'cmd:sh -c \'test -n "$HOME" && test "$$" -gt 1\''})
    assert r.returncode == 0, r.stdout + r.stderr


def test_only_if_set_counts_var_file_as_set(tmp_path: Path) -> None:
    secret = tmp_path / "database_url"
    secret.write_text(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")  # nothing listens: must fail
    env = {
        "DATABASE_URL_FILE": str(secret),
        "SUPERVISOR_GATE_DB": "env:DATABASE_URL",
        "SUPERVISOR_GATE_DB__ONLY_IF_SET": "DATABASE_URL",
        "SUPERVISOR_STARTUP_TIMEOUT": "1s",
    }
    r = cli("check", env=env)
    assert r.returncode == 1 and "skipped" not in r.stdout, r.stdout  # checked, not skipped
    w = cli(
        "wait", "--timeout", "5s", "config:DATABASE_URL", "env:DATABASE_URL", env={"DATABASE_URL_FILE": str(secret)}
    )
    assert "config:DATABASE_URL" not in w.stderr or "not set" not in w.stderr, w.stderr  # config: sees VAR too


def test_tcp_level_urls_with_a_host_list_or_a_socket_say_what_to_write() -> None:
    for url in ("mongodb://u:pw@10.0.0.1:27017,10.0.0.2:27017/app", "mysql://u:pw@%2Fvar%2Frun%2Fmysqld.sock/app"):
        r = cli("config", env={"SUPERVISOR_GATE_Q": url})
        assert r.returncode == 78 and "names one host and port" in r.stderr, r.stderr
        assert ":pw@" not in r.stderr
