"""The soak's command line."""

import argparse

from bench.harness import run

from . import __doc__ as DOC
from .loop import Soak
from .stack import Stack


async def soak(args: argparse.Namespace) -> int:
    stack = Stack(args.via)
    try:
        problem = await stack.check()
        if problem:
            print(f"soak: skipped, {problem}")
            return 1
        await Soak(stack, args).go()
        return 0
    finally:
        await stack.aclose()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=(DOC or "").splitlines()[0]
    )
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--per-minute", type=int, default=20, help="streams a minute per user")
    parser.add_argument("--tokens", type=int, default=40, help="answer length, tokens")
    parser.add_argument("--pace", type=float, default=20, help="tokens per second")
    parser.add_argument("--streams-per-session", type=int, default=10)
    parser.add_argument("--via", choices=["gateway", "chat"], default="gateway")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(soak(parse()))
