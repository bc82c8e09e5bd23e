"""Anthropic's Messages API (``POST /v1/messages``), whole or streamed as server-sent events."""
