"""The field types event bodies share.

Strings are ``service_kit.Text``: a consumer stores them in PostgreSQL, which refuses a NUL,
so such a body is refused (dead-lettered at once) rather than failing in the database.
"""

from typing import Annotated

from pydantic import Field

from service_kit import Text

# A user, key, team, organization or model id: ids are UUIDs today, but consumers read any
# non-empty string (tests and older producers name organizations otherwise).
Identifier = Annotated[Text, Field(min_length=1, max_length=200)]
# A role, a service or operation name, an audit action: a short non-empty word.
Name = Annotated[Text, Field(min_length=1, max_length=100)]
