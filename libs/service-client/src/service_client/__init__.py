"""How a platform service calls another (see ``client``)."""

from service_client.client import PeerReply, ServiceClient, peer_unavailable
from service_client.credentials import ServiceCredentialsSettings
from service_client.tokens import ServiceTokenError, ServiceTokens, TokenSource

__all__ = [
    "PeerReply",
    "ServiceClient",
    "ServiceCredentialsSettings",
    "ServiceTokenError",
    "ServiceTokens",
    "TokenSource",
    "peer_unavailable",
]
