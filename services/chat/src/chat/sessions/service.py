"""Sessions: create, list, read, delete; and which session a request may touch."""

import math
import uuid
from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from chat.accounting.client import AccountingClient
from chat.catalog.catalog import ModelCatalog
from chat.config import ChatSettings
from chat.limits.request_limit import RequestLimiter
from chat.sessions import repository
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


def session_out(doc: dict) -> SessionOut:
    return SessionOut(
        session_id=doc["_id"],
        title=doc["title"],
        model_id=doc["modelId"],
        created_at=doc["createdAt"],
        updated_at=doc.get("updatedAt"),
        message_count=doc.get("messageCount", 0),
    )


def message_out(doc: dict) -> MessageOut:
    tokens = doc.get("tokens")
    return MessageOut(
        id=doc["_id"],
        role=doc["role"],
        content=doc.get("content", ""),
        model_id=doc.get("modelId"),
        created_at=doc["createdAt"],
        status=doc.get("status"),
        tokens_used=(tokens["input"] + tokens["output"]) if tokens else None,
        credits_used=doc.get("creditsUsed"),
    )


@dataclass
class SessionsService:
    db: AsyncDatabase
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
        self, principal: Principal, token: str, request: CreateSessionRequest
    ) -> SessionOut:
        model = self.catalog.resolve(request.model_id, principal)
        if request.initial_message:
            self.check_length(request.initial_message)
        await self.limiter.check(principal.user_id, creates_session=True)
        if await self.accounting.available_credits(token) <= 0:
            raise ApiError(402, "insufficient_credits", "Insufficient credits")
        now = repository.now()
        title = request.title or (request.initial_message or "New chat")[:60]
        doc = {
            "_id": str(uuid.uuid4()),
            "userId": principal.user_id,
            "title": title,
            "modelId": model.id,
            "createdAt": now,
            "updatedAt": now,
            "messageCount": 1 if request.initial_message else 0,
            "deletedAt": None,
        }
        await repository.insert_session(self.db, doc)
        if request.initial_message:
            await repository.insert_message(
                self.db,
                {
                    "_id": str(uuid.uuid4()),
                    "sessionId": doc["_id"],
                    "userId": principal.user_id,
                    "role": "user",
                    "content": request.initial_message,
                    "modelId": model.id,
                    "createdAt": now,
                },
            )
        return session_out(doc)

    async def owned(self, principal: Principal, session_id: str) -> dict:
        """The caller's own session; 404 for anyone else's (its existence is not revealed)."""
        doc = await repository.find_session(self.db, session_id)
        if doc is None or doc["userId"] != principal.user_id:
            raise session_not_found()
        return doc

    async def readable(self, principal: Principal, session_id: str) -> dict:
        """Owners read their sessions; supervisors and admins read any."""
        doc = await repository.find_session(self.db, session_id)
        if doc is None:
            raise session_not_found()
        if doc["userId"] != principal.user_id and not principal.has_role("supervisor", "admin"):
            raise session_not_found()
        return doc

    async def page(self, principal: Principal, page: int, limit: int) -> SessionList:
        docs, total = await repository.list_sessions(
            self.db, principal.user_id, skip=(page - 1) * limit, limit=limit
        )
        return SessionList(
            sessions=[session_out(doc) for doc in docs],
            pagination=Pagination(
                page=page, limit=limit, total=total, pages=math.ceil(total / limit)
            ),
        )

    async def detail(self, doc: dict) -> SessionDetail:
        messages = await repository.session_messages(self.db, doc["_id"])
        return SessionDetail(
            **session_out(doc).model_dump(),
            user_id=doc["userId"],
            messages=[message_out(m) for m in messages],
        )

    async def messages(self, doc: dict) -> list[MessageOut]:
        return [message_out(m) for m in await repository.session_messages(self.db, doc["_id"])]

    async def delete(self, doc: dict) -> None:
        if not await repository.soft_delete_session(self.db, doc["_id"]):
            raise session_not_found()
