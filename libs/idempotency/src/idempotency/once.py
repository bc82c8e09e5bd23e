"""A request sent with a key, bound to its caller and its success status, for services that do
the work in one transaction: what a route builds, its service claims and records, and the route
answers with."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from fastapi import Response
from pydantic import BaseModel

from idempotency.keys import IdempotentRequest
from idempotency.responses import IDEMPOTENCY_RESPONSES, StoredResponse, replayed_header_doc
from idempotency.store import claim, record
from pg_migrations import Connection

Model = TypeVar("Model", bound=BaseModel)

REPLAY_DESCRIPTION = (
    "With an `Idempotency-Key` (per caller), a retry with the same key and body within 24 h "
    "answers the first response again (`Idempotent-Replayed: true`) and creates nothing; the "
    "same key with another body → 422 `idempotency_key_reused`."
)


@dataclass(frozen=True)
class Once:
    """A request sent with a key: whose key, and how its response is rendered and kept.

    The service calls :meth:`claim` first in the transaction that does the work (a
    :class:`StoredResponse` means: do nothing, answer it) and :meth:`record` with the model it
    answers before that transaction commits. A subclass changes how a response is kept in the
    table (:meth:`kept`) and read back (:meth:`opened`): auth seals them, say."""

    caller: str
    request: IdempotentRequest
    status_code: int
    exclude_none: bool = field(default=False, kw_only=True)  # the route drops null fields

    @classmethod
    def bound(
        cls,
        caller: str,
        request: IdempotentRequest | None,
        status_code: int,
        *,
        exclude_none: bool = False,
    ) -> Self | None:
        """The key of ``caller``'s request, or ``None`` when it came without one."""
        if request is None:
            return None
        return cls(caller, request, status_code, exclude_none=exclude_none)

    async def claim(self, conn: Connection) -> StoredResponse | None:
        """The response this key got before (then do nothing), or ``None``: do the work."""
        kept = await claim(conn, self.caller, self.request)
        return None if kept is None else self.opened(kept)

    async def record(self, conn: Connection, model: BaseModel) -> None:
        await record(conn, self.caller, self.request, self.kept(self.stored(model)))

    def stored(self, model: BaseModel) -> StoredResponse:
        """The model as the route renders it: by alias, without nulls when ``exclude_none``."""
        body = model.model_dump_json(by_alias=True, exclude_none=self.exclude_none)
        return StoredResponse(self.status_code, body.encode(), "application/json")

    def kept(self, response: StoredResponse) -> StoredResponse:
        """The response as the table keeps it (as it is, here)."""
        return response

    def opened(self, kept: StoredResponse) -> StoredResponse:
        """A kept response as the route answers it again (the inverse of :meth:`kept`)."""
        return kept


def answer(result: Model | StoredResponse, once: Once | None) -> Model | Response:
    """What the route sends: a kept response again, or the new one as it is kept (so the first
    response is byte for byte what a replay sends)."""
    if isinstance(result, StoredResponse):
        return result.response(replayed=True)
    if once is not None:
        return once.stored(result).response(replayed=False)
    return result


def idempotent_responses(
    status_code: int, documented: Mapping[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A route's documented answers with the key's 409 and 422 merged in (a 409 of its own
    keeps its description, with the key's after it; the key's 422 covers a malformed request
    too), and the replay header on its success status."""
    merged = dict(documented or {})
    for status, key_answer in IDEMPOTENCY_RESPONSES.items():
        own = merged.get(status)
        if own is None or status == 422:
            merged[status] = key_answer
        else:
            description = f"{own['description']}; or {key_answer['description']}"
            merged[status] = {**key_answer, "description": description}
    success = merged.get(status_code, {})
    merged[status_code] = {**success, "headers": replayed_header_doc()}
    return merged
