"""What an export is asked for (dimensions, range, format) and the row it answers with."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import Field, PlainValidator, TypeAdapter, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from accounting.credits.amounts import CreditsOut
from accounting.schemas import CamelModel
from service_kit import ApiError, Timestamp

Dimension = Literal["day", "user", "team", "key", "model"]
# The order rows are sorted by, and the order of the columns they fill.
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
DEFAULT_GROUP_BY: tuple[Dimension, ...] = ("day", "model")
ExportFormat = Literal["csv", "json"]

DEFAULT_DAYS = 30

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(Timestamp)
_BOUND_EXAMPLES = ["2030-01-01", "2030-01-01T12:00:00Z"]


def _bound(value: Any) -> date:
    """A date (a whole UTC day) or an RFC 3339 timestamp with its zone (an instant)."""
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_invalid", "is not a calendar date") from None
    try:
        return _TIMESTAMP.validate_python(value)
    except ValidationError:
        raise PydanticCustomError(
            "range_bound",
            "must be a date (YYYY-MM-DD) or an RFC 3339 timestamp with a time zone, e.g. "
            "{examples}",
            {"examples": " or ".join(_BOUND_EXAMPLES)},
        ) from None


# A ``datetime`` (an instant) or a plain ``date`` (a whole day in UTC).
Bound = Annotated[
    date,
    PlainValidator(_bound),
    WithJsonSchema(
        {
            "type": "string",
            "description": "A date (YYYY-MM-DD, a whole day in UTC) or an RFC 3339 timestamp "
            "with a time zone",
            "examples": _BOUND_EXAMPLES,
        }
    ),
]


def parse_group_by(value: str | None) -> tuple[Dimension, ...]:
    """The dimensions named in ``day,model``-style text, in ``DIMENSIONS`` order; none given:
    ``DEFAULT_GROUP_BY``; an empty value: no dimension (one total row)."""
    if value is None:
        return DEFAULT_GROUP_BY
    names = [name.strip() for name in value.split(",")] if value.strip() else []
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise ApiError(
            422,
            "invalid_group_by",
            f"Unknown groupBy {', '.join(repr(n) for n in unknown)}: group by any of "
            f"{', '.join(DIMENSIONS)}, comma-separated",
            details={"unknown": unknown, "allowed": list(DIMENSIONS)},
        )
    return tuple(dimension for dimension in DIMENSIONS if dimension in names)


@dataclass(frozen=True)
class ExportRange:
    """The half-open range ``[start, end)`` of usage an export adds up, in UTC."""

    start: datetime
    end: datetime

    @property
    def period(self) -> str:
        """The range as an ISO 8601 interval: the ``period`` of rows not grouped by day."""
        return f"{_rfc3339(self.start)}/{_rfc3339(self.end)}"


def export_range(start: date | None, end: date | None, now: datetime, max_days: int) -> ExportRange:
    """``from`` and ``to`` as a range: a date ``from`` starts at that day's UTC midnight, a date
    ``to`` ends with that day (inclusive); timestamps are taken as they are (``to``
    exclusive). ``to`` defaults to now, ``from`` to ``DEFAULT_DAYS`` before ``to``."""
    until = now if end is None else _instant(end, day_end=True)
    since = until - timedelta(days=DEFAULT_DAYS) if start is None else _instant(start)
    # As given: a date ``to`` the day before ``from`` is refused, not an empty range.
    if since > (until if end is None else _instant(end)):
        raise ApiError(
            422,
            "invalid_range",
            "from must not be after to",
            details={"from": _rfc3339(since), "to": _rfc3339(until)},
        )
    if until - since > timedelta(days=max_days):
        raise ApiError(
            422,
            "invalid_range",
            f"An export covers at most {max_days} days: split a longer range",
            details={"from": _rfc3339(since), "to": _rfc3339(until), "maxDays": max_days},
        )
    return ExportRange(since, until)


def _instant(bound: date, *, day_end: bool = False) -> datetime:
    if isinstance(bound, datetime):
        return bound.astimezone(UTC)
    day = bound + timedelta(days=1) if day_end else bound
    return datetime.combine(day, time(), tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ExportRow(CamelModel):
    """One row of an export: usage records added up by the dimensions asked for. A dimension
    that is not grouped by is null (an empty CSV cell); so is one a record has no value for
    (usage without a key or a model, usage not charged to a team)."""

    period: str = Field(
        description="The UTC day (YYYY-MM-DD) when grouped by day, else the whole range as "
        "an ISO 8601 interval (`2030-01-01T00:00:00Z/2030-02-01T00:00:00Z`)"
    )
    user_id: str | None = Field(
        description="The user the usage was made for (a team key's id for a team key's "
        "usage); null in an organization's export not grouped by user"
    )
    team_id: str | None = Field(description="The team whose account paid (grouped by team)")
    key_id: UUID | None = Field(description="The API key it was made with (grouped by key)")
    model_id: str | None = Field(description="The model (grouped by model)")
    requests: int = Field(description="Usage records: answers and direct charges")
    input_tokens: int
    output_tokens: int
    credits: CreditsOut = Field(
        description="Credits charged, exact: written as the decimal itself (at most 6 "
        "fractional digits), never through a float"
    )
