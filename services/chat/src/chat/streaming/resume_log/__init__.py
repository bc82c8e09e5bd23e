"""Where an answer is logged for resume: its events in a Redis stream, written in batches for
every live stream at once, read back by a client that resumes with ``Last-Event-ID`` and by
observers that join late."""
