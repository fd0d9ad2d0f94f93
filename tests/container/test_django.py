"""The story this project started from, end to end, under podman and under Docker Engine: a Django
app image FROM ours, in its minimal CI configuration (SQLite, no cache), with a cache that is not
there, and fully configured against real PostgreSQL and Redis servers."""

import json
import secrets

import pytest

from tests.container.conftest import Container, Start, wait_listening
from tests.helpers import get, wait_until
from tests.servers import PgServer, RedisServer

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(900)]
HTTPS = {"X-Forwarded-Proto": "https"}  # TLS ends at a proxy in front; Django redirects plain HTTP


def minimal() -> dict[str, str]:
    return {"DATABASE_URL": "sqlite:////app/data/db.sqlite3", "SECRET_KEY": secrets.token_urlsafe(50)}


def checks(c: Container) -> dict[str, dict[str, object]]:
    doc = json.loads(get(c.health_port, "/readyz?format=json").body)
    return {name: entries[0] for name, entries in doc["checks"].items()}


def test_minimal_configuration_migrates_becomes_ready_and_shows_the_cache_skipped(
    django_image: str, start: Start
) -> None:
    c = start(django_image, env=minimal())
    wait_until(lambda: c.status("/readyz") == 200, 120, "the Django app ready")
    state = checks(c)
    assert state["cache"]["skipped"] is True and state["cache"]["output"] == "skipped: REDIS_URL is not set"
    assert state["prestart-migrate"]["status"] == "pass" and state["deploy"]["status"] == "pass"
    reply = get(c.app_port, "/", headers=HTTPS)
    assert reply.status == 200 and json.loads(reply.body)["users"] == 0  # the auth tables exist: migrated
    c.wait_healthy()


def test_minimal_configuration_with_a_missing_cache_stays_up_healthy_and_names_it(
    django_image: str, start: Start
) -> None:
    env = {**minimal(), "REDIS_URL": "redis://127.0.0.1:1/0", "SUPERVISOR_STARTUP_TIMEOUT": "2s"}
    c = start(django_image, env=env)
    wait_listening(c)
    wait_until(
        lambda: json.loads(get(c.health_port, "/readyz?format=json").body)["phase"] == "degraded", 120, "degraded"
    )
    assert c.status("/readyz") == 503
    gates = {name: v for name, v in checks(c).items() if not name.startswith(("app-", "prestart-"))}
    assert [name for name, v in gates.items() if v["status"] != "pass"] == ["cache"]
    c.stays_healthy(checks=2)
    assert c.running()


def test_full_configuration_against_postgresql_and_redis(
    django_image: str, start: Start, pg: PgServer, redis_server: RedisServer
) -> None:
    env = {"DATABASE_URL": pg.url, "REDIS_URL": redis_server.url, "SECRET_KEY": secrets.token_urlsafe(50)}
    c = start(
        django_image,
        "sh",
        "-c",
        'exec gunicorn --bind "127.0.0.1:$APP_PORT" --workers 2 --worker-tmp-dir /dev/shm mysite.wsgi',
        env=env,
        host_network=True,
    )
    wait_until(lambda: c.status("/readyz") == 200, 120, "ready against PostgreSQL and Redis")
    state = checks(c)
    assert state["database"]["componentType"] == "postgresql" and state["cache"]["status"] == "pass"
    # `sh -c` hides gunicorn's --bind from the supervisor, so readiness does not cover the app here
    wait_until(lambda: get(c.app_port, "/", headers=HTTPS).status == 200, 60, "Django to answer")
    first = json.loads(get(c.app_port, "/", headers=HTTPS).body)
    second = json.loads(get(c.app_port, "/", headers=HTTPS).body)
    assert first["users"] == 0 and second["hits"] == first["hits"] + 1  # the Redis cache works
    import psycopg

    with psycopg.connect(pg.url) as conn:  # the migrations ran against PostgreSQL
        assert conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0  # type: ignore[index]
    c.engine.run("stop", "-t", "10", c.name)
    assert c.inspect("{{.State.ExitCode}}") == "0"
