"""baseUrl: https only in production, and no host resolving to a private, loopback or
link-local address there (resolved; a fake resolver stands in for public DNS)."""

import pytest

from provisioning.byok.base_urls import checked_base_url, resolve
from service_kit import ApiError


def resolving_to(*addresses):
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


async def refused(url: str, resolver=resolve) -> str:
    with pytest.raises(ApiError) as error:
        await checked_base_url(url, production=True, resolver=resolver)
    assert (error.value.status, error.value.code) == (422, "invalid_base_url")
    return str(error.value)


async def test_a_public_https_server_is_allowed_in_production():
    url = await checked_base_url(
        "https://llm.example.com/", production=True, resolver=resolving_to("93.184.216.34")
    )
    assert url == "https://llm.example.com"


async def test_http_is_refused_in_production_and_allowed_outside_it():
    assert "https" in await refused("http://llm.example.com", resolving_to("93.184.216.34"))
    allowed = await checked_base_url("http://127.0.0.1:3005", production=False)
    assert allowed == "http://127.0.0.1:3005"


async def test_local_names_are_resolved_and_refused_in_production():
    assert "127.0.0.1" in await refused("https://localhost")  # the real resolver


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
        "fd00::1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
    ],
)
async def test_non_public_addresses_are_refused_in_production(address):
    await refused("https://llm.example.com", resolving_to(address))


async def test_one_private_address_among_public_ones_is_enough_to_refuse():
    await refused("https://llm.example.com", resolving_to("93.184.216.34", "10.0.0.1"))


async def test_a_literal_private_address_is_refused_in_production():
    await refused("https://10.0.0.7:8443")


async def test_a_host_that_does_not_resolve_is_refused():
    async def fails(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    assert "does not resolve" in await refused("https://nowhere.invalid", fails)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com",
        "https://",
        "https://user:pw@example.com",
        "https://e.com/?q=1",
        "https://e.com:99999",
        "not a url",
    ],
)
async def test_malformed_urls_are_refused_everywhere(url):
    with pytest.raises(ApiError):
        await checked_base_url(url, production=False)
