"""Ledger benchmark: reservation+finalize pairs per second, on one hot account and spread out.

    uv run python -m bench.ledger [--seconds 5] [--clients 64] [--pool-size 64]
                                  [--postgres postgresql://postgres@127.0.0.1:5432]
                                  [--synchronous-commit off] [--waits] [--no-batching]

Creates a throwaway database (bench_ledger_<random>) on the server, applies the accounting
migrations and drops it at the end, also on error or Ctrl-C. Every client is an asyncio task
sharing one asyncpg pool and, as the service does, runs the ledger's own functions
(accounting.ledger.repository.reserve, then settle) through the service's AccountBatcher,
which runs concurrent operations on one account in one transaction; --no-batching gives
each operation its own transaction instead.

Figures, in one run:
  - a bare single-row UPDATE loop on one row (the ceiling for anything serialized on one row);
  - reserve+settle pairs/s on one hot account (target: >= 0.5 x the bare UPDATE rate) and
    spread over 1,000 accounts, with p50/p99 latency of reserve and settle on the hot account;
  - an overdraft test: 200 concurrent reservations against a balance that covers 50, then
    overdrafts and ledger invariants counted from the data.
--synchronous-commit sets that parameter for the benchmark's own sessions only (never
server-wide), to see how much of the time is the commit's WAL flush; --waits samples
pg_stat_activity during each scenario and prints where the backends were waiting.
"""
