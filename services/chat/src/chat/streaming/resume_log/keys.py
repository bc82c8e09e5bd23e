"""What other processes need of a live stream, kept in Redis, and the names of its keys.

* ``chat:events:{stream}`` (a Redis stream) holds every event, so a client can resume and an
  observer can see what was said before it joined; it expires a while after the end.
* ``chat:observe:{session}`` (pub/sub) carries each event to observers on any replica.
* ``chat:live:{session}`` names the session's stream in progress.
* ``chat:active`` (sorted by last heartbeat) and ``chat:stream:{stream}`` list live streams
  across replicas; the hash names the replica producing the stream.
* ``chat:attached:{stream}`` is refreshed while some replica has the user connected.
* ``chat:replica:{replica}`` exists while that replica is alive (``recovery.heartbeat``): a
  stream whose replica is gone is not active, and ``recovery`` ends it.
* ``chat:recovery:{stream}`` is held by the replica ending a lost stream (``recovery``).
"""

ACTIVE_KEY = "chat:active"
STALE_AFTER_SECONDS = 30
# How long the right to end an answer is held (by its producer, or by a recovering replica).
CLAIM_SECONDS = 30


def events_key(streaming_session_id: str) -> str:
    return f"chat:events:{streaming_session_id}"


def observe_channel(session_id: str) -> str:
    return f"chat:observe:{session_id}"


def live_key(session_id: str) -> str:
    return f"chat:live:{session_id}"


def info_key(streaming_session_id: str) -> str:
    return f"chat:stream:{streaming_session_id}"


def attached_key(streaming_session_id: str) -> str:
    return f"chat:attached:{streaming_session_id}"


def replica_key(replica_id: str) -> str:
    return f"chat:replica:{replica_id}"


def claim_key(streaming_session_id: str) -> str:
    return f"chat:recovery:{streaming_session_id}"
