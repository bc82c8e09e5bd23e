"""No route handler or dependency runs in FastAPI's thread pool (service_kit.fastapi_internals)."""

from gateway.config import GatewaySettings
from gateway.main import create_app
from service_kit import threadpool_callables


def test_every_handler_and_dependency_is_async():
    assert threadpool_callables(create_app(GatewaySettings())) == []
