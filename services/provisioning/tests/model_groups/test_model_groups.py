import uuid

from ..conftest import HAIKU, TITAN, audit, login, new_user


async def test_an_admin_names_a_set_of_catalog_models(api, auth):
    admin = await login(auth, "admin")
    name = f"fast-{uuid.uuid4().hex[:6]}"
    response = await api.post(
        "/api/model-groups",
        json={"name": name, "models": [HAIKU, TITAN, HAIKU], "description": "cheap and quick"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["models"] == [HAIKU, TITAN]
    user = await new_user(auth)
    listed = await api.get("/api/model-groups", headers=user["headers"])
    assert name in [g["name"] for g in listed.json()["modelGroups"]]
    entries = await audit(api, admin, action="model_group.created", targetId=response.json()["id"])
    assert entries[0]["after"]["models"] == [HAIKU, TITAN]


async def test_a_model_outside_the_catalog_is_refused(api, auth):
    admin = await login(auth, "admin")
    response = await api.post(
        "/api/model-groups",
        json={"name": f"g-{uuid.uuid4().hex[:6]}", "models": [HAIKU, "gpt-17-ultra"]},
        headers=admin,
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_model")
    assert response.json()["details"]["unknown"] == ["gpt-17-ultra"]


async def test_names_are_unique_and_only_admins_create(api, auth):
    admin = await login(auth, "admin")
    name = f"g-{uuid.uuid4().hex[:6]}"
    body = {"name": name, "models": [HAIKU]}
    assert (await api.post("/api/model-groups", json=body, headers=admin)).status_code == 201
    upper = {"name": name.upper(), "models": [HAIKU]}
    duplicate = await api.post("/api/model-groups", json=upper, headers=admin)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "name_taken")
    user = await new_user(auth)
    other = {"name": f"g-{uuid.uuid4().hex[:6]}", "models": [HAIKU]}
    forbidden = await api.post("/api/model-groups", json=other, headers=user["headers"])
    assert forbidden.status_code == 403
    empty = await api.post("/api/model-groups", json={"name": "e", "models": []}, headers=admin)
    assert empty.status_code == 422
