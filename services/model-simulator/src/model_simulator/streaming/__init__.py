"""Sending a simulated answer: paced, cancelled when the client leaves, or cut on purpose."""

from model_simulator.streaming.interruptible_response import (
    DropConnection,
    Head,
    InterruptibleResponse,
)

__all__ = ["DropConnection", "Head", "InterruptibleResponse"]
