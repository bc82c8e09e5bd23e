"""One camelCase base for every service: the same behaviour as each service's own had."""

from datetime import datetime

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from service_kit import CamelModel, ClosedCamelModel


# What auth and chat defined (unknown fields ignored) and accounting and provisioning defined
# (unknown fields refused), kept here to prove the shared bases behave the same.
class AuthCamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class AccountingCamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def body(base: type[BaseModel]) -> type[BaseModel]:
    class Body(base):
        user_id: int
        created_at: datetime | None = None

    return Body


@pytest.mark.parametrize(
    ("shared", "own"), [(CamelModel, AuthCamelModel), (ClosedCamelModel, AccountingCamelModel)]
)
def test_shared_base_has_the_services_config_and_schema(shared, own):
    assert shared.model_config == own.model_config
    assert body(shared).model_json_schema() == body(own).model_json_schema()


@pytest.mark.parametrize("base", [CamelModel, ClosedCamelModel])
def test_camel_case_on_the_wire_and_either_name_on_input(base):
    model = body(base)
    by_alias = model.model_validate({"userId": 1, "createdAt": "2024-01-02T03:04:05Z"})
    by_name = model.model_validate({"user_id": 1})
    assert by_alias.model_dump(by_alias=True, mode="json") == {
        "userId": 1,
        "createdAt": "2024-01-02T03:04:05Z",
    }
    assert by_name.model_dump(by_alias=True) == {"userId": 1, "createdAt": None}


def test_camel_model_ignores_unknown_fields():
    assert body(CamelModel).model_validate({"userId": 1, "typo": 2}).model_dump() == {
        "user_id": 1,
        "created_at": None,
    }


def test_closed_camel_model_refuses_unknown_fields():
    with pytest.raises(ValidationError) as refused:
        body(ClosedCamelModel).model_validate({"userId": 1, "typo": 2})
    assert refused.value.errors()[0]["type"] == "extra_forbidden"
