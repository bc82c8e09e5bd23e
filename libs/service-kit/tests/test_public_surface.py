"""The names the services import from service_kit: a change here is a change to every
service, so it is made on purpose (and this list with it)."""

import service_kit

SURFACE = [
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


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(service_kit.__all__) == sorted(SURFACE)
    for name in service_kit.__all__:
        assert getattr(service_kit, name) is not None, name
