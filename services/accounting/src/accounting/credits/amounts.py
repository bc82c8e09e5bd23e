"""Credits on the wire are decimals with at most 6 fractional digits; inside, integer micro-credits.

Responses render micro-credits as JSON numbers. Balances are capped (MAX_BALANCE_MICRO) so
every amount has at most 15 significant digits, which a JSON number (an IEEE double in most
clients) represents exactly.
"""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer

MICRO = 1_000_000
MAX_CREDITS = Decimal(1_000_000_000)
MAX_BALANCE_MICRO = int(MAX_CREDITS) * MICRO - 1
MICRO_STEP = Decimal("0.000001")


def to_micro(credits: Decimal) -> int:
    return int(credits * MICRO)


def from_micro(micro: int) -> Decimal:
    return Decimal(micro) / MICRO


def decimal_credits(micro: int) -> str:
    """Micro-credits as the exact decimal text of credits (``1432500`` → ``"1.4325"``): for
    writers that put the digits on the wire themselves, however large the sum."""
    sign, magnitude = ("-", -micro) if micro < 0 else ("", micro)
    whole, fraction = divmod(magnitude, MICRO)
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:06d}".rstrip("0")


def json_credits(micro: int) -> int | float:
    """Micro-credits as the JSON number of credits: exact, since |micro| < 1e15 makes the
    shortest repr of the float the decimal itself."""
    return micro // MICRO if micro % MICRO == 0 else micro / MICRO


def _parse_credits(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("credits must be a number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("credits must be a number") from None
    if not amount.is_finite():
        raise ValueError("credits must be a finite number")
    if amount <= 0:
        raise ValueError("credits must be greater than 0")
    if amount > MAX_CREDITS:
        raise ValueError(f"credits must be at most {MAX_CREDITS:,}")
    exponent = amount.as_tuple().exponent  # an int: the amount is finite
    if isinstance(exponent, int) and exponent < -6 and amount != amount.quantize(MICRO_STEP):
        raise ValueError("credits have at most 6 decimal places")
    return amount


# A positive amount of credits in a request: a JSON number or a numeric string.
CreditsIn = Annotated[
    Decimal,
    BeforeValidator(_parse_credits),
    Field(description="Credits, > 0, at most 6 decimal places", examples=[1000, "12.5"]),
]

# An amount in a response, held as micro-credits and rendered as a JSON number of credits.
CreditsOut = Annotated[
    int,
    PlainSerializer(json_credits, return_type=int | float, when_used="json"),
    Field(description="Credits (a decimal number with at most 6 fractional digits)"),
]
