"""The loop every rekey command runs, whatever table holds its secrets."""

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sealed_secrets.box import Sealed, SecretBox

Row = TypeVar("Row")


async def reseal_all(
    box: SecretBox,
    *,
    sealed_under_other_keys: Callable[[str, int], Awaitable[Sequence[Row]]],
    sealed_of: Callable[[Row], Sealed],
    context_of: Callable[[Row], bytes],
    reseal: Callable[[Row, Sealed], Awaitable[int]],
    batch: int = 500,
) -> int:
    """Re-encrypt, ``batch`` rows at a time, every secret sealed under a key other than the
    box's current one, and answer how many were rewritten. ``reseal`` answers 1 when it
    rewrote the row, 0 when its ciphertext changed since it was read (it was sealed anew, under
    the current key, meanwhile), so it is safe while the service runs. Raises
    ``SecretNotReadable`` for a secret whose key is not configured."""
    resealed = 0
    while True:
        rows = await sealed_under_other_keys(box.current_key_id, batch)
        if not rows:
            return resealed
        for row in rows:
            context = context_of(row)
            sealed = box.seal(box.open(sealed_of(row), context=context), context=context)
            resealed += await reseal(row, sealed)
