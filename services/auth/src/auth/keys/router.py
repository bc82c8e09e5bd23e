from fastapi import APIRouter, Request, Response

router = APIRouter(prefix="/api/auth", tags=["keys"])


@router.get(
    "/.well-known/jwks.json",
    summary="Public keys that verify this service's tokens (RFC 7517 JWK set)",
)
async def jwks(request: Request, response: Response) -> dict[str, list[dict[str, str]]]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return request.app.state.token_verifier.keys.jwks()
