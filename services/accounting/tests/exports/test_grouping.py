"""What an export says: its rows by each combination of dimensions, CSV with a header row and
proper quoting, JSON rows of the contract's shape with exact credits."""

import itertools
import json
from datetime import UTC, datetime
from decimal import Decimal

import jsonschema

from accounting.exports.encoding import COLUMNS
from accounting.exports.schemas import DIMENSIONS, ExportRow

from ..conftest import funded_user
from ..key_budgets.keys import HAIKU, key_holder
from .usage import TITAN, answer, csv_rows, direct_charge, export, exported_rows

FIELDS = {"day": "period", "user": "userId", "team": "teamId", "key": "keyId", "model": "modelId"}


def own(holder: dict) -> dict:
    """A key holder acting with their own session instead of the key."""
    return {**holder, "token": holder["owner_token"]}


async def test_the_default_export_is_csv_by_day_and_model_with_a_header_row(client, auth):
    user = await funded_user(client, auth, 20)
    await answer(client, user, output_tokens=800)  # 1.0
    await answer(client, user, output_tokens=400)  # 0.5
    await answer(client, user, model=TITAN, input_tokens=1000, output_tokens=1000)  # 0.8

    response = await export(client, user["token"])

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="usage-')
    assert response.text.split("\r\n")[0] == ",".join(COLUMNS)
    today = datetime.now(UTC).date().isoformat()
    common = {"period": today, "userId": user["id"], "teamId": "", "keyId": ""}
    assert csv_rows(response.text) == [
        {
            **common,
            "modelId": TITAN,
            "requests": "1",
            "inputTokens": "1000",
            "outputTokens": "1000",
            "credits": "0.8",
        },
        {
            **common,
            "modelId": HAIKU,
            "requests": "2",
            "inputTokens": "0",
            "outputTokens": "1200",
            "credits": "1.5",
        },
    ]


async def test_json_rows_have_the_contracts_shape_and_exact_credits(client, auth):
    user = await funded_user(client, auth, 20)
    await direct_charge(client, user, credits="0.000001")
    await direct_charge(client, user, credits="1.123456")
    await answer(client, user, output_tokens=1)  # 0.00125

    response = await export(client, user["token"], format="json", groupBy="model")

    assert response.status_code == 200, response.text
    rows = json.loads(response.text, parse_float=Decimal)
    assert [set(row) for row in rows] == [set(COLUMNS)] * 2
    documented = ExportRow.model_json_schema(mode="serialization")  # as in the OpenAPI
    for row in response.json():
        jsonschema.validate(row, documented)
    for row in rows:
        start, _, end = row["period"].partition("/")
        assert start.endswith("Z") and end.endswith("Z")
        assert (row["userId"], row["teamId"], row["keyId"]) == (user["id"], None, None)
    by_model = {row["modelId"]: row for row in rows}
    # Direct charges in credits have no model; their sum is exact to the micro-credit.
    assert by_model[None]["credits"] == Decimal("1.123457")
    assert by_model[None]["requests"] == 2
    assert by_model[HAIKU]["credits"] == Decimal("0.00125")
    assert b'"credits":1.123457}' in response.content


async def test_an_empty_group_by_is_one_total_row_and_no_usage_no_rows(client, auth):
    user = await funded_user(client, auth, 20)
    csv_export = await export(client, user["token"], groupBy="")
    assert csv_export.text == ",".join(COLUMNS) + "\r\n"
    assert await exported_rows(client, user["token"]) == []
    raw = await export(client, user["token"], format="json")
    assert raw.text == "[\n]\n"

    await answer(client, user, output_tokens=800)
    await answer(client, user, model=TITAN, output_tokens=1000)
    (total,) = await exported_rows(client, user["token"], groupBy="")
    assert (total["modelId"], total["requests"], total["credits"]) == (None, 2, 1.6)


async def test_every_combination_of_dimensions_adds_up_to_the_same_totals(client, auth):
    holder = await key_holder(client, auth, 50)
    await answer(client, own(holder), output_tokens=800)
    await answer(client, own(holder), model=TITAN, input_tokens=500, output_tokens=500)
    await answer(client, holder, output_tokens=400)  # with the key
    await answer(client, holder, model=TITAN, output_tokens=2000)
    await direct_charge(client, holder, credits="0.25")  # with the key, no model

    for size in range(len(DIMENSIONS) + 1):
        for dimensions in itertools.combinations(DIMENSIONS, size):
            rows = await exported_rows(client, holder["owner_token"], groupBy=",".join(dimensions))
            totals = (
                sum(Decimal(str(r["credits"])) for r in rows),
                sum(r["requests"] for r in rows),
                sum(r["inputTokens"] for r in rows),
                sum(r["outputTokens"] for r in rows),
            )
            assert totals == (Decimal("3.35"), 5, 500, 3700), dimensions
            for missing in set(DIMENSIONS) - set(dimensions) - {"day", "user"}:
                assert {r[FIELDS[missing]] for r in rows} == {None}, (dimensions, missing)
            keys = [tuple(str(r[FIELDS[d]]) for d in dimensions) for r in rows]
            assert len(set(keys)) == len(keys), dimensions  # one row per combination

    by_key = {
        r["keyId"]: r for r in await exported_rows(client, holder["owner_token"], groupBy="key")
    }
    assert set(by_key) == {holder["key_id"], None}
    assert (by_key[holder["key_id"]]["credits"], by_key[holder["key_id"]]["requests"]) == (1.95, 3)
    assert by_key[None]["credits"] == 1.4


async def test_rows_are_sorted_by_their_dimensions(client, auth):
    holder = await key_holder(client, auth, 50)
    await answer(client, holder, model=TITAN, output_tokens=100)
    await answer(client, own(holder), output_tokens=100)
    await answer(client, own(holder), model=TITAN, output_tokens=100)
    rows = await exported_rows(client, holder["owner_token"], groupBy="key,model")
    # Key before model; no key sorts last.
    assert [(r["keyId"], r["modelId"]) for r in rows] == [
        (holder["key_id"], TITAN),
        (None, TITAN),
        (None, HAIKU),
    ]


async def test_csv_quotes_commas_quotes_and_line_breaks(client, auth):
    user = await funded_user(client, auth, 20)
    odd = 'odd,"model"\nname'
    await direct_charge(client, user, modelId=odd, inputTokens=1000)

    response = await export(client, user["token"], groupBy="model")

    assert '"odd,""model""\nname"' in response.text
    (row,) = csv_rows(response.text)
    assert (row["modelId"], row["inputTokens"], row["credits"]) == (odd, "1000", "1")
    (json_row,) = await exported_rows(client, user["token"], groupBy="model")
    assert json_row["modelId"] == odd
