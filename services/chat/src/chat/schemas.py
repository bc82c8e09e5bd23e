from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CamelRequest(CamelModel):
    """A request body: strict types, so ``false`` is not a count and ``"1"`` is not a number."""

    model_config = ConfigDict(strict=True)
