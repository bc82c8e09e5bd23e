"""What the observation routes answer."""

from chat.schemas import CamelModel


class ActiveStream(CamelModel):
    streaming_session_id: str
    session_id: str
    user_id: str
    username: str
    model_id: str
    started_at: float


class ActiveStreams(CamelModel):
    streams: list[ActiveStream]
