"""The connection every auth query runs on, and the migrations of auth's database: the outbox
and inbox's (event_bus), the idempotency keys' (idempotency) and its own."""

import event_bus
import idempotency
from pg_migrations import Connection, migrate_command, package_migrations

MIGRATIONS = package_migrations("auth")  # src/auth/migrations
# What auth applies at start-up (main.py), in order.
ALL_MIGRATIONS = [event_bus.MIGRATIONS, idempotency.MIGRATIONS, MIGRATIONS]

__all__ = ["ALL_MIGRATIONS", "MIGRATIONS", "Connection", "migrate"]


def migrate() -> None:
    """``auth-migrate``: apply ALL_MIGRATIONS to DATABASE_URL, then exit (a deploy Job)."""
    migrate_command(ALL_MIGRATIONS)
