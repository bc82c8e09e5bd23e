"""Finding the handlers and dependencies FastAPI would run in its thread pool."""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request

from service_kit import app_state, threadpool_callables


def plain_dependency(request: Request) -> str:
    return "x"


async def async_dependency(value: Annotated[str, Depends(plain_dependency)]) -> str:
    return value


def test_plain_def_handlers_and_dependencies_are_found_however_deep():
    app = FastAPI()
    router = APIRouter(prefix="/api")

    @router.get("/sync")
    def sync_handler() -> dict:
        return {}

    @router.get("/nested")
    async def nested(value: Annotated[str, Depends(async_dependency)]) -> dict:
        return {}

    @router.get("/clean")
    async def clean(state: Annotated[object, Depends(app_state("thing"))]) -> dict:
        return {}

    app.include_router(router)
    found = threadpool_callables(app)
    assert any(f.startswith("/api/sync: ") and "sync_handler" in f for f in found), found
    assert "/api/nested: plain_dependency" in found
    assert not [f for f in found if f.startswith("/api/clean")]  # app_state is async


def test_dependencies_of_an_included_router_are_found_too():
    app = FastAPI()
    router = APIRouter(prefix="/api", dependencies=[Depends(plain_dependency)])

    @router.get("/guarded")
    async def guarded() -> dict:
        return {}

    app.include_router(router)
    assert threadpool_callables(app) == ["/api/guarded: plain_dependency"]
