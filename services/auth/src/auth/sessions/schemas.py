from pydantic import Field

from auth.users.schemas import CamelModel, UserOut


class LoginRequest(CamelModel):
    username: str = Field(
        min_length=1, max_length=254, description="Username or email", examples=["user1"]
    )
    password: str = Field(min_length=1, max_length=1024, examples=["User1@123"])


class TokenPair(CamelModel):
    access_token: str
    refresh_token: str


class LoginResponse(TokenPair):
    user: UserOut


class RefreshRequest(CamelModel):
    refresh_token: str = Field(min_length=1, max_length=4096)
