"""``bus-dlq``: list or replay a dead-letter queue.

    bus-dlq list accounting.usage-recorded            # or the DLQ's own name, ...recorded.dlq
    bus-dlq replay accounting.usage-recorded --limit 10

The broker is ``--url`` or else ``RABBITMQ_URL``. Each line gives a dead letter's event id,
type, when it failed, how many times its handler ran and why it failed.
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from event_bus.connection import redact
from event_bus.dead_letters import DeadLetter
from event_bus.dlq import dlq_name, list_dead_letters, replay_dead_letters

_COLUMNS = ("EVENT ID", "TYPE", "FAILED AT", "ATTEMPTS", "REASON")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = args.url or os.environ.get("RABBITMQ_URL")
    if not url:
        print("bus-dlq: no broker: pass --url or set RABBITMQ_URL", file=sys.stderr)
        return 2
    try:
        if args.command == "list":
            letters = asyncio.run(list_dead_letters(url, args.queue, limit=args.limit))
            summary = f"{len(letters)} dead letter(s) in {dlq_name(args.queue)}"
        else:
            letters = asyncio.run(replay_dead_letters(url, args.queue, limit=args.limit))
            summary = f"replayed {len(letters)} dead letter(s) from {dlq_name(args.queue)}"
    except Exception as exc:
        print(
            f"bus-dlq: {args.command} {args.queue} on {redact(url)} failed: {exc}", file=sys.stderr
        )
        return 1
    if letters:
        print(format_table(letters))
    print(summary)
    return 0


def format_table(letters: Sequence[DeadLetter]) -> str:
    rows = [_COLUMNS] + [
        (
            letter.event_id,
            letter.type,
            letter.failed_at,
            "-" if letter.attempts is None else str(letter.attempts),
            letter.reason if letter.error_type == "-" else f"{letter.error_type}: {letter.reason}",
        )
        for letter in letters
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("queue", help="the consumer's queue (or its DLQ, <queue>.dlq)")
    common.add_argument("--url", help="AMQP URL of the broker (default: $RABBITMQ_URL)")
    common.add_argument("--limit", type=_positive, help="at most this many dead letters")
    parser = argparse.ArgumentParser(prog="bus-dlq", description="List or replay a DLQ.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", parents=[common], help="show the dead letters, leaving them")
    commands.add_parser(
        "replay", parents=[common], help="put the dead letters back on their original queue"
    )
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
