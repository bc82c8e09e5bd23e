"""The typed records read and write the very documents chat has always stored."""

from datetime import UTC, datetime

from chat.sessions.records import MessageRecord, PendingUsage, SessionRecord

AT = datetime(2030, 1, 1, tzinfo=UTC)


def test_a_session_document_round_trips_with_every_field():
    document = {
        "_id": "s",
        "userId": "u",
        "title": "t",
        "modelId": "m",
        "createdAt": AT,
        "updatedAt": AT,
        "messageCount": 2,
        "deletedAt": None,
    }
    session = SessionRecord.model_validate(document)
    assert (session.id, session.user_id, session.message_count) == ("s", "u", 2)
    assert session.to_document() == document


def test_a_stored_answer_round_trips_and_a_question_keeps_only_its_fields():
    answer = {
        "_id": "a",
        "sessionId": "s",
        "userId": "u",
        "role": "assistant",
        "content": "hi",
        "modelId": "m",
        "status": "complete",
        "streamingSessionId": "r",
        "tokens": {"input": 3, "output": 4},
        "createdAt": AT,
        "usage": {"event": {"eventId": "e", "keyId": None}},
        "usagePending": True,
    }
    record = MessageRecord.model_validate(answer)
    assert record.tokens_used == 7
    assert record.usage is not None and record.usage.event == answer["usage"]["event"]
    assert record.to_document() == answer
    question = MessageRecord(
        id="q", session_id="s", user_id="u", role="user", content="?", created_at=AT
    )
    assert question.to_document() == {
        "_id": "q",
        "sessionId": "s",
        "userId": "u",
        "role": "user",
        "content": "?",
        "createdAt": AT,
    }


def test_a_pending_usage_record_reads_the_relays_projection():
    pending = PendingUsage.model_validate({"_id": "a", "usage": {"event": {"eventId": "e"}}})
    assert (pending.id, pending.usage.event, pending.usage.published_at) == (
        "a",
        {"eventId": "e"},
        None,
    )
