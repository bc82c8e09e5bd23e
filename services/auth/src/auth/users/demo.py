"""The demo users of CONTRACT.md, created at start-up when SEED_DEMO_USERS is on."""

import logging

import asyncpg

from auth.users import repository
from auth.users.passwords import PasswordHasher
from auth.users.service import UsersService
from jwt_contract import Role

log = logging.getLogger(__name__)

DEMO_USERS: tuple[tuple[str, str, str, Role], ...] = (
    ("admin", "admin@example.com", "admin@admin", "admin"),
    ("supervisor1", "supervisor1@example.com", "Supervisor1@", "supervisor"),
    ("supervisor2", "supervisor2@example.com", "Supervisor2@", "supervisor"),
    ("user1", "user1@example.com", "User1@123", "enduser"),
    ("user2", "user2@example.com", "User2@123", "enduser"),
)


async def seed_demo_users(pool: asyncpg.Pool, hasher: PasswordHasher) -> int:
    """Create the missing demo users (each announced on the bus); safe on every replica."""
    async with pool.acquire() as conn:
        existing = await repository.existing_usernames(conn, [user[0] for user in DEMO_USERS])
    created = 0
    for username, email, password, role in DEMO_USERS:
        if username in existing:
            continue
        password_hash = await hasher.hash(password)
        async with pool.acquire() as conn, conn.transaction():
            if await UsersService.create_user(conn, username, email, password_hash, role):
                created += 1
    if created:
        log.info("seeded demo users", extra={"createdUsers": created})
    return created
