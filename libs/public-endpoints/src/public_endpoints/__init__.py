"""Whether a URL a user gave (a BYOK credential's ``baseUrl``) may be called from inside the
platform's network.

In production only https, and never a host that resolves to a private, loopback, link-local
or otherwise non-public address (cloud metadata, the platform's own services): one such
address among the host's is enough to refuse it. Outside production http and local addresses
are allowed (the model simulator on 127.0.0.1). Everywhere: a host, no user or password, no
query or fragment.

The host is resolved on every check, with the event loop's resolver. Checking again right
before each call narrows DNS rebinding (a name re-pointed after it was stored) to the moment
between the check and the client's own lookup; egress rules should back it up.
"""

from public_endpoints.check import EndpointRefused, Resolver, checked_endpoint, is_public, resolve

__all__ = ["EndpointRefused", "Resolver", "checked_endpoint", "is_public", "resolve"]
