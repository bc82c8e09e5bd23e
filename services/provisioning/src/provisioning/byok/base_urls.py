"""Which ``baseUrl`` an OpenAI-compatible credential may point at: the platform's one rule for
a URL a user gave (``public_endpoints``; chat applies it again before each call).

It is called from the provider (validate) and from chat, inside the platform's network: so in
production only https, and never a host that resolves to a private, loopback, link-local or
otherwise non-public address (cloud metadata, the platform's own services). Outside production
http and local addresses are allowed (the model simulator on 127.0.0.1). The host is resolved
at storing and again before each validation; a name re-pointed in between is the DNS
rebinding this cannot rule out by itself (egress rules should back it up).
"""

from public_endpoints import EndpointRefused, Resolver, checked_endpoint, resolve
from service_kit import ApiError

__all__ = ["Resolver", "checked_base_url", "invalid_base_url", "resolve"]


def invalid_base_url(reason: str) -> ApiError:
    return ApiError(422, "invalid_base_url", f"baseUrl {reason}")


async def checked_base_url(url: str, *, production: bool, resolver: Resolver = resolve) -> str:
    """The URL without a trailing slash; 422 ``invalid_base_url`` when it may not be used."""
    try:
        return await checked_endpoint(url, production=production, resolver=resolver)
    except EndpointRefused as refused:
        raise invalid_base_url(refused.reason) from None
