"""The body of a service's ``<name>-migrate`` console script: its migrations, nothing served."""

import asyncio
import os
import sys

import asyncpg

from pg_migrations.runner import MigrationError, MigrationSource, apply_migrations


def migrate_command(sources: list[MigrationSource]) -> None:
    """Apply every pending migration of ``sources`` to ``DATABASE_URL``, then exit.

    A deployment runs it once per release, before the new replicas start (deploy/k8s: a Job
    per service). The advisory lock makes it safe beside replicas that apply the same
    migrations at their own start-up: whichever comes second finds nothing left to do.
    """
    dsn = os.environ.get("DATABASE_URL", "").strip()
    if not dsn:
        sys.exit("refusing to migrate: DATABASE_URL is not set")
    try:
        applied = asyncio.run(apply_migrations(dsn, sources))
    except (OSError, asyncpg.PostgresError, MigrationError) as exc:
        sys.exit(f"migration failed: {exc!r}")
    names = ", ".join(f"{m.source} {m.version:03d}" for m in applied) or "none pending"
    print(f"applied {len(applied)} migration(s): {names}", flush=True)
