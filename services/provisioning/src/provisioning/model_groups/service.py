"""Model groups: named sets of catalog model ids that teams and plans are given."""

from dataclasses import asdict, dataclass

import asyncpg

from idempotency import StoredResponse
from jwt_contract import Principal
from provisioning.audit.service import Actor, record
from provisioning.clients.catalog import CatalogClient
from provisioning.database import Connection
from provisioning.idempotent import Once
from provisioning.model_groups import repository
from provisioning.model_groups.repository import ModelGroup
from provisioning.model_groups.schemas import ModelGroupCreate, ModelGroupList, ModelGroupOut
from service_kit import ApiError


@dataclass(frozen=True)
class ResolvedGroups:
    names: list[str]  # as stored, in the order given
    models: list[str]  # every model of those groups, each once


def _out(group: ModelGroup) -> ModelGroupOut:
    return ModelGroupOut.model_validate(asdict(group))


async def resolve_groups(conn: Connection, names: list[str]) -> ResolvedGroups:
    """The groups called ``names`` (case-insensitive); 400 naming any that do not exist."""
    wanted = list(dict.fromkeys(name.strip() for name in names))
    found = {group.name.lower(): group for group in await repository.by_names(conn, wanted)}
    missing = [name for name in wanted if name.lower() not in found]
    if missing:
        raise ApiError(
            400,
            "unknown_model_group",
            f"Unknown model group: {', '.join(missing)}",
            details={"unknown": missing},
        )
    groups = [found[name.lower()] for name in wanted]
    models = list(dict.fromkeys(model for group in groups for model in group.models))
    return ResolvedGroups([group.name for group in groups], models)


@dataclass
class ModelGroupsService:
    pool: asyncpg.Pool
    catalog: CatalogClient

    async def create(
        self,
        admin: Principal,
        request: ModelGroupCreate,
        caller_token: str,
        once: Once | None = None,
    ) -> ModelGroupOut | StoredResponse:
        models = list(dict.fromkeys(model.strip() for model in request.models))
        known = await self.catalog.model_ids(caller_token)
        unknown = [model for model in models if model not in known]
        if unknown:
            raise ApiError(
                400,
                "invalid_model",
                f"Not in the model catalog: {', '.join(unknown)}",
                details={"unknown": unknown, "known": sorted(known)},
            )
        async with self.pool.acquire() as conn, conn.transaction():
            if once is not None and (kept := await once.claim(conn)) is not None:
                return kept
            try:
                created = await repository.insert(
                    conn,
                    name=request.name.strip(),
                    models=models,
                    description=request.description,
                    by=admin.user_id,
                )
            except asyncpg.UniqueViolationError:
                raise ApiError(
                    409, "name_taken", f"A model group is already called {request.name}"
                ) from None
            group = _out(created)
            await record(
                conn,
                Actor.of(admin),
                "model_group.created",
                target_type="model_group",
                target_id=group.id,
                after=group,
            )
            if once is not None:
                await once.record(conn, group)
        return group

    async def list(self) -> ModelGroupList:
        async with self.pool.acquire() as conn:
            groups = await repository.every(conn)
        return ModelGroupList(model_groups=[_out(group) for group in groups])
