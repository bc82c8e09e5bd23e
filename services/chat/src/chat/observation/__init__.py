"""Where answers are fanned out to observers: supervisors watching a session live, fed by this
replica's producers directly and by every replica's through Redis pub/sub."""
