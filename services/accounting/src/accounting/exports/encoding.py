"""An export's bytes: CSV (RFC 4180, a header row) or one JSON array, a batch of rows at a
time. Credits are written as their exact decimal digits, never through a float."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import orjson

from accounting.credits.amounts import decimal_credits
from accounting.exports.repository import UsageGroup
from accounting.exports.schemas import ExportFormat

COLUMNS = (
    "period",
    "userId",
    "teamId",
    "keyId",
    "modelId",
    "requests",
    "inputTokens",
    "outputTokens",
    "credits",
)
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class RowContext:
    """What a row shows for the dimensions it is not grouped by, where one value holds for all."""

    period: str  # the whole range, for rows not grouped by day
    user_id: str | None  # the exported user, for rows not grouped by user (None: many users)


def _period(group: UsageGroup, context: RowContext) -> str:
    return group.day.isoformat() if group.day is not None else context.period


def _user(group: UsageGroup, context: RowContext) -> str | None:
    return group.user_id if group.user_id is not None else context.user_id


class ExportEncoder(Protocol):
    media_type: str
    extension: str

    def start(self) -> bytes: ...

    def rows(self, groups: list[UsageGroup]) -> bytes: ...

    def end(self) -> bytes: ...


class CsvEncoder:
    media_type = CSV_MEDIA_TYPE
    extension = "csv"

    def __init__(self, context: RowContext) -> None:
        self.context = context

    def start(self) -> bytes:
        return self._lines([COLUMNS])

    def rows(self, groups: list[UsageGroup]) -> bytes:
        context = self.context
        return self._lines(
            (
                _period(g, context),
                _user(g, context),
                g.team_id,
                g.key_id,
                g.model_id,
                g.requests,
                g.input_tokens,
                g.output_tokens,
                decimal_credits(g.credits_micro),
            )
            for g in groups
        )

    def end(self) -> bytes:
        return b""

    @staticmethod
    def _lines(rows: Iterable[Iterable[object]]) -> bytes:
        buffer = io.StringIO()
        # The csv module quotes what needs it (commas, quotes, line breaks) and writes None
        # as an empty field.
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode()


class JsonEncoder:
    """One JSON array, a row a line: ``[``, then ``{...}`` separated by ``,``, then ``]``."""

    media_type = JSON_MEDIA_TYPE
    extension = "json"

    def __init__(self, context: RowContext) -> None:
        self.context = context
        self._written = False

    def start(self) -> bytes:
        return b"["

    def rows(self, groups: list[UsageGroup]) -> bytes:
        if not groups:
            return b""
        context = self.context
        body = b",\n".join(
            orjson.dumps(
                {
                    "period": _period(g, context),
                    "userId": _user(g, context),
                    "teamId": g.team_id,
                    # asyncpg's UUID is not the standard library's, which orjson wants.
                    "keyId": None if g.key_id is None else str(g.key_id),
                    "modelId": g.model_id,
                    "requests": g.requests,
                    "inputTokens": g.input_tokens,
                    "outputTokens": g.output_tokens,
                    # The digits themselves: exact for any sum, as a JSON number.
                    "credits": orjson.Fragment(decimal_credits(g.credits_micro)),
                }
            )
            for g in groups
        )
        separator = b",\n" if self._written else b"\n"
        self._written = True
        return separator + body

    def end(self) -> bytes:
        return b"\n]\n"


def encoder_for(export_format: ExportFormat, context: RowContext) -> ExportEncoder:
    return CsvEncoder(context) if export_format == "csv" else JsonEncoder(context)
