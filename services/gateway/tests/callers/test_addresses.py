"""The client's address: the peer's, or the right-most untrusted one a trusted proxy gives."""

import ipaddress

import pytest

from gateway.callers.addresses import TrustedProxies
from gateway.config import GatewaySettings


def _proxies(*networks: str) -> TrustedProxies:
    return TrustedProxies([ipaddress.ip_network(n) for n in networks])


def test_trusting_nobody_the_peer_is_the_client():
    proxies = _proxies()
    assert proxies.client_address("192.0.2.7", ["203.0.113.1"]) == "192.0.2.7"
    assert not proxies.trusts("127.0.0.1")


def test_an_untrusted_peers_forwarded_for_is_ignored():
    proxies = _proxies("10.0.0.0/8")
    assert proxies.client_address("192.0.2.7", ["203.0.113.1"]) == "192.0.2.7"
    assert not proxies.trusts("192.0.2.7") and proxies.trusts("10.1.2.3")


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        # The right-most address that is not a proxy's: what the client wrote left of it is not.
        (["198.51.100.66, 203.0.113.1"], "203.0.113.1"),
        (["198.51.100.66, 203.0.113.1, 10.0.0.3"], "203.0.113.1"),
        # Several headers are one list, in order.
        (["198.51.100.66", "203.0.113.1, 10.0.0.3"], "203.0.113.1"),
        # Every hop a proxy: the first one is the client.
        (["10.0.0.4, 10.0.0.3"], "10.0.0.4"),
        # An entry that is no address ends the walk at the proxy that passed it on.
        (["203.0.113.1, unknown, 10.0.0.3"], "10.0.0.3"),
        (["not-an-ip"], "10.0.0.2"),
        # Nothing forwarded: the proxy itself.
        ([], "10.0.0.2"),
        ([" 2001:db8::1 "], "2001:db8::1"),
    ],
)
def test_a_trusted_peers_forwarded_for_gives_the_client(forwarded_for, client):
    assert _proxies("10.0.0.0/8").client_address("10.0.0.2", forwarded_for) == client


def test_an_ipv4_mapped_peer_is_its_ipv4_address():
    proxies = _proxies("127.0.0.1")
    assert proxies.trusts("::ffff:127.0.0.1")
    assert proxies.client_address("::ffff:127.0.0.1", ["203.0.113.1"]) == "203.0.113.1"
    assert _proxies().client_address("::ffff:192.0.2.1", []) == "192.0.2.1"


def test_a_peer_that_is_no_address_is_kept_as_it_is():
    assert _proxies("10.0.0.0/8").client_address(None, ["203.0.113.1"]) == "unknown"
    assert _proxies("10.0.0.0/8").client_address("testclient", ["203.0.113.1"]) == "testclient"


def test_trusted_proxies_come_from_the_environment(monkeypatch):
    assert GatewaySettings().trusted_proxies == []  # trust nobody by default
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,2001:db8::/32")
    settings = GatewaySettings()
    assert [str(n) for n in settings.trusted_proxies] == [
        "10.0.0.0/8",
        "192.0.2.1/32",
        "2001:db8::/32",
    ]
    for bad in ("10.0.0.1/8", "proxy.local"):
        monkeypatch.setenv("TRUSTED_PROXIES", bad)
        with pytest.raises(ValueError, match="trusted_proxies"):
            GatewaySettings()
