"""Fixtures that start real servers: PostgreSQL and Redis instances of the tests' own, on free
ports in temporary directories (never the machine's shared ones). Fixtures for the supervisor
itself are beside the tests that use them, in ``integration/conftest.py``."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from tests.servers import PgFactory, PgServer, RedisFactory, RedisServer, Unavailable
from tests.servers import pg_template as make_pg_template

# Property tests draw the same examples on every run: the suite is deterministic, in CI too.
hypothesis_settings.register_profile("deterministic", derandomize=True, database=None)
hypothesis_settings.load_profile("deterministic")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[Path]:
    try:
        data = make_pg_template()
    except Unavailable as exc:
        pytest.skip(str(exc))
    yield data
    shutil.rmtree(data.parent, ignore_errors=True)


@pytest.fixture
def pg_factory(pg_template: Path) -> Iterator[PgFactory]:
    factory = PgFactory(pg_template)
    yield factory
    factory.close()


@pytest.fixture
def pg(pg_factory: PgFactory) -> PgServer:
    return pg_factory.new()


@pytest.fixture
def redis_factory(tmp_path: Path) -> Iterator[RedisFactory]:
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    factory = RedisFactory(tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def redis_server(redis_factory: RedisFactory) -> RedisServer:
    return redis_factory.new()
