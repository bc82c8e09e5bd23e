"""The service lookup of a user refuses a login no user can have, rather than failing."""

import pytest

from ..conftest import service_headers

INTERNAL = service_headers("accounting")


@pytest.mark.parametrize("login", ["a%00b", "%00", "user1%00", "user1@example.com%00"])
async def test_a_nul_in_the_login_is_422_not_500(client, login):
    response = await client.get(f"/internal/users/{login}", headers=INTERNAL)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_bytes_that_are_not_utf8_are_an_unknown_user(client):
    response = await client.get("/internal/users/%ED%A0%80%FF", headers=INTERNAL)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
