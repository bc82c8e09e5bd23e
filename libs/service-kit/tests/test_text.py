"""Strings PostgreSQL cannot store (a NUL, a lone surrogate) are a 422 ``validation_error``,
never a 500: refused by the ``Text`` type in bodies, paths and queries, and, for anything that
still reaches the database, by the error handler as a backstop. Strict types: ``false`` is not
a count, ``"yes"`` not a boolean, ``0.5`` not a timestamp."""

from datetime import UTC, datetime
from typing import Annotated

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictBool, StrictInt, ValidationError

from service_kit import ServiceSettings, Text, Timestamp, create_app, text_problem

router = APIRouter()


class Thing(BaseModel):
    name: Text
    tags: list[Annotated[Text, Field(max_length=20)]] = []
    count: StrictInt = 0
    enabled: StrictBool = True
    at: Timestamp | None = None


@router.post("/things")
async def make(body: Thing) -> dict:
    return {"name": body.name, "at": body.at}


@router.get("/things/{name}")
async def read(name: Text, q: Annotated[Text | None, Query(max_length=50)] = None) -> dict:
    return {"name": name, "q": q}


@router.get("/plain/{value}")
async def plain(value: str, postgres: str) -> dict:
    """No validation at all: what reaches PostgreSQL is refused there (the backstop)."""
    conn = await asyncpg.connect(postgres)
    try:
        return {"value": await conn.fetchval("SELECT $1::text", value)}
    finally:
        await conn.close()


@pytest.fixture
async def client():
    app = create_app(ServiceSettings(service_name="kit-test"), title="kit", routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def assert_422(response: httpx.Response, field: str | None = None) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    if field is not None:
        assert body["details"][0]["field"] == field, body


def test_text_problem_names_what_is_wrong():
    assert text_problem("fine, même en français") is None
    assert text_problem("a\x00b") == "must not contain NUL characters"
    assert text_problem("a\ud800b") == "must be valid Unicode (no lone surrogates)"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (rb'{"name": "a\u0000b"}', "body.name"),
        (rb'{"name": "\u0000"}', "body.name"),
        (rb'{"name": "ok", "tags": ["x", "y\u0000"]}', "body.tags.1"),
        (rb'{"name": "a\ud800b"}', "body.name"),
    ],
)
async def test_a_body_string_postgres_cannot_store_is_422(client, raw, field):
    response = await client.post(
        "/things", content=raw, headers={"content-type": "application/json"}
    )
    assert_422(response, field)
    assert "\x00" not in response.text


@pytest.mark.parametrize(
    ("url", "field"),
    [("/things/a%00b", "path.name"), ("/things/ok?q=%00", "query.q"), ("/things/ok?q=a%00", None)],
)
async def test_a_nul_in_a_path_or_query_is_422(client, url, field):
    assert_422(await client.get(url), field)


async def test_ordinary_text_passes(client):
    response = await client.get("/things/caf%C3%A9", params={"q": "naïve ✓"})
    assert response.json() == {"name": "café", "q": "naïve ✓"}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"count": False}, "body.count"),
        ({"count": 2.0}, "body.count"),
        ({"count": "3"}, "body.count"),
        ({"enabled": "yes"}, "body.enabled"),
        ({"enabled": 1}, "body.enabled"),
        ({"at": 0.5}, "body.at"),
        ({"at": 1893456000}, "body.at"),
        ({"at": "1893456000"}, "body.at"),
        ({"at": "2030-01-01"}, "body.at"),
        ({"at": "2030-01-01T00:00:00"}, "body.at"),
        ({"at": "next tuesday"}, "body.at"),
    ],
)
async def test_strict_types_refuse_the_wrong_json_type(client, extra, field):
    assert_422(await client.post("/things", json={"name": "n", **extra}), field)


@pytest.mark.parametrize(
    "stamp",
    ["2030-01-01T00:00:00Z", "2030-01-01T01:30:00.000+01:30", "2030-01-01t00:00:00z"],
)
async def test_rfc3339_timestamps_pass(client, stamp):
    response = await client.post("/things", json={"name": "n", "at": stamp})
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["at"]) == datetime(2030, 1, 1, tzinfo=UTC)


def test_a_timestamp_given_in_python_must_be_aware():
    assert Thing(name="n", at=datetime(2030, 1, 1, tzinfo=UTC)).at.year == 2030
    with pytest.raises(ValidationError, match="time zone"):
        Thing(name="n", at=datetime(2030, 1, 1))


async def test_text_postgres_refuses_is_a_422_not_a_500(client, postgres_url):
    """The backstop: a string no type checked, refused by PostgreSQL itself."""
    ok = await client.get("/plain/fine", params={"postgres": postgres_url})
    assert ok.json() == {"value": "fine"}
    response = await client.get("/plain/a%00b", params={"postgres": postgres_url})
    assert_422(response)
    assert response.json()["message"] == "Invalid request: text that cannot be stored"


async def test_422_is_documented_as_the_envelope(client):
    schema = (await client.get("/openapi.json")).json()
    for path, method in [("/things", "post"), ("/things/{name}", "get")]:
        documented = schema["paths"][path][method]["responses"]["422"]
        assert documented["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert "HTTPValidationError" not in schema["components"]["schemas"]
