"""Bringing a user into an organization the way everyone but a platform admin does it."""

import httpx


async def invite(
    api: httpx.AsyncClient, org: dict, headers: dict, email: str, role: str = "member"
) -> httpx.Response:
    return await api.post(
        f"/api/organizations/{org['id']}/invitations",
        json={"email": email, "role": role},
        headers=headers,
    )


async def accept(api: httpx.AsyncClient, invitation_id: str, user: dict) -> httpx.Response:
    return await api.post(f"/api/invitations/{invitation_id}/accept", headers=user["headers"])


async def join(
    api: httpx.AsyncClient, org: dict, inviter_headers: dict, user: dict, role: str = "member"
) -> dict:
    """``user`` invited by ``inviter_headers`` with ``role``, and accepted: their membership."""
    invited = await invite(api, org, inviter_headers, user["email"], role)
    assert invited.status_code == 201, invited.text
    accepted = await accept(api, invited.json()["id"], user)
    assert accepted.status_code == 200, accepted.text
    return accepted.json()
