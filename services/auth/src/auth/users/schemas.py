from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic.alias_generators import to_camel

from jwt_contract import Role


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RegisterRequest(CamelModel):
    username: str = Field(min_length=1, max_length=64, examples=["alice"])
    email: EmailStr = Field(max_length=254, examples=["alice@example.com"])
    password: str = Field(min_length=1, max_length=1024, examples=["Correct-Horse-9"])


class UserOut(CamelModel):
    """A user as other users and services see it (the contract's ``user`` object)."""

    id: UUID
    username: str
    email: str
    role: Role


class UserAdminView(UserOut):
    disabled: bool
    created_at: datetime
    updated_at: datetime


class UserUpdate(CamelModel):
    role: Role | None = None
    disabled: bool | None = None


class Pagination(CamelModel):
    page: int
    limit: int
    total: int
    pages: int


class UserPage(CamelModel):
    users: list[UserAdminView]
    pagination: Pagination


class RegisterResponse(CamelModel):
    user: UserOut
    access_token: str
    refresh_token: str


UserSort = Literal["createdAt", "username"]
