"""Run a service as a process: settings checked first, JSON logs, uvicorn."""

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from service_kit.logs import configure_logging
from service_kit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def run_service(load_settings: Callable[[], S], build_app: Callable[[S], FastAPI]) -> None:
    """Entry point body for a service's console script; exits 2 on bad configuration."""
    try:
        settings = load_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        print(f"refusing to start: invalid configuration: {problems}", file=sys.stderr)
        sys.exit(2)
    configure_logging(settings.service_name, settings.log_level)
    logging.getLogger(__name__).info(
        "starting", extra={"environment": settings.environment, "port": settings.port}
    )
    uvicorn.run(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
