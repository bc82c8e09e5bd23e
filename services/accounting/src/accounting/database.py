"""The connection every accounting query takes, and the migrations of accounting's database:
the outbox and inbox's (event_bus), the idempotency keys' (idempotency) and its own."""

import event_bus
import idempotency
from pg_migrations import Connection, package_migrations

MIGRATIONS = package_migrations("accounting")  # src/accounting/migrations
# What migrated_pool applies, in order.
ALL_MIGRATIONS = [event_bus.MIGRATIONS, idempotency.MIGRATIONS, MIGRATIONS]

__all__ = ["ALL_MIGRATIONS", "MIGRATIONS", "Connection"]
