"""The names the services and libs import from pg_migrations, pinned."""

import pg_migrations


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(pg_migrations.__all__) == [
        "Connection",
        "Migration",
        "MigrationError",
        "MigrationSource",
        "PostgresPoolSettings",
        "apply_migrations",
        "migrate_command",
        "migrated_pool",
        "package_migrations",
    ]
    for name in pg_migrations.__all__:
        assert getattr(pg_migrations, name) is not None, name
