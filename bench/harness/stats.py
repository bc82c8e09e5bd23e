"""Percentiles, and a figure printed next to its target."""

import math
from dataclasses import dataclass


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


@dataclass(frozen=True)
class Target:
    """A bound a figure must keep: ``at_most`` (<=) or at least (>=) ``limit``.

    Figures are kept in their natural unit (seconds, a count) and shown times ``scale`` in
    ``unit``: ``Target(0.005, unit="ms", scale=1000)`` prints as "(<= 5 ms)".
    """

    limit: float
    at_most: bool = True
    unit: str = ""
    scale: float = 1.0

    def ok(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit

    @property
    def bound(self) -> str:
        shown = self.limit * self.scale
        number = f"{shown:,.0f}" if shown == round(shown) else f"{shown:g}"
        unit = f" {self.unit}" if self.unit else ""
        return f"({'<=' if self.at_most else '>='} {number}{unit})"

    def show(self, value: float, spec: str = "9.1f") -> str:
        """``value`` in this target's unit, the bound and whether it is met."""
        unit = f" {self.unit}" if self.unit else ""
        return f"{value * self.scale:{spec}}{unit} {self.bound} {met(self.ok(value))}"
