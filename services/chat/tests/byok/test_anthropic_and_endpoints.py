"""ByokRouting for Anthropic (a caller's anthropic credential builds an Anthropic provider with
its key and base URL), and the check of an OpenAI-compatible credential's own baseUrl before
each answer: in production a host that now resolves to a private address (DNS re-pointed since
the credential was stored) is refused with 422 byok_endpoint_refused, and no provider is
built for it."""

import pytest
from aiobotocore.session import AioSession

from chat.byok.client import ByokCredential
from chat.byok.endpoints import EndpointCheck
from chat.byok.routing import ByokRouting
from chat.config import DEFAULT_MODELS, ChatSettings
from chat.providers.anthropic import AnthropicProvider
from chat.providers.openai_compatible import OpenAICompatibleProvider
from jwt_contract import Principal
from service_kit import ApiError

ANTHROPIC_MODEL = next(m for m in DEFAULT_MODELS if m.provider == "anthropic")
OPENAI_MODEL = next(m for m in DEFAULT_MODELS if m.provider == "openai")


class FakeClient:
    def __init__(self, credential: ByokCredential | None) -> None:
        self.credential_to_give = credential
        self.asked: list[tuple[str, str | None, tuple[str, ...]]] = []

    async def credential(self, user_id, team_id, providers):
        self.asked.append((user_id, team_id, providers))
        return self.credential_to_give

    async def aclose(self) -> None:
        pass


class Dns:
    """A resolver whose answer a test changes, as a re-pointed name's would."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return list(self.addresses)


def principal() -> Principal:
    return Principal("u-1", "user", "u@example.com", "enduser", "access", "j", 0, {})


def routing(client: FakeClient, check: EndpointCheck | None = None) -> ByokRouting:
    return ByokRouting(
        client,  # type: ignore[arg-type]
        ChatSettings(environment="test"),
        bedrock_session=AioSession(),
        cache_seconds=3600,
        endpoint_check=check,
    )


def compatible(base_url: str) -> ByokCredential:
    return ByokCredential(
        id="c-compat", provider="openai-compatible", base_url=base_url, api_key="sk-own-1"
    )


async def test_an_anthropic_model_asks_for_an_anthropic_credential_and_builds_its_provider():
    credential = ByokCredential(
        id="c-ant", provider="anthropic", base_url="http://127.0.0.1:3005", api_key="sk-sim-a-1"
    )
    client = FakeClient(credential)
    routes = routing(client)
    built = await routes.provider_for(principal(), ANTHROPIC_MODEL)
    assert isinstance(built, AnthropicProvider)
    assert client.asked == [("u-1", None, ("anthropic",))]
    sdk = built._client
    assert (sdk.api_key, str(sdk.base_url).rstrip("/")) == ("sk-sim-a-1", "http://127.0.0.1:3005")
    assert await routes.provider_for(principal(), ANTHROPIC_MODEL) is built  # one per credential
    await routes.aclose()


async def test_a_private_address_is_refused_at_call_time_in_production():
    dns = Dns("10.0.0.8")
    routes = routing(FakeClient(compatible("https://llm.example.com/")), EndpointCheck(True, dns))
    with pytest.raises(ApiError) as refused:
        await routes.provider_for(principal(), OPENAI_MODEL)
    error = refused.value
    assert (error.status, error.code) == (422, "byok_endpoint_refused")
    assert "10.0.0.8" in error.message and "private" in error.message
    assert error.details == {"credentialId": "c-compat"}
    assert dns.asked == [("llm.example.com", 443)]
    assert routes._providers == {}  # nothing was built for it


async def test_a_name_re_pointed_after_it_was_stored_is_refused_on_the_next_answer():
    dns = Dns("93.184.216.34")
    routes = routing(FakeClient(compatible("https://llm.example.com")), EndpointCheck(True, dns))
    first = await routes.provider_for(principal(), OPENAI_MODEL)
    assert isinstance(first, OpenAICompatibleProvider)
    dns.addresses = ["169.254.169.254"]  # rebinding: the same name, the metadata address
    with pytest.raises(ApiError) as refused:
        await routes.provider_for(principal(), OPENAI_MODEL)
    assert refused.value.code == "byok_endpoint_refused"
    assert len(dns.asked) == 2  # resolved again for each answer, the lookup itself cached
    await routes.aclose()


async def test_http_is_refused_in_production():
    routes = routing(
        FakeClient(compatible("http://llm.example.com")), EndpointCheck(True, Dns("93.184.216.34"))
    )
    with pytest.raises(ApiError) as refused:
        await routes.provider_for(principal(), OPENAI_MODEL)
    assert "must use https" in refused.value.message


async def test_outside_production_the_simulator_on_loopback_is_allowed():
    routes = routing(FakeClient(compatible("http://127.0.0.1:3005")))  # test: not production
    assert isinstance(
        await routes.provider_for(principal(), OPENAI_MODEL), OpenAICompatibleProvider
    )
    await routes.aclose()


async def test_credentials_without_a_url_of_their_own_are_not_resolved():
    dns = Dns("10.0.0.1")
    anthropic = ByokCredential(
        id="c-a", provider="anthropic", base_url="https://api.anthropic.com", api_key="k"
    )
    routes = routing(FakeClient(anthropic), EndpointCheck(True, dns))
    assert isinstance(await routes.provider_for(principal(), ANTHROPIC_MODEL), AnthropicProvider)
    assert dns.asked == []  # the platform's configured endpoint, not the caller's URL
    await routes.aclose()
