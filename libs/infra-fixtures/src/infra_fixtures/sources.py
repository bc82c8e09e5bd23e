"""Where each backing service comes from: an environment URL, else a testcontainer."""

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

ENV_VARS = {
    "postgres": "TEST_POSTGRES_URL",
    "redis": "TEST_REDIS_URL",
    "rabbitmq": "TEST_RABBITMQ_URL",
    "mongo": "TEST_MONGO_URL",
}


class InfrastructureUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Source:
    url: str
    origin: str  # "env" or "container"


def docker_engine_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


def _postgres_container(stack: ExitStack) -> str:
    from testcontainers.community.postgres import PostgresContainer

    container = stack.enter_context(PostgresContainer("postgres:16-alpine", driver=None))
    return container.get_connection_url()


def _redis_container(stack: ExitStack) -> str:
    from testcontainers.community.redis import RedisContainer

    container = stack.enter_context(RedisContainer("redis:7-alpine"))
    return f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}"


def _rabbitmq_container(stack: ExitStack) -> str:
    from testcontainers.community.rabbitmq import RabbitMqContainer

    container = stack.enter_context(RabbitMqContainer("rabbitmq:3-alpine"))
    host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
    return f"amqp://guest:guest@{host}:{port}/"


def _mongo_container(stack: ExitStack) -> str:
    from testcontainers.community.mongodb import MongoDbContainer

    container = stack.enter_context(MongoDbContainer("mongo:7"))
    return container.get_connection_url()


# Each starts its container, closed by the stack, and returns the server's URL.
_CONTAINERS: dict[str, Callable[[ExitStack], str]] = {
    "postgres": _postgres_container,
    "redis": _redis_container,
    "rabbitmq": _rabbitmq_container,
    "mongo": _mongo_container,
}


def resolve(kind: str, stack: ExitStack) -> Source:
    """The URL for ``kind``; starts a container (closed by ``stack``) when the env has none."""
    env_var = ENV_VARS[kind]
    if url := os.environ.get(env_var):
        return Source(url=url, origin="env")
    if not docker_engine_available():
        raise InfrastructureUnavailable(
            f"{env_var} is not set and no Docker engine answers: set {env_var} to a running "
            f"{kind} server (the Makefile's test target does this for the local stack)."
        )
    return Source(url=_CONTAINERS[kind](stack), origin="container")


def with_path(url: str, path: str) -> str:
    """``url`` with its path replaced, e.g. a server URL pointed at one database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + path.lstrip("/"), parts.query, ""))
