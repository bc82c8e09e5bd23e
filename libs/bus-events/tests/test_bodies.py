"""Each body model writes today's JSON through event_bus's envelope and reads it back; what
does not fit is refused with a reason the consumer dead-letters at once."""

import json
import uuid
from typing import Any

import pytest

from bus_events import (
    EVENT_MODELS,
    ApiKeyRevoked,
    AuditRecorded,
    BusEvent,
    CreditsLow,
    OrganizationDeleted,
    UsageRecorded,
    UserRegistered,
    UserUpdated,
    body_of,
    event_of,
)
from event_bus import Event, PermanentEventError, new_event

USER = str(uuid.uuid4())
RESERVATION = str(uuid.uuid4())
ACCOUNT = str(uuid.uuid4())

# One body of each event, as its producer wrote it by hand before these models (field order
# included), and the model that writes it now.
WIRE: list[tuple[BusEvent, dict[str, Any]]] = [
    (
        UserRegistered(user_id=USER, username="ada", email="ada@example.com", role="enduser"),
        {"userId": USER, "username": "ada", "email": "ada@example.com", "role": "enduser"},
    ),
    (
        UserUpdated(user_id=USER, role="supervisor", disabled=False, token_version=2),
        {"userId": USER, "role": "supervisor", "disabled": False, "tokenVersion": 2},
    ),
    (
        UsageRecorded(
            user_id=USER,
            session_id="chat-1",
            streaming_session_id=uuid.UUID(RESERVATION),
            model_id="anthropic.claude-3-haiku-20240307-v1:0",
            input_tokens=400,
            output_tokens=600,
            service="chat",
            operation="stream",
        ),
        {
            "userId": USER,
            "sessionId": "chat-1",
            "streamingSessionId": RESERVATION,
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "inputTokens": 400,
            "outputTokens": 600,
            "service": "chat",
            "operation": "stream",
        },
    ),
    (
        CreditsLow(user_id=USER, account_id=uuid.UUID(ACCOUNT), available_credits=0.25),
        {"userId": USER, "accountId": ACCOUNT, "availableCredits": 0.25},
    ),
    (
        CreditsLow(user_id=USER, account_id=uuid.UUID(ACCOUNT), available_credits=3),
        {"userId": USER, "accountId": ACCOUNT, "availableCredits": 3},
    ),
    (
        ApiKeyRevoked(key_id="k-1", team_id="team-1", effective_at=1_767_225_600.25),
        {"keyId": "k-1", "teamId": "team-1", "effectiveAt": 1_767_225_600.25},
    ),
    (
        ApiKeyRevoked(key_id="k-2", user_id=USER, effective_at=1_767_225_600.0),
        {"keyId": "k-2", "userId": USER, "effectiveAt": 1_767_225_600.0},
    ),
    (
        OrganizationDeleted(organization_id="org-1"),
        {"organizationId": "org-1"},
    ),
    (
        AuditRecorded(
            actor_id=USER,
            action="organization.updated",
            target_type="organization",
            target_id="org-1",
            organization_id="org-1",
            before={"name": "Old", "role": None},
            after={"name": "New", "role": None},
            request_id="req-1",
        ),
        {
            "actorId": USER,
            "action": "organization.updated",
            "targetType": "organization",
            "targetId": "org-1",
            "organizationId": "org-1",
            "before": {"name": "Old", "role": None},
            "after": {"name": "New", "role": None},
            "requestId": "req-1",
        },
    ),
]


def _id(case: tuple[BusEvent, dict[str, Any]]) -> str:
    return type(case[0]).__name__


def _over_the_wire(event: dict[str, Any]) -> Event:
    """As a consumer gets it: encoded to JSON, decoded by event_bus."""
    return Event.from_bytes(json.dumps(event).encode())


@pytest.mark.parametrize("case", WIRE, ids=_id)
def test_each_event_is_written_as_it_always_was_and_read_back(case):
    body, wire = case
    event = event_of(body)
    assert set(event) == {"eventId", "type", "occurredAt", "version", *wire}
    assert (event["type"], event["version"]) == (body.routing_key, body.version)
    assert list(event)[4:] == list(wire)  # same fields, same order
    assert {k: v for k, v in event.items() if k in wire} == wire
    received = _over_the_wire(event)
    assert received.event_id == uuid.UUID(event["eventId"])
    assert body_of(received, type(body)) == body


@pytest.mark.parametrize("case", WIRE, ids=_id)
def test_a_body_written_by_hand_reads_as_the_model(case):
    """Producers not on these models yet (and tests) still write the body themselves."""
    body, wire = case
    assert body_of(_over_the_wire(new_event(body.routing_key, wire)), type(body)) == body


def test_every_model_has_a_round_trip_case():
    assert {type(body) for body, _ in WIRE} == set(EVENT_MODELS.values())


def test_optional_fields_are_absent_rather_than_null():
    event = event_of(OrganizationDeleted(organization_id="org-1"))
    assert "teamId" not in event_of(ApiKeyRevoked(key_id="k", user_id=USER))
    assert list(event)[4:] == ["organizationId"]
    usage = body_of(_over_the_wire(new_event("usage.recorded", dict(WIRE[2][1]))), UsageRecorded)
    assert usage.account_id is None
    assert "accountId" not in event_of(usage)


def test_a_byok_usage_says_so_and_any_other_leaves_it_out():
    plain = body_of(_over_the_wire(new_event("usage.recorded", dict(WIRE[2][1]))), UsageRecorded)
    assert plain.byok is False
    assert "byok" not in event_of(plain)
    byok = event_of(plain.model_copy(update={"byok": True}))
    assert byok["byok"] is True
    assert body_of(_over_the_wire(byok), UsageRecorded).byok is True


def _refusal(model: type[BusEvent], body: dict[str, Any]) -> str:
    with pytest.raises(PermanentEventError) as refused:
        body_of(_over_the_wire(new_event(model.routing_key, body)), model)
    return str(refused.value)


def test_what_the_consumers_refused_before_is_refused_with_its_reason():
    registered = {"userId": USER, "username": "ada", "email": "a@example.com", "role": "enduser"}
    assert _refusal(UserRegistered, {**registered, "userId": ""}) == (
        "invalid user.registered body: userId: Value should have at least 1 item after "
        "validation, not 0"
    )
    without_user = {k: v for k, v in registered.items() if k != "userId"}
    assert _refusal(UserRegistered, without_user) == (
        "invalid user.registered body: userId: Field required"
    )
    assert "username: Input should be a valid string" in _refusal(
        UserRegistered, {**registered, "username": 7}
    )
    assert _refusal(OrganizationDeleted, {}) == (
        "invalid organization.deleted body: organizationId: Field required"
    )
    assert "organizationId" in _refusal(OrganizationDeleted, {"organizationId": ""})
    assert "organizationId" in _refusal(OrganizationDeleted, {"organizationId": 5})


def test_a_malformed_usage_event_names_every_field_that_is_wrong():
    usage = dict(WIRE[2][1])
    reason = _refusal(
        UsageRecorded, {**usage, "inputTokens": -5, "streamingSessionId": "nope", "userId": None}
    )
    assert reason.startswith("invalid usage.recorded body: ")
    for field in ("inputTokens", "streamingSessionId", "userId"):
        assert field in reason
    assert "outputTokens: Field required" in _refusal(
        UsageRecorded, {k: v for k, v in usage.items() if k != "outputTokens"}
    )
    assert "modelId" in _refusal(UsageRecorded, {**usage, "modelId": "a\x00b"})  # no NUL


def test_usage_token_counts_read_as_ints_however_they_were_encoded():
    usage = {**WIRE[2][1], "inputTokens": 12.0, "outputTokens": 3}
    event = _over_the_wire(new_event("usage.recorded", usage))
    assert body_of(event, UsageRecorded).input_tokens == 12
    assert "inputTokens" in _refusal(UsageRecorded, {**usage, "inputTokens": 1.5})
    assert "outputTokens" in _refusal(UsageRecorded, {**usage, "outputTokens": 10_000_001})


def test_revocations_refuse_values_of_the_wrong_json_type():
    updated = dict(WIRE[1][1])
    assert "tokenVersion" in _refusal(UserUpdated, {**updated, "tokenVersion": "2"})
    assert "tokenVersion" in _refusal(UserUpdated, {**updated, "tokenVersion": True})
    assert "disabled" in _refusal(UserUpdated, {**updated, "disabled": "no"})
    assert "effectiveAt" in _refusal(ApiKeyRevoked, {"keyId": "k", "effectiveAt": "soon"})
    assert "effectiveAt" in _refusal(ApiKeyRevoked, {"keyId": "k", "effectiveAt": True})
    whole_seconds = _over_the_wire(new_event("api_key.revoked", {"keyId": "k", "effectiveAt": 5}))
    assert body_of(whole_seconds, ApiKeyRevoked).effective_at == 5.0
    assert body_of(
        _over_the_wire(new_event("api_key.revoked", {"keyId": "k"})), ApiKeyRevoked
    ) == ApiKeyRevoked(key_id="k")  # no effectiveAt: revoked at once


@pytest.mark.parametrize("never", [float("nan"), float("inf"), float("-inf")])
def test_a_key_revocation_at_a_time_that_never_comes_is_refused(never):
    # Python's json reads and writes NaN and Infinity, so they do cross the bus.
    assert "effectiveAt" in _refusal(ApiKeyRevoked, {"keyId": "k", "effectiveAt": never})


def test_credits_are_a_json_number():
    low = dict(WIRE[3][1])
    assert "availableCredits" in _refusal(CreditsLow, {**low, "availableCredits": "0.25"})
    assert "accountId" in _refusal(CreditsLow, {**low, "accountId": "not-a-uuid"})


def test_on_the_bus_only_the_camel_case_names_are_read():
    assert "userId: Field required" in _refusal(
        UserRegistered, {"user_id": USER, "username": "ada", "email": "e", "role": "enduser"}
    )


def test_an_event_of_another_type_is_refused():
    event = _over_the_wire(event_of(OrganizationDeleted(organization_id="org-1")))
    with pytest.raises(PermanentEventError) as refused:
        body_of(event, UserRegistered)
    assert str(refused.value) == "expected a user.registered event, got organization.deleted"


def test_a_producer_cannot_build_a_body_that_does_not_fit():
    with pytest.raises(ValueError):
        UserRegistered(user_id="", username="ada", email="e", role="enduser")
    with pytest.raises(ValueError):
        UsageRecorded(user_id=USER, session_id="s", model_id="m", input_tokens=-1, output_tokens=0)


def test_the_models_are_values():
    body = OrganizationDeleted(organization_id="org-1")
    with pytest.raises(ValueError):
        body.organization_id = "org-2"  # type: ignore[misc]
    assert body == OrganizationDeleted(organization_id="org-1")


class TestVersions:
    def test_a_producer_writes_its_models_version(self, monkeypatch):
        monkeypatch.setattr(OrganizationDeleted, "version", 3)
        assert event_of(OrganizationDeleted(organization_id="org-1"))["version"] == 3

    def test_a_body_of_the_models_own_version_is_read(self):
        event = _over_the_wire(new_event("organization.deleted", {"organizationId": "o"}))
        assert event.version == OrganizationDeleted.version
        assert body_of(event, OrganizationDeleted).organization_id == "o"

    def test_a_newer_version_is_read_as_the_superset_it_is(self):
        newer = new_event(
            "user.registered",
            {**WIRE[0][1], "displayName": "Ada", "locale": "en"},
            version=UserRegistered.version + 1,
        )
        assert body_of(_over_the_wire(newer), UserRegistered) == WIRE[0][0]

    def test_a_newer_version_that_breaks_a_field_is_still_refused(self):
        newer = new_event(
            "user.registered",
            {**WIRE[0][1], "userId": 42},
            version=UserRegistered.version + 1,
        )
        with pytest.raises(PermanentEventError, match="userId"):
            body_of(_over_the_wire(newer), UserRegistered)

    def test_the_version_is_not_a_body_field(self):
        for model in EVENT_MODELS.values():
            assert "version" not in model.model_fields
            assert "routing_key" not in model.model_fields
