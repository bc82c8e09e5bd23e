"""What the simulator reads from a Converse request, and the conversation rules Bedrock enforces."""

from collections.abc import Iterator
from itertools import pairwise

from model_simulator.bedrock.errors import validation_exception
from model_simulator.bedrock.schemas import ContentBlock, ConverseRequest, Message


def check_conversation(messages: list[Message]) -> None:
    """Refuse what real Bedrock refuses, so a client's bug shows here and not in production."""
    if messages[0].role != "user":
        raise validation_exception(
            "A conversation must start with a user message. "
            "Try again with a conversation that starts with a user message."
        )
    for previous, message in pairwise(messages):
        if previous.role == message.role:
            raise validation_exception(
                "A conversation must alternate between user and assistant roles. Make sure the "
                "conversation alternates between user and assistant roles and try again."
            )
    for index, message in enumerate(messages):
        if not message.content:
            raise validation_exception(
                f"The content field in the Message object at messages.{index} is empty. "
                "Add a ContentBlock object to the content field and try again."
            )
        for block_index, block in enumerate(message.content):
            if block.text is not None and not block.text.strip():
                raise validation_exception(
                    f"The text field in the ContentBlock object at "
                    f"messages.{index}.content.{block_index} is blank. "
                    "Add text to the text field, and try again."
                )


def last_user_text(messages: list[Message]) -> str:
    user_messages = [message for message in messages if message.role == "user"]
    return _text_of(user_messages[-1].content) if user_messages else ""


def all_texts(request: ConverseRequest) -> Iterator[str]:
    for block in request.system:
        if block.text:
            yield block.text
    for message in request.messages:
        yield _text_of(message.content)


def _text_of(blocks: list[ContentBlock]) -> str:
    return "\n".join(block.text for block in blocks if block.text is not None)
