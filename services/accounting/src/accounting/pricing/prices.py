"""Model prices: credits per 1K input tokens and per 1K output tokens, from configuration."""

from dataclasses import dataclass
from decimal import Decimal

from accounting.credits.amounts import MICRO


@dataclass(frozen=True)
class Price:
    input_micro_per_1k: int
    output_micro_per_1k: int

    @classmethod
    def of(cls, input_per_1k: Decimal, output_per_1k: Decimal) -> "Price":
        return cls(int(input_per_1k * MICRO), int(output_per_1k * MICRO))

    @property
    def highest_micro_per_1k(self) -> int:
        return max(self.input_micro_per_1k, self.output_micro_per_1k)


def _per_tokens(tokens: int, micro_per_1k: int) -> int:
    # Rounded up to the micro-credit: a fraction is never given away.
    return -(-tokens * micro_per_1k // 1000)


class PriceTable:
    def __init__(self, prices: dict[str, Price], default: Price) -> None:
        self._prices = prices
        self.default = default

    def price(self, model_id: str) -> Price:
        return self._prices.get(model_id, self.default)

    def is_known(self, model_id: str) -> bool:
        return model_id in self._prices

    def cost_micro(self, model_id: str, *, input_tokens: int = 0, output_tokens: int = 0) -> int:
        price = self.price(model_id)
        return _per_tokens(input_tokens, price.input_micro_per_1k) + _per_tokens(
            output_tokens, price.output_micro_per_1k
        )

    def bound_micro(self, model_id: str, tokens: int) -> int:
        """The most ``tokens`` tokens can cost, whatever their split into input and output.

        Reservations hold this, and a bare token count (no split) is charged at this rate.
        """
        return _per_tokens(tokens, self.price(model_id).highest_micro_per_1k)

    def as_dict(self) -> dict[str, Price]:
        return dict(self._prices)
