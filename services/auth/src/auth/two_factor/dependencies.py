"""``REQUIRE_2FA_ROLES``: a user of such a role without 2FA gets 403 ``mfa_setup_required`` on
the routes that depend on :func:`set_up_first`: every authenticated auth route but those that
set 2FA up or only say who is signed in (``/me``, ``/logout``, ``/2fa/*``; ``/refresh`` and the
logins take no access token)."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from auth.two_factor.service import TwoFactorService
from jwt_contract import Principal
from jwt_contract.dependencies import require_role
from service_kit import app_state

TwoFactor = Annotated[TwoFactorService, Depends(app_state("two_factor"))]


def set_up_first(
    who: Callable[..., Awaitable[Principal]],
) -> Callable[..., Awaitable[Principal]]:
    """The principal ``who`` lets through, once it has 2FA on if its role requires it."""

    async def dependency(
        principal: Annotated[Principal, Depends(who)], two_factor: TwoFactor
    ) -> Principal:
        await two_factor.require_set_up(principal)
        return principal

    return dependency


MfaReadyAdmin = Annotated[Principal, Depends(set_up_first(require_role("admin")))]
