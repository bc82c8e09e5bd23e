"""The base of every request and response body: JSON in camelCase, as the contract writes it.

``createdAt`` on the wire is ``created_at`` in Python, and either name is accepted on input.
``CamelModel`` ignores fields it does not know; ``ClosedCamelModel`` refuses them (422), so
a typo in a field name does not pass silently.
"""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """camelCase JSON, Python names accepted too; unknown fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ClosedCamelModel(CamelModel):
    """camelCase JSON, Python names accepted too; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")
