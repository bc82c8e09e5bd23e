"""argon2id password hashing, kept off the event loop."""

import asyncio
from collections.abc import Sequence

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from auth.config import AuthSettings


class PasswordHasher:
    """Hashes in worker threads, at most ``concurrency`` at a time.

    Each hash takes ``memory_kib`` of memory and tens of milliseconds of CPU: the semaphore
    bounds both, so a burst of logins queues up instead of exhausting the process.
    """

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int):
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._slots = asyncio.Semaphore(concurrency)
        # Verified when the user does not exist, so that case takes as long as a wrong password.
        self._decoy_hash = self._hasher.hash("decoy password that matches nothing")

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> "PasswordHasher":
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            concurrency=settings.hashing_concurrency,
        )

    @property
    def parameters(self) -> dict[str, int | str]:
        p = self._hasher
        return {
            "type": "argon2id",
            "timeCost": p.time_cost,
            "memoryKiB": p.memory_cost,
            "parallelism": p.parallelism,
        }

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self._verify, password_hash, password)

    async def hash_each(self, secrets: Sequence[str]) -> list[str]:
        """One hash per secret (2FA backup codes), computed in one worker thread."""
        async with self._slots:
            return await asyncio.to_thread(lambda: [self._hasher.hash(s) for s in secrets])

    async def first_match(self, hashes: Sequence[str], secret: str) -> int | None:
        """The index of the first of ``hashes`` that ``secret`` matches, or None."""
        if not hashes:
            return None
        async with self._slots:
            return await asyncio.to_thread(self._first_match, hashes, secret)

    def _first_match(self, hashes: Sequence[str], secret: str) -> int | None:
        for index, candidate in enumerate(hashes):
            if self._verify(candidate, secret):
                return index
        return None

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy_hash, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False
