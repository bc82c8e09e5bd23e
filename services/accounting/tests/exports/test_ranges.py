"""The range an export adds up: dates are whole UTC days (a date ``to`` included), timestamps
are instants (``to`` excluded), the default is the last 30 days, and a bad range is refused."""

from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from ..conftest import funded_user
from .usage import direct_charge, export, exported_rows

# Three charges around two midnights, far enough back to be outside the default 30 days.
AT = [
    datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
    datetime(2024, 3, 2, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2024, 3, 3, 0, 0, tzinfo=UTC),
]


@pytest_asyncio.fixture(loop_scope="session")
async def dated(client, auth, db) -> dict:
    """A user whose charges of 1, 2 and 4 credits were made at AT's times."""
    user = await funded_user(client, auth, 20)
    for credits, at in zip((1, 2, 4), AT, strict=True):
        usage = await direct_charge(client, user, credits=credits)
        # The ledger's entries keep their time; only what the export reads moves back.
        await db.execute("UPDATE usage_records SET created_at = $2 WHERE id = $1", usage["id"], at)
    return user


async def credits_over(client, user, **params) -> list[tuple[str, float]]:
    rows = await exported_rows(client, user["token"], **params)
    return [(row["period"], row["credits"]) for row in rows]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Dates: a whole day each, both included.
        ("2024-03-01", "2024-03-02", [("2024-03-01", 1), ("2024-03-02", 2)]),
        ("2024-03-02", "2024-03-03", [("2024-03-02", 2), ("2024-03-03", 4)]),
        ("2024-03-03", "2024-03-03", [("2024-03-03", 4)]),
        # Timestamps: from included, to excluded.
        ("2024-03-01T10:00:00Z", "2024-03-03T00:00:00Z", [("2024-03-01", 1), ("2024-03-02", 2)]),
        (
            "2024-03-01T10:00:00.000001Z",
            "2024-03-03T00:00:00.000001Z",
            [("2024-03-02", 2), ("2024-03-03", 4)],
        ),
        # Any zone, compared as instants (01:00 at +01:00 is midnight UTC).
        ("2024-03-03T01:00:00+01:00", "2024-03-04", [("2024-03-03", 4)]),
        ("2024-03-04", "2024-03-05", []),
    ],
)
async def test_from_and_to_bound_the_rows(client, dated, start, end, expected):
    assert (
        await credits_over(client, dated, **{"from": start, "to": end, "groupBy": "day"})
        == expected
    )


async def test_rows_not_grouped_by_day_carry_the_range_as_their_period(client, dated):
    params = {"from": "2024-03-01", "to": "2024-03-02T12:00:00+02:00", "groupBy": "model"}
    assert await credits_over(client, dated, **params) == [
        ("2024-03-01T00:00:00Z/2024-03-02T10:00:00Z", 1)
    ]


async def test_the_default_range_is_the_last_30_days(client, auth, dated):
    assert await exported_rows(client, dated["token"]) == []
    only_from = {"from": (datetime.now(UTC) - timedelta(days=300)).date().isoformat()}
    assert await exported_rows(client, dated["token"], **only_from) == []  # to: now
    only_to = {"to": "2024-03-10"}  # from: 30 days before
    assert sum(r["credits"] for r in await exported_rows(client, dated["token"], **only_to)) == 7


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2024-03-02", "to": "2024-03-01"}, "invalid_range"),
        ({"from": "2024-03-02T00:00:01Z", "to": "2024-03-02T00:00:00Z"}, "invalid_range"),
        ({"from": "2023-01-01", "to": "2024-01-02"}, "invalid_range"),  # 367 days
        ({"from": "2030-01-01"}, "invalid_range"),  # after now, the default to
        ({"from": "yesterday"}, "validation_error"),
        ({"from": "2024-02-30"}, "validation_error"),
        ({"to": "2024-03-01T10:00:00"}, "validation_error"),  # no zone
        ({"to": "1709287200"}, "validation_error"),
        ({"to": "2024-03-01\x00"}, "validation_error"),
    ],
)
async def test_a_bad_range_is_refused_clearly(client, dated, params, code):
    response = await export(client, dated["token"], **params)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


async def test_a_year_and_a_leap_day_is_one_export(client, dated):
    response = await export(client, dated["token"], **{"from": "2024-01-01", "to": "2024-12-31"})
    assert response.status_code == 200, response.text
