import aio_pika
import orjson

from ..conftest import allocate, eventually, funded_user, on_behalf, token

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


async def test_credits_low_is_announced_once_per_crossing(
    client, auth, rabbitmq_url, bus_namespace
):
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            bus_namespace.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(bus_namespace.queue_name("low-probe"))
        await queue.bind(exchange, "credits.low")
        user = await funded_user(client, auth, 12)  # threshold is 10

        async def spend(credits):
            response = await client.post(
                "/api/usage/record",
                json={"service": "test", "operation": "spend", "credits": credits},
                headers=on_behalf(user),
            )
            assert response.status_code == 201

        async def announcements():
            found = []
            while (message := await queue.get(fail=False)) is not None:
                await message.ack()
                event = orjson.loads(message.body)
                if event["userId"] == user["id"]:
                    found.append(event)
            return found

        await spend(1)  # 11 left: above the threshold
        await spend(2)  # 9 left: crosses it
        await spend(1)  # 8 left: already announced
        first = await eventually(announcements)
        await allocate(client, await token(auth, "admin"), user["username"], 10)  # re-arms
        await spend(10)  # 8 left again: a new crossing
        second = await eventually(announcements)
    assert [e["availableCredits"] for e in first] == [9]
    assert [e["availableCredits"] for e in second] == [8]
    assert first[0]["type"] == "credits.low"
