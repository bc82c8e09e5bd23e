"""Kept only until the services' tests import ``threadpool_callables`` from ``service_kit``."""

from service_kit.fastapi_internals import threadpool_callables

__all__ = ["threadpool_callables"]
