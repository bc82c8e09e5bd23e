from typing import Literal

from pydantic import BaseModel


class ServiceTokenResponse(BaseModel):
    """RFC 6749 §5.1: the OAuth field names, not camelCase."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str
