"""Who may hold personal keys: a user with their own access token (``auth.signed_in``), who
has set up 2FA if their role must (``REQUIRE_2FA_ROLES``)."""

from typing import Annotated

from fastapi import Depends

from auth.signed_in import signed_in_user
from auth.two_factor.dependencies import set_up_first
from jwt_contract.claims import Principal

key_owner = signed_in_user(
    service_refusal="Personal API keys belong to users, not to services",
    key_refusal="An API key cannot manage API keys: sign in as yourself",
)

KeyOwner = Annotated[Principal, Depends(set_up_first(key_owner))]
