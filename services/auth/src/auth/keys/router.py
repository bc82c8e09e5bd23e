from typing import Annotated

from fastapi import APIRouter, Depends, Response

from jwt_contract import StaticKeySet
from service_kit import app_state

PublicKeys = Annotated[StaticKeySet, Depends(app_state("public_keys"))]

router = APIRouter(prefix="/api/auth", tags=["keys"])


@router.get(
    "/.well-known/jwks.json",
    summary="Public keys that verify this service's tokens (RFC 7517 JWK set)",
)
async def jwks(keys: PublicKeys, response: Response) -> dict[str, list[dict[str, str]]]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keys.jwks()
