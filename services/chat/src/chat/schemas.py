"""The base models of chat's request and response bodies."""

from pydantic import ConfigDict

from service_kit import CamelModel

__all__ = ["CamelModel", "CamelRequest"]


class CamelRequest(CamelModel):
    """A request body: strict types, so ``false`` is not a count and ``"1"`` is not a number."""

    model_config = ConfigDict(strict=True)
