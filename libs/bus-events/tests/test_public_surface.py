"""The names producers and consumers import from bus_events, pinned: a change here is a change
to the bus contract, so it is made on purpose (and this list with it)."""

import bus_events


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(bus_events.__all__) == [
        "ApiKeyRevoked",
        "AuditRecorded",
        "BusEvent",
        "CreditsLow",
        "EVENT_MODELS",
        "OrganizationDeleted",
        "UsageRecorded",
        "UserRegistered",
        "UserUpdated",
        "body_of",
        "event_of",
    ]
    for name in bus_events.__all__:
        assert getattr(bus_events, name) is not None, name


def test_every_event_of_the_contract_has_a_model_with_its_routing_key_and_version():
    assert {key: model.version for key, model in bus_events.EVENT_MODELS.items()} == {
        "api_key.revoked": 1,
        "audit.recorded": 1,
        "credits.low": 1,
        "organization.deleted": 1,
        "usage.recorded": 1,
        "user.registered": 1,
        "user.updated": 1,
    }
    for key, model in bus_events.EVENT_MODELS.items():
        assert model.routing_key == key
        assert issubclass(model, bus_events.BusEvent)


def test_the_wire_names_of_every_body_are_these():
    """camelCase, as CONTRACT.md and every producer before these models wrote them."""
    wire = {
        key: sorted(field.alias or name for name, field in model.model_fields.items())
        for key, model in bus_events.EVENT_MODELS.items()
    }
    assert wire == {
        "api_key.revoked": ["effectiveAt", "keyId", "teamId", "userId"],
        "audit.recorded": [
            "action",
            "actorId",
            "after",
            "before",
            "organizationId",
            "requestId",
            "targetId",
            "targetType",
        ],
        "credits.low": ["accountId", "availableCredits", "userId"],
        "organization.deleted": ["organizationId"],
        "usage.recorded": [
            "accountId",
            "byok",
            "inputTokens",
            "modelId",
            "operation",
            "outputTokens",
            "service",
            "sessionId",
            "streamingSessionId",
            "userId",
        ],
        "user.registered": ["email", "role", "userId", "username"],
        "user.updated": ["disabled", "role", "tokenVersion", "userId"],
    }
