"""Streaming benchmark: time to first token through chat against the model simulator's own,
the concurrent streams one chat process holds, and how late a supervisor sees each chunk.

    uv run python -m bench.streams [--only ttft,sustained,stack-cpu,observe,readers,capacity,
                                           workers,boto3]
                                   [--ttft-bursts 4,2] [--sustained 50,200] [--sustained-rounds 3]
                                   [--sustained-tokens 40] [--cpu-streams 300]
                                   [--observed 50] [--observe-tokens 100]
                                   [--levels 250,500,1000,2000] [--start-rate 100]
                                   [--hold-seconds 10] [--budget 80] [--min-level 25]
                                   [--worker-counts 1,2] [--worker-levels 250,500,750,1000]
                                   [--boto3-streams 100] [--streams-per-user 4] [--quiet-wait 20]

Needs the local stack (`make dev`): auth, accounting, chat and the model simulator on
127.0.0.1. It registers throwaway users (bench<run>u<n>) concurrently, gives each credits as
admin and spreads the streams over them, at most --streams-per-user each over the whole run
(chat allows REQUESTS_PER_MINUTE=30 writes and SESSION_CREATES_PER_MINUTE=8 new sessions per
user, and a stream here is two writes). Every stream has a new session of its own, so
every prompt is the same; sessions are left behind, every connection is closed at the end.
The model is chat's default (Bedrock ConverseStream through boto3, open to endusers).
Streams are read with httpx and httpx-sse, but for (c)'s: see (c'').

Figures, in one run (setup time is printed apart from what is measured), one module each:
  (a) ttft: time to first token at 50 and 200 concurrent streams (bursts of that many requests
      at once; chat's on a settled stack): through chat (POST .../stream, from sending the
      request to the first `chunk` event) and straight to the simulator (the same model and
      prompt on its OpenAI streaming route, to the first content delta; its Bedrock route too,
      for reference), p50 and p99. The difference of the percentiles is the platform's
      overhead (target p50 <= 5 ms, p99 <= 20 ms). The prompt asks for no first-token delay
      and an 8-token answer, all at once.
  (a') sustained: the same comparison with 50 and 200 streams open all along: each of that
      many workers runs --sustained-rounds streams back to back (--sustained-tokens-token
      answers at 20 tokens/s), their first ones spread over one answer's length; the first
      round is the ramp and is not counted. Bursts measure a crowd pressing send in the same
      millisecond, which on a small machine is mostly queueing for CPU; this is a platform
      serving that many answers at once.
  (d) stack_cpu: the CPU each process of the stack spends per 8-token answer (--cpu-streams
      answers, 10 at a time, /proc utime+stime from before to after, until chat and MongoDB
      are quiet).
  (c) observe: supervisor1 observes --observed sessions while their users stream at 20
      tokens/s: for each chunk, supervisor receive time - user receive time, matched by SSE id
      (target p99 <= 5 ms); users and supervisor are read with SseTap. Twice: observing on
      the chat process that serves the streams (its observers get chunks straight from the
      answer), then on a second chat replica, which gets them through Redis pub/sub (replica:
      one started on port 3012 with the local stack's settings and stopped after; set
      CHAT_B_URL to use a running one). Run before (b), which leaves the stack busy a while.
  (c'') reader_comparison: (c) on the serving replica read with SseTap, then with httpx-sse:
      the lag p99 of each and this process's CPU per chunk read, and whether the rule keeps
      SseTap (httpx-sse missing the 5 ms target by more than 1.5x where SseTap meets it).
  (b) capacity: levels of concurrent streams at 20 tokens/s each: a level's streams start at
      --start-rate a second and each lasts until all have run together for --hold-seconds.
      A level is held when every stream completes with all its tokens, at least 95% of them
      were streaming at once and at most 1% delivered under 90% of 20 tokens/s. Stops at the
      first level not held (when none has held yet, halves it down to --min-level) or when
      --budget seconds are spent; reports the highest level held (target >= 2,000) and the
      chat process's RSS (/proc/<pid>/status VmRSS, pid from .local/run/chat.pid) before and
      at the peak, per stream.
  (b1, b2) workers: (b)'s ramp (--worker-levels, --budget each) on a copy of the stack's chat
      with WORKERS=1, then 2 (--worker-counts), one at a time on port 3020+n as chat-w<n>,
      its own metrics directory (.local/metrics/chat-w<n>, removed after): the highest level
      each holds (target: one worker, one core, >= 500; 2 workers >= 1.7x one), why the next
      did not hold, the copy's cores over the level held and its memory per stream, RSS and
      CPU of its supervisor and workers together.
  (b') boto3_cost: boto3's own CPU per streamed event, --boto3-streams calls at once from
      threads in this process and nothing else: chat must spend at least that per token,
      which bounds (b).
Every section prints the CPU the stack's processes and this one used, in cores (1.00 = one
core busy the whole time), and says so when the bench client saturated a core; what the chat
process logged meanwhile (warnings, errors: .local/logs/chat.log); and how many usage records
the chat's outbox relay has still to publish (MongoDB), since that work competes with streams.
"""
