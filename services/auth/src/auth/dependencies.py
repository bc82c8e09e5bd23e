"""Typed aliases for what routes receive from the app's state."""

from typing import Annotated

from fastapi import Depends

from auth.sessions.service import SessionsService
from auth.users.service import UsersService
from service_kit import app_state

Users = Annotated[UsersService, Depends(app_state("users"))]
Sessions = Annotated[SessionsService, Depends(app_state("sessions"))]
