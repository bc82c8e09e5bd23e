from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from chat.schemas import CamelModel, CamelRequest

ModelId = str


def _not_blank(value: str) -> str:
    # Providers refuse a turn of nothing but whitespace (Bedrock: "The text field ... is
    # blank"): the model would fail, so the request does now, as a 422.
    if not value.strip():
        raise PydanticCustomError("string_blank", "must not be blank")
    return value


class CreateSessionRequest(CamelRequest):
    title: str | None = Field(None, max_length=200)
    initial_message: str | None = Field(None, min_length=1)
    model_id: ModelId | None = Field(None, max_length=200)


class SessionOut(CamelModel):
    session_id: str
    title: str
    model_id: str
    created_at: datetime
    updated_at: datetime | None = None
    message_count: int = 0


class Pagination(CamelModel):
    page: int
    limit: int
    total: int
    pages: int


class SessionList(CamelModel):
    sessions: list[SessionOut]
    pagination: Pagination


class MessageOut(CamelModel):
    id: str
    role: Literal["user", "assistant"]
    content: str
    model_id: str | None = None
    created_at: datetime
    status: str | None = Field(
        None,
        description="For answers: complete, interrupted, failed or lost (its replica died "
        "mid-answer: the text streamed until then)",
    )
    tokens_used: int | None = None
    credits_used: float | None = None


class SessionDetail(SessionOut):
    user_id: str
    messages: list[MessageOut]


class MessageList(CamelModel):
    messages: list[MessageOut]


class SendMessageRequest(CamelRequest):
    message: Annotated[str, AfterValidator(_not_blank)] = Field(
        min_length=1, description="The user's message, not only whitespace"
    )
    model_id: ModelId | None = Field(None, max_length=200)


class SendMessageResponse(CamelModel):
    message: str
    response: str
    tokens_used: int
    credits_used: float | None
    message_id: str


class UpdateStreamRequest(CamelRequest):
    """What older clients send when an answer ends. Accepted and ignored: what an answer
    used, and what it is charged, is what the server measured."""

    complete_response: str | None = None
    streaming_session_id: str | None = Field(None, max_length=100)
    tokens_used: int | None = Field(
        None, ge=0, description="Ignored: billing uses the server's count"
    )


class Acknowledged(CamelModel):
    message: str
