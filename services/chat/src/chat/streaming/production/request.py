"""What an answer is asked with: the request a producer runs, and the conversation as
providers want it."""

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chat.config import ModelConfig
from chat.limits.token_limit import KeyTokenLimit
from chat.providers.base import Turn
from chat.sessions.records import SessionRecord
from chat.streaming.billing.metering import estimate_tokens, prompt_text


@dataclass(frozen=True)
class Conversation:
    """Where a question is asked: a stored session (its history is read, its messages
    counted) or the OpenAI API's, which the caller sends whole and nothing stores."""

    session_id: str
    stored: bool
    message_count: int = 0


def conversation_of(session: SessionRecord | Conversation) -> Conversation:
    """The conversation of a stored session record (or one the caller made)."""
    if isinstance(session, Conversation):
        return session
    return Conversation(session.id, stored=True, message_count=session.message_count)


@dataclass
class StreamRequest:
    streaming_session_id: str  # the reservation id
    session_id: str
    user_id: str
    username: str
    model: ModelConfig
    turns: list[Turn]
    max_tokens: int
    system: str | None = None
    started_at: float = field(default_factory=time.perf_counter)
    hold_expires_at: float = math.inf  # wall-clock time the reservation expires
    token_limit: KeyTokenLimit | None = None  # the key's tokens per minute, counted at the end
    byok: bool = False  # asked with the caller's own provider credential (the BYOK fee)


def listing(request: StreamRequest, replica_id: str) -> dict[str, Any]:
    """The live stream's info hash in Redis: who asked, and what another replica needs to end
    the answer should this one die (``recovery``)."""
    return {
        "sessionId": request.session_id,
        "userId": request.user_id,
        "modelId": request.model.id,
        "username": request.username,
        "streamingSessionId": request.streaming_session_id,
        "startedAt": time.time(),
        "replica": replica_id,
        "promptTokens": estimate_tokens(prompt_text(request.turns, request.system)),
        "byok": int(request.byok),
    }


def chunk_data(piece: str, count: int) -> dict[str, Any]:
    """A chunk event's data: the piece and how many pieces so far."""
    return {"content": piece, "tokenCount": count}


def history_turns(messages: Sequence[Turn], new_message: str) -> list[Turn]:
    """The conversation as providers want it: alternating roles, starting with the user."""
    turns: list[Turn] = []
    for message in messages:
        if not message.text.strip():  # providers refuse blank turns
            continue
        if turns and turns[-1].role == message.role:
            turns[-1] = Turn(message.role, f"{turns[-1].text}\n\n{message.text}")
        else:
            turns.append(message)
    while turns and turns[0].role != "user":
        turns.pop(0)
    if turns and turns[-1].role == "user":
        turns[-1] = Turn("user", f"{turns[-1].text}\n\n{new_message}")
    else:
        turns.append(Turn("user", new_message))
    return turns


def turn_of(message: Mapping[str, str]) -> Turn:
    """A ``{"role", "content"}`` message (the OpenAI API's) as a turn."""
    role = message["role"]
    if role not in ("user", "assistant"):
        raise ValueError(f"not a turn of a conversation: {role}")
    return Turn("user" if role == "user" else "assistant", message.get("content") or "")
