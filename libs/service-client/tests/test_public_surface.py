"""The names the services import from service_client: a change here is a change to every
service that calls another (and to the gateway's proxying), so it is made on purpose (and this
list with it)."""

import service_client

SURFACE = [
    "KEEPALIVE_EXPIRY_SECONDS",
    "FetchedReply",
    "PeerReply",
    "RawHeaders",
    "ServiceClient",
    "ServiceCredentialsSettings",
    "ServiceTokenError",
    "ServiceTokens",
    "Timeouts",
    "TokenSource",
    "UpstreamBodyError",
    "UpstreamError",
    "UpstreamPool",
    "UpstreamReply",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "peer_unavailable",
]


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(service_client.__all__) == sorted(SURFACE)
    for name in service_client.__all__:
        assert getattr(service_client, name) is not None, name
