"""Names of the exchanges and queues the platform's bus is made of, and the queues' type."""

from typing import Literal

DEFAULT_EXCHANGE = "platform.events"

# A consumer's durable queues (its queue and its dead letters): RabbitMQ's classic queues, or
# quorum queues, replicated over the cluster's nodes (Raft), for a production cluster. A queue
# keeps the type it was created with: RabbitMQ refuses to declare it again as the other one
# (PRECONDITION_FAILED), so switching an existing deployment means draining and deleting its
# queues first.
QueueType = Literal["classic", "quorum"]


def dead_letter_exchange(exchange: str) -> str:
    return f"{exchange}.dlx"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def queue_type_arguments(queue_type: QueueType) -> dict[str, str]:
    """The declare arguments for ``queue_type``: classic queues are declared as before, with
    no ``x-queue-type``, so that queues created before the setting existed still match."""
    return {"x-queue-type": "quorum"} if queue_type == "quorum" else {}
