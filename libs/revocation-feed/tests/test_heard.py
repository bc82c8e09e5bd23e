"""What a revocation event heard on the bus does to the verifier's revocations: read as its
model, and failing closed when its body does not fit (through the subscriber's own handler,
with no broker: a feed that is not started connects to nothing)."""

import logging
from typing import Any

import pytest

from event_bus import Event, encode_event, new_event
from jwt_contract import Revocations
from revocation_feed import RevocationFeed

NOW = 1_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


async def no_snapshot() -> dict[str, Any]:
    return {}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def feed(clock: Clock) -> RevocationFeed:
    return RevocationFeed(
        Revocations(clock=clock), "amqp://127.0.0.1:1/", no_snapshot, exchange="unused"
    )


def hear(feed: RevocationFeed, event_type: str, body: dict[str, Any]) -> None:
    """``body`` published as ``event_type`` and handed to the feed as the subscriber would."""
    raw = encode_event(new_event(event_type, body))
    feed.subscriber.handler(Event.from_bytes(raw))


def refused(feed: RevocationFeed, **claims: Any) -> str | None:
    return feed.revocations.reason_to_refuse(claims)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


USER = "7f1c2a9e-3b4d-4c5e-8f60-1a2b3c4d5e6f"


def test_a_user_updated_refuses_the_tokens_below_its_version(feed, caplog):
    with caplog.at_level(logging.INFO, logger="revocation_feed"):
        hear(
            feed,
            "user.updated",
            {"userId": USER, "role": "enduser", "disabled": True, "tokenVersion": 3},
        )
    assert refused(feed, sub=USER, tv=2) == "the user's tokens were revoked"
    assert refused(feed, sub=USER, tv=3) is None
    assert warnings(caplog) == []
    assert any(r.getMessage() == "revocation heard" for r in caplog.records)


@pytest.mark.parametrize(
    "rest", [{}, {"role": "enduser"}, {"disabled": "yes", "role": ""}], ids=str
)
def test_a_user_updated_without_a_valid_role_or_disabled_still_revokes(feed, caplog, rest):
    with caplog.at_level(logging.WARNING, logger="revocation_feed"):
        hear(feed, "user.updated", {"userId": USER, "tokenVersion": 3, **rest})
    assert refused(feed, sub=USER, tv=2) == "the user's tokens were revoked"
    assert warnings(caplog) == ["revoking on a body that does not fit its model"]


def test_a_key_revoked_from_a_time_to_come_is_refused_from_then_on(feed, clock):
    hear(feed, "api_key.revoked", {"keyId": "k-1", "effectiveAt": NOW + 60})
    assert refused(feed, keyId="k-1") is None  # its grace period
    clock.now = NOW + 60
    assert refused(feed, keyId="k-1") == "the API key was revoked"


@pytest.mark.parametrize(
    "effective_at", ["soon", True, [NOW + 60], float("nan"), float("inf")], ids=repr
)
def test_a_key_whose_effective_at_does_not_fit_is_revoked_at_once(feed, caplog, effective_at):
    with caplog.at_level(logging.WARNING, logger="revocation_feed"):
        hear(feed, "api_key.revoked", {"keyId": "k-1", "effectiveAt": effective_at})
    assert refused(feed, keyId="k-1") == "the API key was revoked"
    assert warnings(caplog) == ["revoking on a body that does not fit its model"]


def test_a_key_revocation_that_does_not_fit_is_not_trusted_with_its_grace_period(feed):
    hear(feed, "api_key.revoked", {"keyId": "k-1", "teamId": "", "effectiveAt": NOW + 60})
    assert refused(feed, keyId="k-1") == "the API key was revoked"


def test_a_key_revocation_without_a_time_is_at_once(feed, caplog):
    with caplog.at_level(logging.WARNING, logger="revocation_feed"):
        hear(feed, "api_key.revoked", {"keyId": "k-1", "userId": USER})
    assert refused(feed, keyId="k-1") == "the API key was revoked"
    assert warnings(caplog) == []


def test_an_organization_deleted_refuses_its_tokens(feed):
    hear(feed, "organization.deleted", {"organizationId": "org-1"})
    assert refused(feed, organizationId="org-1") == "the organization was deleted"


@pytest.mark.parametrize(
    ("event_type", "body"),
    [
        ("user.updated", {"userId": USER, "tokenVersion": "2"}),
        ("user.updated", {"userId": 5, "tokenVersion": 2}),
        ("user.updated", {"userId": USER, "tokenVersion": True}),
        ("api_key.revoked", {}),
        ("api_key.revoked", {"keyId": 7}),
        ("organization.deleted", {"organizationId": None}),
    ],
    ids=str,
)
def test_a_body_that_names_nothing_to_revoke_is_logged_and_dropped(feed, caplog, event_type, body):
    with caplog.at_level(logging.WARNING, logger="revocation_feed"):
        hear(feed, event_type, body)
    assert len(feed.revocations) == 0
    assert warnings(caplog) == ["ignoring a revocation event that names nothing to revoke"]


def test_other_events_are_ignored(feed, caplog):
    with caplog.at_level(logging.INFO, logger="revocation_feed"):
        hear(feed, "usage.recorded", {"userId": USER})
    assert len(feed.revocations) == 0
    assert caplog.records == []
