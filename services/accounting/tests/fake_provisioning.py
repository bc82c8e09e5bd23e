"""Provisioning as accounting meets it over HTTP, for the export tests: its
``GET /internal/organizations/{id}/access``, answering from organizations a test declares.

Like the real route, it wants a service token with ``organizations:read`` (read unverified
here: auth's signature is not what these tests are about)."""

import uuid
from dataclasses import dataclass, field

import jwt
from fastapi import FastAPI, Header, HTTPException, Query


@dataclass
class FakeOrganization:
    members: dict[str, str]  # user id → owner, admin or member
    teams: list[dict[str, str]]  # {id, accountId}


@dataclass
class FakeProvisioning:
    url: str = ""  # where it is served
    organizations: dict[str, FakeOrganization] = field(default_factory=dict)
    asked: list[tuple[str, str]] = field(default_factory=list)  # (organization, user) asked

    def organization(self, members: dict[str, str], account_ids=()) -> str:
        """A new organization's id: these members, a team per account."""
        org_id = str(uuid.uuid4())
        teams = [{"id": str(uuid.uuid4()), "accountId": str(a)} for a in account_ids]
        self.organizations[org_id] = FakeOrganization(dict(members), teams)
        return org_id

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/organizations/{org_id}/access")
        async def access(
            org_id: str, user_id: str = Query(alias="userId"), authorization: str = Header()
        ) -> dict:
            token = authorization.removeprefix("Bearer ")
            claims = jwt.decode(token, options={"verify_signature": False})
            if "organizations:read" not in claims.get("scope", "").split():
                raise HTTPException(403, "insufficient_scope")
            self.asked.append((org_id, user_id))
            org = self.organizations.get(org_id)
            if org is None:
                raise HTTPException(404, "not_found")
            return {"role": org.members.get(user_id), "teams": org.teams}

        return app
