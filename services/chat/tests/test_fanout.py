"""Chat's in-process fan-out: each subscriber of a key gets what is published to it from then
on, in order; the last one to leave takes the key with it."""

from chat.fanout import FanOut


async def test_each_subscriber_of_a_key_gets_every_item_in_order_from_its_subscription():
    fanout: FanOut[int] = FanOut()
    early = fanout.subscribe("a")
    fanout.publish("a", 1)
    late, other = fanout.subscribe("a"), fanout.subscribe("b")
    fanout.publish("a", 2, 3)
    fanout.publish("nobody", 4)

    assert [early.get_nowait() for _ in range(early.qsize())] == [1, 2, 3]
    assert [late.get_nowait() for _ in range(late.qsize())] == [2, 3]
    assert other.empty()
    assert (fanout.subscribers("a"), fanout.subscribers("b"), fanout.subscribers("c")) == (2, 1, 0)


async def test_unsubscribing_tells_whether_it_was_the_keys_last_subscriber():
    fanout: FanOut[int] = FanOut()
    first, second = fanout.subscribe("a"), fanout.subscribe("a")

    assert fanout.unsubscribe("a", first) is False
    assert "a" in fanout
    assert fanout.unsubscribe("a", second) is True
    assert "a" not in fanout
    assert fanout.unsubscribe("a", second) is False  # the key has none left
    fanout.publish("a", 1)
    assert second.empty()
