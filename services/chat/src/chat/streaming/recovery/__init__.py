"""Answers whose replica died, ended by another replica from what the resume log kept; each
replica's heartbeat in Redis is how the others tell that it died."""

from chat.streaming.recovery.lost_answers import Recovery

__all__ = ["Recovery"]
