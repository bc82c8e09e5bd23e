"""What routes taking an ``Idempotency-Key`` receive."""

from typing import Annotated

from fastapi import Depends

from chat.idempotency.keys import KeyStore
from service_kit import app_state

IdempotencyKeys = Annotated[KeyStore, Depends(app_state("idempotency_keys"))]
