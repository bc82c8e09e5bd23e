"""A crash where a test wants one: provisioning failing once, after a peer committed (or the work
was written) and before provisioning's own transaction commits."""

from typing import Any

import pytest


class Crash(Exception):
    """The failure injected."""


def crash_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """``owner.name`` (an async function or method) raises :class:`Crash` the next time it is
    called, then works again; returns the count of crashes, so a test can tell it happened."""
    real = getattr(owner, name)
    crashes: list[int] = []

    async def crash_or_call(*args: Any, **kwargs: Any) -> Any:
        if not crashes:
            crashes.append(1)
            raise Crash
        return await real(*args, **kwargs)

    monkeypatch.setattr(owner, name, crash_or_call)
    return crashes
