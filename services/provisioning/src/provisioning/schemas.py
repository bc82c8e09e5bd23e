"""Provisioning's shared bodies. ``CamelModel`` is service-kit's camelCase model that refuses
unknown fields, so a typo in a field name does not pass silently."""

import math
from typing import Annotated

from fastapi import Query

from service_kit import ClosedCamelModel as CamelModel


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

__all__ = ["CamelModel", "PageNumber", "PageSize", "Pagination"]
