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
    """``byok``: what an answer made with the caller's own provider credential costs, whatever
    the model (BYOK_FEE_PER_1K_TOKENS, the same per input and output token)."""

    def __init__(self, prices: dict[str, Price], default: Price, byok: Price | None = None) -> None:
        self._prices = prices
        self.default = default
        self.byok = byok or Price(0, 0)

    def price(self, model_id: str, *, byok: bool = False) -> Price:
        return self.byok if byok else self._prices.get(model_id, self.default)

    def is_known(self, model_id: str) -> bool:
        return model_id in self._prices

    def cost_micro(
        self, model_id: str, *, input_tokens: int = 0, output_tokens: int = 0, byok: bool = False
    ) -> int:
        price = self.price(model_id, byok=byok)
        return _per_tokens(input_tokens, price.input_micro_per_1k) + _per_tokens(
            output_tokens, price.output_micro_per_1k
        )

    def bound_micro(self, model_id: str, tokens: int, *, byok: bool = False) -> int:
        """The most ``tokens`` tokens can cost, whatever their split into input and output.

        Reservations hold this, and a bare token count (no split) is charged at this rate.
        """
        return _per_tokens(tokens, self.price(model_id, byok=byok).highest_micro_per_1k)

    def as_dict(self) -> dict[str, Price]:
        return dict(self._prices)
