"""The id of the request being served, for responses and log lines."""

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def choose_request_id(sent: str | None) -> str:
    """Echo the client's id when it is sane, otherwise mint one (ids end up in logs)."""
    if sent and _ACCEPTABLE_ID.match(sent):
        return sent
    return uuid.uuid4().hex
