"""The names tests import from infra_fixtures: a change here is a change to the tests of
every lib and service, so it is made on purpose (and this list with it)."""

import infra_fixtures

SURFACE = [
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


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(infra_fixtures.__all__) == sorted(SURFACE)
    for name in infra_fixtures.__all__:
        assert getattr(infra_fixtures, name) is not None, name
