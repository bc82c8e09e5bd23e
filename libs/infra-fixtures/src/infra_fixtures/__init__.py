"""Pytest fixtures for real infrastructure.

Each backing service comes from an environment URL (``TEST_POSTGRES_URL``, ``TEST_REDIS_URL``,
``TEST_RABBITMQ_URL``, ``TEST_MONGO_URL``); when one is unset and a Docker engine answers, a
throwaway container is started with testcontainers instead. Every test run (and every xdist
worker) gets its own PostgreSQL database, Redis database number, RabbitMQ exchange and MongoDB
database, so runs never see each other's data.

The fixtures (``postgres_server_url``, ``postgres_url``, ``postgres_databases``,
``redis_url``, ``rabbitmq_url``, ``bus_namespace``, ``mongo_url``, ``mongo_database_name``)
come with the pytest plugin; the names below are for tests that need more: ``TcpProxy``
cuts a connection to a server, ``serve_app`` runs an ASGI app over real HTTP,
``FailingPool`` fails a pool's first acquisitions, ``run_async`` runs a coroutine from a
synchronous fixture.
"""

from infra_fixtures.flaky_pool import FailingPool
from infra_fixtures.isolation import RUN_ID, unique_name, worker_index
from infra_fixtures.plugin import BusNamespace, PostgresDatabases, run_async
from infra_fixtures.proxy import TcpProxy
from infra_fixtures.servers import serve_app
from infra_fixtures.sources import InfrastructureUnavailable, with_path

__all__ = [
    "RUN_ID",
    "BusNamespace",
    "FailingPool",
    "InfrastructureUnavailable",
    "PostgresDatabases",
    "TcpProxy",
    "run_async",
    "serve_app",
    "unique_name",
    "with_path",
    "worker_index",
]
