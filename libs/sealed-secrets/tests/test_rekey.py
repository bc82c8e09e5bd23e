"""reseal_all: every secret under an old key comes out under the current one, once."""

import os
from dataclasses import dataclass

import pytest

from sealed_secrets import Sealed, SecretBox, SecretNotReadable, reseal_all


@dataclass
class Row:
    owner: bytes
    sealed: Sealed


class Table:
    """An in-memory table of sealed secrets, as a repository would hold them."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.loads = 0

    async def under_other_keys(self, key_id: str, limit: int) -> list[Row]:
        self.loads += 1
        return [row for row in self.rows if row.sealed.key_id != key_id][:limit]

    async def reseal(self, row: Row, sealed: Sealed) -> int:
        row.sealed = sealed
        return 1


async def _reseal(box: SecretBox, table: Table, batch: int = 500) -> int:
    return await reseal_all(
        box,
        sealed_under_other_keys=table.under_other_keys,
        sealed_of=lambda row: row.sealed,
        context_of=lambda row: row.owner,
        reseal=table.reseal,
        batch=batch,
    )


async def test_every_secret_under_an_old_key_is_resealed_under_the_current_one():
    old, new = os.urandom(32), os.urandom(32)
    before = SecretBox(old)
    secrets = {os.urandom(8): os.urandom(12) for _ in range(7)}
    table = Table(
        [Row(owner, before.seal(secret, context=owner)) for owner, secret in secrets.items()]
    )
    after = SecretBox(new, [old])

    assert await _reseal(after, table, batch=3) == 7
    assert {row.sealed.key_id for row in table.rows} == {after.current_key_id}
    assert {
        row.owner: SecretBox(new).open(row.sealed, context=row.owner) for row in table.rows
    } == secrets
    assert table.loads == 4  # 3 + 3 + 1, then an empty batch
    assert await _reseal(after, table) == 0  # nothing left: a second run rewrites nothing


async def test_a_secret_under_a_key_no_longer_configured_is_refused():
    owner = os.urandom(8)
    table = Table([Row(owner, SecretBox(os.urandom(32)).seal(b"secret", context=owner))])
    with pytest.raises(SecretNotReadable):
        await _reseal(SecretBox(os.urandom(32)), table)
