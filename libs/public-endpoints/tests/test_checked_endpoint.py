"""https only in production, and no host resolving to a private, loopback or link-local
address there (resolved; a fake resolver stands in for public DNS); http and local addresses
outside production."""

import pytest

from public_endpoints import EndpointRefused, checked_endpoint, is_public, resolve


def resolving_to(*addresses):
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


async def refused(url: str, resolver=resolve, *, production: bool = True) -> str:
    with pytest.raises(EndpointRefused) as error:
        await checked_endpoint(url, production=production, resolver=resolver)
    assert str(error.value) == error.value.reason
    return error.value.reason


async def test_a_public_https_server_is_allowed_in_production_without_its_trailing_slash():
    url = await checked_endpoint(
        " https://llm.example.com/ ", production=True, resolver=resolving_to("93.184.216.34")
    )
    assert url == "https://llm.example.com"


async def test_http_is_refused_in_production_and_allowed_outside_it():
    reason = await refused("http://llm.example.com", resolving_to("93.184.216.34"))
    assert reason == "must use https"
    assert await checked_endpoint("http://127.0.0.1:3005", production=False) == (
        "http://127.0.0.1:3005"
    )


async def test_outside_production_nothing_is_resolved():
    async def never(host: str, port: int) -> list[str]:
        raise AssertionError("resolved")

    assert await checked_endpoint("https://localhost", production=False, resolver=never)


async def test_local_names_are_resolved_and_refused_in_production():
    assert "127.0.0.1" in await refused("https://localhost")  # the real resolver


async def test_the_resolver_is_asked_for_the_urls_port_or_the_schemes():
    asked = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.216.34"]

    await checked_endpoint("https://llm.example.com", production=True, resolver=resolver)
    await checked_endpoint("https://llm.example.com:8443/v1", production=True, resolver=resolver)
    assert asked == [("llm.example.com", 443), ("llm.example.com", 8443)]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.5",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fd00::1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
async def test_non_public_addresses_are_refused_in_production(address):
    reason = await refused("https://llm.example.com", resolving_to(address))
    assert reason.endswith("a private, loopback or link-local address")
    assert not is_public(address)


def test_public_addresses_are_public():
    assert is_public("93.184.216.34") and is_public("2606:2800:220:1::1")
    assert is_public("::ffff:93.184.216.34")


async def test_one_private_address_among_public_ones_is_enough_to_refuse():
    await refused("https://llm.example.com", resolving_to("93.184.216.34", "10.0.0.1"))


async def test_a_literal_private_address_is_refused_in_production():
    await refused("https://10.0.0.7:8443")


async def test_a_host_that_does_not_resolve_is_refused():
    async def fails(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    assert "does not resolve" in await refused("https://nowhere.invalid", fails)
    assert "does not resolve" in await refused("https://empty.example", resolving_to())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com", "must use https or http"),
        ("https://", "must name a host, without user or password"),
        ("https://user:pw@example.com", "must name a host, without user or password"),
        ("https://e.com/?q=1", "must have no query or fragment"),
        ("https://e.com/#top", "must have no query or fragment"),
        ("https://e.com:99999", "is not a URL"),
        ("not a url", "must use https or http"),
    ],
)
async def test_malformed_urls_are_refused_everywhere(url, reason):
    assert await refused(url, production=False) == reason
