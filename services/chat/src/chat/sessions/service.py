"""Sessions: create, list, read, delete; and which session a request may touch."""

import math
import uuid
from dataclasses import dataclass

from chat.accounting.client import AccountingClient
from chat.catalog.catalog import ModelCatalog
from chat.config import ChatSettings
from chat.limits.request_limit import RequestLimiter
from chat.sessions import repository
from chat.sessions.records import MessageRecord, SessionRecord
from chat.sessions.schemas import (
    CreateSessionRequest,
    MessageOut,
    Pagination,
    SessionDetail,
    SessionList,
    SessionOut,
)
from jwt_contract import Principal
from service_kit import ApiError


def session_not_found() -> ApiError:
    return ApiError(404, "not_found", "Session not found")


def session_out(session: SessionRecord) -> SessionOut:
    return SessionOut(
        session_id=session.id,
        title=session.title,
        model_id=session.model_id,
        created_at=session.created_at,
        updated_at=session.updated_at,
        message_count=session.message_count,
    )


def message_out(message: MessageRecord) -> MessageOut:
    return MessageOut(
        id=message.id,
        role=message.role,
        content=message.content,
        model_id=message.model_id,
        created_at=message.created_at,
        status=message.status,
        tokens_used=message.tokens_used,
        credits_used=message.credits_used,
    )


@dataclass
class SessionsService:
    db: repository.Database
    catalog: ModelCatalog
    accounting: AccountingClient
    limiter: RequestLimiter
    settings: ChatSettings

    def check_length(self, text: str) -> None:
        if len(text) > self.settings.max_message_chars:
            raise ApiError(
                413,
                "payload_too_large",
                f"The message is {len(text):,} characters; the limit is "
                f"{self.settings.max_message_chars:,}",
            )

    async def create(
        self,
        principal: Principal,
        token: str,
        request: CreateSessionRequest,
        session_id: str | None = None,
    ) -> SessionOut:
        """``session_id`` names the session an Idempotency-Key makes: a retry after its first
        try died midway finds what it stored and stores nothing twice."""
        model = self.catalog.resolve(request.model_id, principal)
        if request.initial_message:
            self.check_length(request.initial_message)
        await self.limiter.check(principal.user_id, creates_session=True)
        if await self.accounting.available_credits(token) <= 0:
            raise ApiError(402, "insufficient_credits", "Insufficient credits")
        now = repository.now()
        session = SessionRecord(
            id=session_id or str(uuid.uuid4()),
            user_id=principal.user_id,
            title=request.title or (request.initial_message or "New chat")[:60],
            model_id=model.id,
            created_at=now,
            updated_at=now,
            message_count=1 if request.initial_message else 0,
        )
        question = None
        if request.initial_message:
            question = MessageRecord(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, session.id))
                if session_id
                else str(uuid.uuid4()),
                session_id=session.id,
                user_id=principal.user_id,
                role="user",
                content=request.initial_message,
                model_id=model.id,
                created_at=now,
            )
        if session_id is None:
            await repository.insert_session(self.db, session)
            if question is not None:
                await repository.insert_message_record(self.db, question)
            return session_out(session)
        # The question first: a retry that finds the session finds its question too.
        if question is not None:
            await repository.insert_message_once(self.db, question)
        stored = await repository.insert_session_once(self.db, session)
        if stored is None:
            raise ApiError(409, "conflict", "That session id is taken")  # uuid4s do not meet
        return session_out(stored)

    async def owned(self, principal: Principal, session_id: str) -> SessionRecord:
        """The caller's own session; 404 for anyone else's (its existence is not revealed)."""
        session = await repository.find_session(self.db, session_id)
        if session is None or session.user_id != principal.user_id:
            raise session_not_found()
        return session

    async def readable(self, principal: Principal, session_id: str) -> SessionRecord:
        """Owners read their sessions; supervisors and admins read any."""
        session = await repository.find_session(self.db, session_id)
        if session is None:
            raise session_not_found()
        if session.user_id != principal.user_id and not principal.has_role("supervisor", "admin"):
            raise session_not_found()
        return session

    async def page(self, principal: Principal, page: int, limit: int) -> SessionList:
        sessions, total = await repository.list_sessions(
            self.db, principal.user_id, skip=(page - 1) * limit, limit=limit
        )
        return SessionList(
            sessions=[session_out(session) for session in sessions],
            pagination=Pagination(
                page=page, limit=limit, total=total, pages=math.ceil(total / limit)
            ),
        )

    async def detail(self, session: SessionRecord) -> SessionDetail:
        return SessionDetail(
            session_id=session.id,
            title=session.title,
            model_id=session.model_id,
            created_at=session.created_at,
            updated_at=session.updated_at,
            message_count=session.message_count,
            user_id=session.user_id,
            messages=await self.messages(session),
        )

    async def messages(self, session: SessionRecord) -> list[MessageOut]:
        return [message_out(m) for m in await repository.session_messages(self.db, session.id)]

    async def delete(self, session: SessionRecord) -> None:
        if not await repository.soft_delete_session(self.db, session.id):
            raise session_not_found()
