import pytest

from chat.catalog.catalog import ModelCatalog
from chat.config import DEFAULT_MODELS
from jwt_contract import Principal
from service_kit import ApiError

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "anthropic.claude-3-sonnet-20240229-v1:0"


def principal(role="enduser", **claims) -> Principal:
    return Principal("u", "user", "u@example.com", role, "access", "j", 0, claims)


def test_roles_limit_the_catalog():
    catalog = ModelCatalog(DEFAULT_MODELS, HAIKU)
    assert "gpt-4o-mini" not in {m.id for m in catalog.for_principal(principal())}
    assert "gpt-4o-mini" in {m.id for m in catalog.for_principal(principal("admin"))}
    with pytest.raises(ApiError) as refused:
        catalog.resolve("gpt-4o-mini", principal())
    assert refused.value.code == "invalid_model"


def test_a_team_keys_model_list_narrows_it_further():
    catalog = ModelCatalog(DEFAULT_MODELS, HAIKU)
    key = principal(models=[HAIKU])
    assert [m.id for m in catalog.for_principal(key)] == [HAIKU]
    assert catalog.resolve(HAIKU, key).id == HAIKU
    with pytest.raises(ApiError):
        catalog.resolve(SONNET, key)


def test_an_unknown_default_model_is_refused_at_start():
    with pytest.raises(ValueError, match="DEFAULT_MODEL_ID"):
        ModelCatalog(DEFAULT_MODELS, "nope")
