"""Names of the exchanges and queues the platform's bus is made of."""

DEFAULT_EXCHANGE = "platform.events"


def dead_letter_exchange(exchange: str) -> str:
    return f"{exchange}.dlx"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"
