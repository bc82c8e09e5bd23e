from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictStr,
)

from jwt_contract import Role
from service_kit import CamelModel


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored in or searched for in PostgreSQL, or None.

    A lone surrogate, the other string PostgreSQL refuses, never gets this far: the JSON
    parser refuses it (422) and URLs are decoded with replacement characters.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    return None


def _storable(value: object) -> object:
    if isinstance(value, str) and (problem := text_problem(value)):
        raise ValueError(problem)
    return value


# A string PostgreSQL can store or filter by: a NUL is a 422, not a 500.
Text = Annotated[StrictStr, AfterValidator(_storable)]


class RegisterRequest(CamelModel):
    username: Text = Field(min_length=1, max_length=64, examples=["alice"])
    email: Annotated[EmailStr, BeforeValidator(_storable)] = Field(
        max_length=254, examples=["alice@example.com"]
    )
    # Never stored as text, but a NUL in a new password is refused too: some clients and
    # libraries end a string there, so its owner could never type it in again.
    password: Text = Field(
        min_length=1,
        max_length=1024,
        examples=["plum-Quartz-violin-42"],
        description="At least 12 characters, and not easy to guess (zxcvbn score 3 or more)",
    )


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
    """Fields left out (or null) stay as they are; ``"yes"`` or ``1`` is not a boolean."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: StrictBool | None = None


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
