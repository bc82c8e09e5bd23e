import math
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """JSON in camelCase; unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Pagination(CamelModel):
    page: int
    limit: int
    total: int
    pages: int

    @classmethod
    def of(cls, *, page: int, limit: int, total: int) -> "Pagination":
        return cls(page=page, limit=limit, total=total, pages=math.ceil(total / limit))


PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]
