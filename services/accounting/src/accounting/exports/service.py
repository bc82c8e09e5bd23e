"""Who may export whose usage, and the export itself: a stream of bytes read from a cursor a
batch at a time, so neither the rows nor the text are ever all in memory."""

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID

import asyncpg

from accounting.accounts.service import AccountsService
from accounting.config import AccountingSettings
from accounting.exports import repository
from accounting.exports.encoding import ExportEncoder, RowContext, encoder_for
from accounting.exports.organizations import team_accounts
from accounting.exports.repository import OfAccounts, OfUser, Subject
from accounting.exports.schemas import (
    Dimension,
    ExportFormat,
    ExportRange,
    export_range,
    parse_group_by,
)
from jwt_contract import Principal
from service_client import ServiceClient
from service_kit import ApiError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class ExportRequest:
    """An export as the route received it."""

    start: date | None
    end: date | None
    group_by: str | None
    export_format: ExportFormat
    user_ref: str | None
    organization_id: UUID | None


@dataclass(frozen=True)
class Export:
    """A started export: its first bytes (header and first batch, read before the response
    starts, so a refusal or an outage is still an error status) and a generator of the rest,
    which the response closes when it ends, however it ends."""

    first: bytes
    rest: AsyncGenerator[bytes, None]
    media_type: str
    filename: str


def user_and_organization() -> ApiError:
    return ApiError(
        422,
        "invalid_filter",
        "Give userId or organizationId, not both",
        details={"conflicting": ["userId", "organizationId"]},
    )


def too_many_exports(limit: int) -> ApiError:
    return ApiError(
        429,
        "too_many_exports",
        f"{limit} exports are already streaming from this replica; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _names_self(principal: Principal, user_ref: str) -> bool:
    ref = user_ref.strip()
    return ref == principal.user_id or ref.lower() == principal.username.lower()


@dataclass
class ExportsService:
    pool: asyncpg.Pool
    accounts: AccountsService
    settings: AccountingSettings
    provisioning: ServiceClient  # an organization's teams and roles
    # Each streaming export holds a pooled connection: at most this many at once.
    _slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.settings.export_max_concurrent)

    async def start(self, principal: Principal, request: ExportRequest) -> Export:
        group_by = parse_group_by(request.group_by)
        span = export_range(
            request.start, request.end, datetime.now(UTC), self.settings.export_max_days
        )
        subject = await self.exported_subject(principal, request)
        # Rows not grouped by user show the exported user; an organization's are many users'.
        shown_user = subject.user_id if isinstance(subject, OfUser) else None
        encoder = encoder_for(request.export_format, RowContext(span.period, shown_user))
        rest = self._stream(encoder, group_by, span, subject)
        first = await anext(rest)
        return Export(
            first=first,
            rest=rest,
            media_type=encoder.media_type,
            filename=f"usage-{span.start:%Y%m%dT%H%M%SZ}-{span.end:%Y%m%dT%H%M%SZ}"
            f".{encoder.extension}",
        )

    async def exported_subject(self, principal: Principal, request: ExportRequest) -> Subject:
        """The usage the caller may export: a user's (``exported_user``), or with
        ``organization_id`` the organization's team accounts' (its owners and admins)."""
        if request.organization_id is None:
            return OfUser(await self.exported_user(principal, request.user_ref))
        if request.user_ref is not None:
            raise user_and_organization()
        return OfAccounts(
            await team_accounts(self.provisioning, principal, request.organization_id)
        )

    async def exported_user(self, principal: Principal, user_ref: str | None) -> str:
        """The caller's own id, or for supervisors and admins the user ``user_ref`` names (id
        or username; 404 when unknown). Anyone else naming another user is 403, whether or
        not that user exists."""
        if user_ref is None or _names_self(principal, user_ref):
            return principal.user_id
        if not principal.has_role("supervisor", "admin"):
            raise ApiError(
                403, "forbidden", "Only supervisors and admins may export another user's usage"
            )
        return (await self.accounts.user_account(user_ref)).owner_id

    async def _stream(
        self,
        encoder: ExportEncoder,
        group_by: tuple[Dimension, ...],
        span: ExportRange,
        subject: Subject,
    ) -> AsyncGenerator[bytes, None]:
        if self._slots.locked():
            raise too_many_exports(self.settings.export_max_concurrent)
        rows = sent = 0
        async with (
            self._slots,
            self.pool.acquire() as conn,
            # One snapshot, so the rows add up to the ledger of one moment.
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            # A client that stops reading leaves this transaction idle: PostgreSQL ends it
            # after a while instead of keeping its snapshot (and a connection) forever.
            await repository.limit_idle_transaction(conn, self.settings.export_idle_timeout_seconds)
            batches = repository.usage_groups(
                conn,
                group_by,
                start=span.start,
                end=span.end,
                subject=subject,
                batch_rows=self.settings.export_batch_rows,
            )
            header = encoder.start()
            async with aclosing(batches):
                async for batch in batches:
                    chunk, header = header + encoder.rows(batch), b""
                    rows, sent = rows + len(batch), sent + len(chunk)
                    yield chunk
            # The header goes with the first batch, or alone when there are no rows: either
            # way only once the query has answered.
            yield header + encoder.end()
        log.info(
            "usage exported",
            extra={**_logged(subject), "groupBy": ",".join(group_by), "rows": rows, "bytes": sent},
        )


def _logged(subject: Subject) -> dict[str, object]:
    if isinstance(subject, OfUser):
        return {"userId": subject.user_id}
    return {"accounts": len(subject.account_ids)}
