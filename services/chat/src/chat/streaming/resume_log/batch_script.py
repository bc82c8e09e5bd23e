"""One batch of stream writes as a single Redis script call.

A pipeline of an XADD and a PUBLISH per chunk cost this process a reply to parse per
command; the script does the same commands inside Redis and answers once. Per stream, in
order: the start (live key, info hash, active set) or a heartbeat, each event's XADD (id
``0-{seq}``), one PUBLISH of the events as a JSON array, then the expiries (and on the
answer's end, the live listing removed: the session's live key only while it still names this
stream). A refused command is counted, not fatal to the other streams of the batch.

The answer is ``{refused, lost...}``: ``lost`` are the positions (from 1) of the streams whose
keys Redis no longer has although they started (a heartbeat without the info hash, events
after the first without the log: Redis restarted or was flushed), for the batcher to rewrite
them whole. A rewrite deletes the log first and publishes only what follows ``publish_after``.
"""

from dataclasses import dataclass

from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.keys import (
    ACTIVE_KEY,
    events_key,
    info_key,
    live_key,
    observe_channel,
)

# KEYS: per stream its events, live and info keys, then the active set.
# ARGV: lifetime, window, now; per stream: channel, stream id, heartbeat ("1" or ""),
# rewrite ("1" or ""), info field count, the fields and values, event count, first ("1": the
# event of seq 1 is in), last ("1": the answer's end is in), each event's seq and record, the
# publish ("": none).
SCRIPT = """
local lifetime, window, now = ARGV[1], ARGV[2], ARGV[3]
local active = KEYS[#KEYS]
local refused = 0
local lost = {}
local function call(...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err then refused = refused + 1 end
end
local a = 4
for k = 1, #KEYS - 1, 3 do
  local events, live, info = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local channel, stream, beat, rewrite = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local fields = tonumber(ARGV[a + 4])
  a = a + 5
  local gone = false
  if rewrite == '1' then
    call('DEL', events)
  elseif fields == 0 and beat == '1' then
    gone = redis.call('EXISTS', info) == 0
  end
  if fields > 0 then
    call('SET', live, stream, 'EX', lifetime)
    call('HSET', info, unpack(ARGV, a, a + 2 * fields - 1))
    call('EXPIRE', info, lifetime)
    a = a + 2 * fields
  end
  if fields > 0 or beat == '1' then call('ZADD', active, now, stream) end
  local count, first, last = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2]
  a = a + 3
  if count > 0 then
    if rewrite ~= '1' and first ~= '1' and not gone then
      gone = redis.call('EXISTS', events) == 0
    end
    for i = 1, count do
      call('XADD', events, '0-' .. ARGV[a], 'e', ARGV[a + 1])
      a = a + 2
    end
    if ARGV[a] ~= '' then call('PUBLISH', channel, ARGV[a]) end
    a = a + 1
    if first == '1' then call('EXPIRE', events, lifetime) end
    if last == '1' then
      call('EXPIRE', events, window)
      -- A later answer of the session may have taken the live key (an ended lost answer).
      if redis.pcall('GET', live) == stream then call('DEL', live) end
      call('DEL', info)
      call('ZREM', active, stream)
    end
  end
  if gone then lost[#lost + 1] = (k + 2) / 3 end
end
return {refused, unpack(lost)}
"""


@dataclass
class StreamWrite:
    streaming_session_id: str
    session_id: str
    info: dict[str, str] | None
    heartbeat: bool
    events: list[StreamEvent]
    rewrite: bool = False  # the log is deleted and written again from these events
    publish_after: int = 0  # events up to this seq go to the log only


def script_call(
    writes: list[StreamWrite], *, lifetime: int, window: int, now: float
) -> tuple[list[str], list[str | int | float]]:
    """The script's KEYS and ARGV for these writes."""
    keys: list[str] = []
    args: list[str | int | float] = [lifetime, window, now]
    for write in writes:
        keys += [
            events_key(write.streaming_session_id),
            live_key(write.session_id),
            info_key(write.streaming_session_id),
        ]
        info = write.info or {}
        args += [
            observe_channel(write.session_id),
            write.streaming_session_id,
            "1" if write.heartbeat else "",
            "1" if write.rewrite else "",
            len(info),
        ]
        for field, value in info.items():
            args += [field, value]
        events = write.events
        args += [
            len(events),
            "1" if events and events[0].seq == 1 else "",
            "1" if events and events[-1].is_terminal else "",
        ]
        if events:
            records = [event.to_json() for event in events]
            for event, record in zip(events, records, strict=True):
                args += [event.seq, record]
            published = [
                record
                for event, record in zip(events, records, strict=True)
                if event.seq > write.publish_after
            ]
            args.append(f"[{','.join(published)}]" if published else "")
    keys.append(ACTIVE_KEY)
    return keys, args
