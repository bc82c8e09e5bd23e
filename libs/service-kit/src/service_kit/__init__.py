"""FastAPI service kit shared by every service of the platform.

``create_app`` builds an app with the platform's conventions: the ``{message, code}`` error
envelope for every error, an ``X-Request-ID`` on every response and in every log line,
Prometheus ``/metrics``, ``/api/health`` plus ``/api/health/ready``, and the request body
limit (``MAX_BODY_BYTES``). A database or cache that cannot be reached answers ``503
database_unavailable`` / ``redis_unavailable`` with ``Retry-After`` (``outages.py`` says which
exceptions are an outage, for bus consumers and background loops too). ``Text`` and
``Timestamp`` are request field types that refuse strings PostgreSQL cannot store and
timestamps that are not RFC 3339 strings. ``CamelModel`` and ``ClosedCamelModel`` are the
bases of request and response bodies (camelCase JSON). ``/docs`` serves Swagger UI from the
service itself (``docs.py``). ``threadpool_callables`` lists the handlers and dependencies
FastAPI would run in its thread pool, for a service's tests to keep that list empty.
"""

from service_kit.app import create_app
from service_kit.camel import CamelModel, ClosedCamelModel
from service_kit.errors import ApiError, ErrorBody, error_response, error_responses
from service_kit.fastapi_internals import threadpool_callables
from service_kit.fields import Text, Timestamp, text_problem
from service_kit.health import Degradable, ReadinessCheck
from service_kit.openapi import DocumentedApp
from service_kit.outages import is_outage, log_failure, outage_code
from service_kit.request_context import request_id_var
from service_kit.server import run_service
from service_kit.settings import ServiceSettings, dev_secret
from service_kit.state import app_state

__all__ = [
    "ApiError",
    "CamelModel",
    "ClosedCamelModel",
    "Degradable",
    "DocumentedApp",
    "ErrorBody",
    "ReadinessCheck",
    "ServiceSettings",
    "Text",
    "Timestamp",
    "app_state",
    "create_app",
    "dev_secret",
    "error_response",
    "error_responses",
    "is_outage",
    "log_failure",
    "outage_code",
    "request_id_var",
    "run_service",
    "text_problem",
    "threadpool_callables",
]
