"""Typed aliases for what routes receive from the app's state."""

from typing import Annotated

from fastapi import Depends, Request

from auth.sessions.service import SessionsService
from auth.users.service import UsersService


def _users(request: Request) -> UsersService:
    return request.app.state.users


def _sessions(request: Request) -> SessionsService:
    return request.app.state.sessions


Users = Annotated[UsersService, Depends(_users)]
Sessions = Annotated[SessionsService, Depends(_sessions)]
