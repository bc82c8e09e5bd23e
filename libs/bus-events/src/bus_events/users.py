"""Auth's announcements about users: ``user.registered`` and ``user.updated``."""

from typing import ClassVar

from pydantic import StrictBool, StrictInt

from bus_events.bodies import BusEvent
from bus_events.fields import Identifier, Name
from service_kit import Text


class UserRegistered(BusEvent):
    """A user registered (or a demo user was seeded): accounting opens their account,
    provisioning puts them on the default plan."""

    routing_key: ClassVar[str] = "user.registered"
    version: ClassVar[int] = 1

    user_id: Identifier
    username: Text
    email: Text
    role: Name


class UserUpdated(BusEvent):
    """An admin changed a user's role or disabled them: tokens with a ``tv`` claim below
    ``token_version`` are refused from now on."""

    routing_key: ClassVar[str] = "user.updated"
    version: ClassVar[int] = 1

    user_id: Identifier
    role: Name
    disabled: StrictBool
    token_version: StrictInt
