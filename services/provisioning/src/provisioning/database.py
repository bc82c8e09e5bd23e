"""The connection provisioning's queries run on, and the migrations of provisioning's database:
the outbox and inbox's (event_bus), the idempotency keys' (idempotency) and its own."""

import event_bus
import idempotency
from pg_migrations import Connection, migrate_command, package_migrations

MIGRATIONS = package_migrations("provisioning")  # src/provisioning/migrations
# What migrated_pool applies, in order.
ALL_MIGRATIONS = [event_bus.MIGRATIONS, idempotency.MIGRATIONS, MIGRATIONS]

__all__ = ["ALL_MIGRATIONS", "MIGRATIONS", "Connection", "migrate"]


def migrate() -> None:
    """``provisioning-migrate``: apply ALL_MIGRATIONS to DATABASE_URL, then exit (a deploy Job)."""
    migrate_command(ALL_MIGRATIONS)
