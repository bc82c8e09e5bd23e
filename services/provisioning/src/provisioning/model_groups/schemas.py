from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from provisioning.schemas import CamelModel
from service_kit import Text

ModelId = Annotated[Text, Field(min_length=1, max_length=200)]
GroupName = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$",
        examples=["fast-models"],
    ),
]


class ModelGroupCreate(CamelModel):
    name: GroupName
    models: list[ModelId] = Field(
        min_length=1,
        max_length=200,
        description="Ids from the chat catalog (GET /api/models); an unknown id is refused",
        examples=[["anthropic.claude-3-haiku-20240307-v1:0", "amazon.titan-text-express-v1"]],
    )
    description: Text | None = Field(None, max_length=1000)


class ModelGroupOut(CamelModel):
    id: UUID
    name: str
    models: list[str]
    description: str | None
    created_by: str
    created_at: datetime


class ModelGroupList(CamelModel):
    model_groups: list[ModelGroupOut]
