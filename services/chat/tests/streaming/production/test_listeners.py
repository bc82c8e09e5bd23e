"""A connection's hold on the answer it started: let go once, however often closed, whether
its events were read or not."""

from chat.fanout import FanOut
from chat.streaming.events import StreamEvent
from chat.streaming.production.listeners import Following


class CountingProducer:
    """The part of an answer producer a Following touches."""

    def __init__(self, streaming_session_id: str) -> None:
        self.request = type("Request", (), {"streaming_session_id": streaming_session_id})()
        self.detached = 0

    def detach(self) -> None:
        self.detached += 1


async def test_a_following_never_iterated_lets_go_of_its_answer_on_close():
    hub, producer = FanOut(), CountingProducer("r-1")
    following = Following(hub, producer, hub.subscribe("r-1"))

    await following.aclose()
    await following.aclose()

    assert producer.detached == 1
    assert hub.subscribers("r-1") == 0


async def test_a_following_read_to_the_end_lets_go_once_however_often_closed():
    hub, producer = FanOut(), CountingProducer("r-2")
    following = Following(hub, producer, hub.subscribe("r-2"))
    hub.publish("r-2", StreamEvent("r-2", 1, "chunk", {"content": "a"}))
    hub.publish("r-2", StreamEvent("r-2", 2, "complete", {}))

    seen = [event.seq async for event in following]
    await following.aclose()

    assert seen == [1, 2]
    assert producer.detached == 1
    assert hub.subscribers("r-2") == 0
