"""ByokRouting: lookups cached for BYOK_CACHE_SECONDS (absence too), a team key's request asks
for the team's credential, one provider is built per credential, and a Bedrock one's
aiobotocore client is opened by its first answer, kept for the most recent MAX_PROVIDERS
credentials, closed once dropped and idle, and closed on shutdown."""

import asyncio

from aiobotocore.session import AioSession

from chat.byok import routing as routing_module
from chat.byok.client import ByokCredential
from chat.byok.routing import ByokRouting
from chat.config import DEFAULT_MODELS, ChatSettings
from chat.providers.base import Turn
from chat.providers.bedrock import BedrockProvider
from chat.providers.openai_compatible import OpenAICompatibleProvider
from infra_fixtures.servers import serve_app
from jwt_contract import Principal
from model_simulator.config import SimulatorSettings
from model_simulator.main import create_app as create_simulator

BEDROCK_MODEL = next(m for m in DEFAULT_MODELS if m.provider == "bedrock")
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


def principal(**claims) -> Principal:
    return Principal("u-1", "user", "u@example.com", "enduser", "access", "j", 0, claims)


def routing(client: FakeClient, cache_seconds: float = 3600) -> ByokRouting:
    return ByokRouting(
        client,  # type: ignore[arg-type]
        ChatSettings(environment="test"),
        bedrock_session=AioSession(),
        cache_seconds=cache_seconds,
    )


async def test_a_lookup_and_its_absence_are_cached_per_caller_and_provider():
    client = FakeClient(None)
    routes = routing(client)
    for _ in range(3):
        assert await routes.provider_for(principal(), BEDROCK_MODEL) is None
    assert client.asked == [("u-1", None, ("bedrock",))]
    await routes.provider_for(principal(), OPENAI_MODEL)
    assert client.asked[-1] == ("u-1", None, ("openai", "openai-compatible"))


async def test_past_the_cache_time_provisioning_is_asked_again():
    client = FakeClient(None)
    routes = routing(client, cache_seconds=0.000001)
    await routes.provider_for(principal(), BEDROCK_MODEL)
    await routes.provider_for(principal(), BEDROCK_MODEL)
    assert len(client.asked) == 2


async def test_a_team_keys_request_asks_for_the_teams_credential():
    client = FakeClient(None)
    await routing(client).provider_for(principal(teamId="team-9"), BEDROCK_MODEL)
    assert client.asked == [("u-1", "team-9", ("bedrock",))]


async def test_one_provider_per_credential_of_the_right_kind():
    aws = ByokCredential(
        id="c-1",
        provider="bedrock",
        base_url="http://127.0.0.1:9",
        access_key_id="AKIASIMUNIT00001",
        secret_access_key="s",
        region="eu-west-1",
    )
    routes = routing(FakeClient(aws), cache_seconds=0.000001)
    first = await routes.provider_for(principal(), BEDROCK_MODEL)
    assert isinstance(first, BedrockProvider)
    assert await routes.provider_for(principal(), BEDROCK_MODEL) is first
    compatible = ByokCredential(
        id="c-2", provider="openai-compatible", base_url="http://127.0.0.1:9", api_key="sk-x-1"
    )
    other = await routing(FakeClient(compatible)).provider_for(principal(), OPENAI_MODEL)
    assert isinstance(other, OpenAICompatibleProvider)
    await other.aclose()


def test_a_credential_never_shows_its_secrets_in_its_repr():
    credential = ByokCredential(
        id="c", provider="openai", base_url=None, api_key="sk-very-secret-1"
    )
    assert "sk-very-secret-1" not in repr(credential)


def aws_key(number: int, simulator_url: str) -> ByokCredential:
    return ByokCredential(
        id=f"c-aws-{number}",
        provider="bedrock",
        base_url=simulator_url,
        access_key_id=f"AKIASIMCACHE{number:04d}",  # the simulator's rule: AKIASIM... is valid
        secret_access_key="s",
        region="us-east-1",
    )


async def first_text(stream) -> str:
    async for item in stream:
        if isinstance(item, str):
            return item
    raise AssertionError("no text")


async def test_a_bedrock_client_lives_while_cached_or_streaming_and_closes_on_shutdown(
    monkeypatch,
):
    monkeypatch.setattr(routing_module, "MAX_PROVIDERS", 1)
    simulator = create_simulator(
        SimulatorSettings(environment="test", first_token_delay_ms=0, max_stall_seconds=60)
    )
    async with serve_app(simulator) as simulator_url:
        client = FakeClient(aws_key(1, simulator_url))
        routes = routing(client, cache_seconds=0.000001)
        first = await routes.provider_for(principal(), BEDROCK_MODEL)
        assert isinstance(first, BedrockProvider)
        assert not first.is_open  # opened by its first answer, not by being built
        holding = first.stream(BEDROCK_MODEL, [Turn("user", "hold [[sim:stall-after=1]]")], 50)
        await first_text(holding)
        assert first.is_open
        assert await routes.provider_for(principal(), BEDROCK_MODEL) is first

        # Another credential pushes it out of the cache of one: its answer goes on.
        client.credential_to_give = aws_key(2, simulator_url)
        second = await routes.provider_for(principal(), BEDROCK_MODEL)
        assert isinstance(second, BedrockProvider) and second is not first
        await asyncio.gather(*routes._closing)  # the drop is handled: no close is pending
        assert first.is_open and first.streaming == 1
        await holding.aclose()  # its last answer ends: the dropped client closes with it
        assert not first.is_open

        # Asked again, the first credential gets a provider of its own again.
        client.credential_to_give = aws_key(1, simulator_url)
        again = await routes.provider_for(principal(), BEDROCK_MODEL)
        assert again is not first
        await asyncio.gather(*routes._closing)
        assert not second.is_open  # dropped while idle: never opened, nothing to close
        async for _ in again.stream(BEDROCK_MODEL, [Turn("user", "once")], 3):
            pass
        assert again.is_open  # kept for the next answer

        await routes.aclose()
        assert not again.is_open


async def test_a_bedrock_providers_access_never_shows_its_keys():
    credential = aws_key(7, "http://127.0.0.1:9")
    built = routing(FakeClient(credential))._build(credential)
    assert isinstance(built, BedrockProvider)
    assert "AKIASIMCACHE0007" not in repr(built._access)
    assert "127.0.0.1:9" in repr(built._access)
