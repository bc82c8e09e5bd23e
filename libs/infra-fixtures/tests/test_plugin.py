import aio_pika
import asyncpg
import pymongo
import redis

from infra_fixtures.isolation import RUN_ID, worker_index
from infra_fixtures.plugin import BusNamespace, PostgresDatabases, run_async


def test_created_databases_are_empty_and_named_for_the_run(
    postgres_databases, postgres_url, postgres_server_url
):
    fresh_url = postgres_databases.create("fresh")

    async def probe():
        conn = await asyncpg.connect(fresh_url)
        try:
            name = await conn.fetchval("SELECT current_database()")
            tables = await conn.fetchval(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            )
            return name, tables
        finally:
            await conn.close()

    name, tables = run_async(probe)
    assert RUN_ID in name
    assert tables == 0
    assert len({fresh_url, postgres_url, postgres_server_url}) == 3


def test_created_databases_are_dropped(postgres_server_url):
    databases = PostgresDatabases(postgres_server_url)
    url = databases.create("dropme")
    name = url.rsplit("/", 1)[1]

    async def exists():
        conn = await asyncpg.connect(postgres_server_url)
        try:
            return await conn.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name)
        finally:
            await conn.close()

    assert run_async(exists) == 1
    databases.drop_all()
    assert run_async(exists) == 0


def test_redis_url_uses_a_worker_database_not_zero(redis_url):
    assert redis_url.endswith(f"/{1 + worker_index()}")
    client = redis.Redis.from_url(redis_url)
    client.set("probe", "1")
    assert client.get("probe") == b"1"
    client.close()


def test_bus_namespace_deletes_what_it_declared(rabbitmq_url):
    namespace = BusNamespace(url=rabbitmq_url, exchange=f"platform.events.test.probe.{RUN_ID}")
    queue = namespace.queue_name("probe")

    async def declare():
        connection = await aio_pika.connect(rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            await channel.declare_exchange(namespace.exchange, aio_pika.ExchangeType.TOPIC)
            await channel.declare_queue(queue)

    async def queue_exists():
        connection = await aio_pika.connect(rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            try:
                await channel.declare_queue(queue, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return False
            return True

    run_async(declare)
    assert run_async(queue_exists)
    namespace.cleanup()
    assert not run_async(queue_exists)


def test_mongo_database_is_reachable_and_named_for_the_run(mongo_url, mongo_database_name):
    assert RUN_ID in mongo_database_name
    client = pymongo.MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        db = client[mongo_database_name]
        db.probe.insert_one({"n": 1})
        assert db.probe.count_documents({}) == 1
    finally:
        client.close()
