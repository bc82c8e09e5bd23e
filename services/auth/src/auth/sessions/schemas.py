from pydantic import Field, StrictStr

from auth.users.schemas import UserOut
from service_kit import CamelModel


class LoginRequest(CamelModel):
    # Plain strings: a login no user can have (a NUL, say) is wrong credentials, not a 422.
    username: StrictStr = Field(
        min_length=1, max_length=254, description="Username or email", examples=["user1"]
    )
    password: StrictStr = Field(min_length=1, max_length=1024, examples=["User1@123"])


class TokenPair(CamelModel):
    access_token: str
    refresh_token: str


class LoginResponse(TokenPair):
    user: UserOut


class RefreshRequest(CamelModel):
    """Without a refresh token (or without a body), the refresh_token cookie's is used."""

    refresh_token: StrictStr | None = Field(None, min_length=1, max_length=4096)
