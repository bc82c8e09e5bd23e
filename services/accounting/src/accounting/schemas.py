"""The base of accounting's bodies: service-kit's camelCase model that refuses unknown fields,
so a typo in a field name does not pass silently."""

from service_kit import ClosedCamelModel as CamelModel

__all__ = ["CamelModel"]
