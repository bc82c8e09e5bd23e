"""``Idempotency-Key`` on provisioning's creating POSTs (issue 14), with the idempotency lib.

A route builds a :class:`Once` from the caller and the header (``None`` without one) and passes
it to its service, which claims the key first in the transaction that does the work and records
the response there: the work and its key commit together or not at all. The route answers with
:func:`answer`, so the first response is byte for byte what a replay will send.
"""

from typing import Any

import idempotency
from idempotency import REPLAY_DESCRIPTION, IdempotentRequest, answer
from jwt_contract import Principal
from service_kit import ApiError, error_responses

__all__ = ["REPLAY_DESCRIPTION", "Once", "answer", "idempotent_responses", "key_reused"]


class Once(idempotency.Once):
    """A provisioning request's key: the caller is the principal's user."""

    @classmethod
    def of(
        cls,
        principal: Principal,
        request: IdempotentRequest | None,
        status_code: int,
        *,
        exclude_none: bool = False,
    ) -> "Once | None":
        return cls.bound(principal.user_id, request, status_code, exclude_none=exclude_none)


def key_reused() -> ApiError:
    """The key did its work before this service still kept it (past 24 h): a retry with it can
    no longer be told from a new request, so it is refused rather than done twice."""
    return ApiError(
        422, "idempotency_key_reused", "This Idempotency-Key was already used for another request"
    )


def idempotent_responses(status_code: int, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented answers of a route taking the key: its errors (``service_kit``'s) with
    the key's 409 and 422 merged in, and the replay header on the success status."""
    return idempotency.idempotent_responses(status_code, error_responses(*statuses))
