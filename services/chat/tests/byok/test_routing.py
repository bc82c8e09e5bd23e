"""ByokRouting: lookups cached for BYOK_CACHE_SECONDS (absence too), a team key's request asks
for the team's credential, and one provider is built per credential."""

from chat.byok.client import ByokCredential
from chat.byok.routing import ByokRouting
from chat.config import DEFAULT_MODELS, ChatSettings
from chat.providers.bedrock import BedrockProvider
from chat.providers.openai_compatible import OpenAICompatibleProvider
from jwt_contract import Principal

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
    settings = ChatSettings(environment="test")
    platform = BedrockProvider(settings, max_concurrency=2)
    return ByokRouting(
        client,  # type: ignore[arg-type]
        settings,
        bedrock_threads=platform.threads,
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
