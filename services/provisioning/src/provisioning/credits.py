"""Credits on the wire: decimals with at most 6 fractional digits, never floats inside.

Plans keep their monthly grant as integer micro-credits; amounts are sent to accounting as
decimal strings and rendered in responses as JSON numbers (exact: at most 15 significant
digits, as accounting caps balances).
"""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

MICRO = 1_000_000

CreditsIn = Annotated[
    Decimal,
    Field(ge=0, le=1_000_000_000, decimal_places=6, examples=[100, "12.5"]),
]


def _render(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


CreditsOut = Annotated[
    Decimal,
    PlainSerializer(_render, return_type=int | float, when_used="json"),
    Field(description="Credits (a decimal number with at most 6 fractional digits)"),
]


def to_micro(credits: Decimal) -> int:
    return int(credits * MICRO)


def from_micro(micro: int) -> Decimal:
    return Decimal(micro) / MICRO


def wire(credits: Decimal) -> str:
    """The decimal string accounting accepts."""
    return format(credits.normalize(), "f")
