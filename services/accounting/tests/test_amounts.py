import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from accounting.credits.amounts import (
    CreditsIn,
    CreditsOut,
    decimal_credits,
    from_micro,
    to_micro,
)
from accounting.pricing.prices import Price, PriceTable


class In(BaseModel):
    credits: CreditsIn


class Out(BaseModel):
    credits: CreditsOut


@pytest.mark.parametrize(
    ("value", "micro"),
    [(1000, 1_000_000_000), ("12.5", 12_500_000), (0.000001, 1), ("1.100000", 1_100_000)],
)
def test_valid_credits(value, micro):
    assert to_micro(In(credits=value).credits) == micro


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0, "greater than 0"),
        (-5, "greater than 0"),
        ("abc", "number"),
        ("1.0000001", "6 decimal places"),
        (0.0000001, "6 decimal places"),
        (10**10, "at most"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        (True, "number"),
        (None, "number"),
    ],
)
def test_invalid_credits(value, reason):
    with pytest.raises(ValidationError, match=reason):
        In(credits=value)


@pytest.mark.parametrize(
    "micro", [1_000_000_000, 12_345_678, 1, 999_999_999_999_999, 123_456_789_012_345]
)
def test_amounts_render_as_exact_json_numbers(micro):
    rendered = json.loads(Out(credits=micro).model_dump_json())["credits"]
    assert isinstance(rendered, int | float)
    assert Decimal(str(rendered)) == from_micro(micro)


@pytest.mark.parametrize(
    ("micro", "text"),
    [
        (0, "0"),
        (1, "0.000001"),
        (1_500_000, "1.5"),
        (12_000_000, "12"),
        (1_123_457, "1.123457"),
        (-2_500_000, "-2.5"),
        # Past a double's 15-16 digits, still every digit.
        (123_456_789_012_345_678_901, "123456789012345.678901"),
    ],
)
def test_amounts_render_as_exact_decimal_text(micro, text):
    assert decimal_credits(micro) == text
    assert Decimal(text) == from_micro(micro)


def test_prices_round_up_to_the_micro_credit():
    table = PriceTable({"m": Price.of(Decimal(3), Decimal(15))}, Price.of(Decimal(1), Decimal(2)))
    assert table.cost_micro("m", input_tokens=1000, output_tokens=1000) == 18_000_000
    assert table.cost_micro("m", input_tokens=1) == 3_000  # 3 credits / 1000 tokens
    assert table.cost_micro("m", output_tokens=1) == 15_000
    assert table.bound_micro("m", 100) == 1_500_000  # the higher (output) rate
    assert table.cost_micro("unknown", input_tokens=1000) == 1_000_000
    tiny = PriceTable({}, Price(1, 1))  # 1 micro per 1K tokens
    assert tiny.cost_micro("x", input_tokens=1) == 1
