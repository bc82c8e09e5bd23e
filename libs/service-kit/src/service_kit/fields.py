"""Request field types that refuse what a client should not get through as something else.

``Text``: a string PostgreSQL can store and filter by. PostgreSQL refuses a NUL in ``text``
(and ``\\u0000`` in ``jsonb``), and a lone surrogate cannot even be encoded to UTF-8 to send
it; the JSON parser lets both through (``"\\u0000"``, ``"\\ud800"``), and a URL gives a NUL
for ``%00``. Use it for every string of a body, path or query that may reach the database:
such a string is then a 422 ``validation_error`` naming the field, never a 500.

``Timestamp``: an RFC 3339 string with a time zone (``2030-01-01T00:00:00Z``), never a number
(``0.5`` is not a time) nor a date alone.

For numbers and booleans use pydantic's ``StrictInt`` and ``StrictBool``: ``false`` is not a
count, ``2.0`` not an integer, ``"yes"`` not a boolean.
"""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StrictStr
from pydantic_core import PydanticCustomError


def text_problem(value: str) -> str | None:
    """Why PostgreSQL cannot store or be asked for ``value``, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode (no lone surrogates)"
    return None


def _storable(value: str) -> str:
    if problem := text_problem(value):
        raise PydanticCustomError("string_not_storable", problem)
    return value


Text = Annotated[StrictStr, AfterValidator(_storable)]

# RFC 3339 section 5.6 (date-time), upper or lower case T and Z.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_EXAMPLE = "2030-01-01T00:00:00Z"


def _rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):  # from Python code, never from JSON
        if value.tzinfo is None:
            raise PydanticCustomError(
                "timestamp_naive", "needs a time zone, e.g. {example}", {"example": _EXAMPLE}
            )
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise PydanticCustomError(
            "timestamp_rfc3339",
            "must be an RFC 3339 timestamp with a time zone, e.g. {example}",
            {"example": _EXAMPLE},
        )
    return value.upper()


Timestamp = Annotated[datetime, BeforeValidator(_rfc3339)]
