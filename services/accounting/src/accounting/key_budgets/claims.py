"""The API key a request was made with, and its budget: from the verified token only.

Auth signs a key's tokens with ``keyId`` (team and personal keys) and, for a personal key
with a budget, ``keyBudgetMicro``. A reservation takes both from the token of the user it is
for (``X-On-Behalf-Of``), never from a body: a client cannot name another key, or a budget.
"""

from dataclasses import dataclass
from uuid import UUID

from accounting.credits.amounts import json_credits
from jwt_contract import Principal
from jwt_contract.dependencies import invalid_token
from service_kit import ApiError

KEY_ID_CLAIM = "keyId"
KEY_BUDGET_CLAIM = "keyBudgetMicro"


@dataclass(frozen=True)
class SpendingKey:
    """A key whose spend is tracked; ``budget_micro`` None: no limit but the balance."""

    key_id: UUID
    budget_micro: int | None


def spending_key(principal: Principal) -> SpendingKey | None:
    """The key the principal's token was exchanged for; None for a user's own session.

    A token auth signed always carries these well formed; anything else is refused as an
    invalid token rather than spent without its limit."""
    key_id = principal.claims.get(KEY_ID_CLAIM)
    budget = principal.claims.get(KEY_BUDGET_CLAIM)
    if key_id is None:
        if budget is not None:
            raise invalid_token()
        return None
    if not isinstance(key_id, str):
        raise invalid_token()
    try:
        parsed = UUID(key_id)
    except ValueError:
        raise invalid_token() from None
    if budget is not None and (type(budget) is not int or budget < 1):
        raise invalid_token()
    return SpendingKey(parsed, budget)


def key_budget_exceeded(
    key: SpendingKey, *, spent_micro: int, held_micro: int, asked_micro: int
) -> ApiError:
    budget = key.budget_micro or 0
    return ApiError(
        402,
        "key_budget_exceeded",
        "This API key's budget is spent: its charges and open holds leave too little for "
        "this answer",
        details={
            "keyId": str(key.key_id),
            "budgetCredits": json_credits(budget),
            "spentCredits": json_credits(spent_micro),
            "heldCredits": json_credits(held_micro),
            "askedCredits": json_credits(asked_micro),
        },
    )
