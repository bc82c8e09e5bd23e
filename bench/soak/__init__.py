"""Soak: users streaming for minutes against the running stack; errors and time to first token
minute by minute, each service's memory from start to end, and whether billing came out exact.

    uv run python -m bench.soak [--users 10] [--minutes 5] [--per-minute 20] [--tokens 40]
                                [--pace 20] [--streams-per-session 10] [--via gateway|chat]

Needs the local stack (`make dev`). It registers --users throwaway users (soak<run>u<n>), each
funded by the plan's grant, and has each stream answers back to back for --minutes (fractions
allowed): a --tokens-token answer at --pace tokens/s, at most --per-minute streams a minute
(chat allows each user 30 writes a minute, a new session every --streams-per-session streams
included), the users' first streams spread over one stream's interval. Every request goes
through the gateway (--via chat: straight to chat's port; the gateway's edge limit, 600 a
minute per user, is far above this); setting up users and checking balances go straight to
auth and accounting.

Per minute (by when a stream started): streams, errors (any stream that did not end with
`complete`: a refused request, an `error` event, a broken connection) and p50/p99 time to
first token (from sending the request to the first `chunk`). Then, with the issue's targets:

* errors: 0;
* billing exact: once no credits are held, every user's balance dropped by exactly what
  accounting's calculator (POST /api/credits/calculate) prices their answers at, from the
  tokens each `complete` event named (an answer that did not complete: the tokens chat stored
  with it), and their usage stats show the same credits;
* ledger-check clean, and no new message in accounting.usage-recorded.dlq;
* RSS flat: each process of .local/run/*.pid (VmRSS with its children, from /proc) at the
  start, after the first minute and at the end; flat when the end is within 10% (or 16 MiB)
  of the first minute's figure (of the start's, for runs under two minutes).
"""
