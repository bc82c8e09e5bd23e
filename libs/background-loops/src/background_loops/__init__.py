"""One way to run a service's background work and stop it.

``BackgroundLoop`` runs a step every ``interval`` seconds, or sooner when woken, in a task of
its own; a step that raises is reported (``Failure``) and retried after the interval or a
``Backoff``; ``stop()`` cancels the step in progress or lets it finish. The workers own one
each (event_bus's relays, chat's usage relay among them; the hold sweeper; the plan grant
worker; the revocation feed's forgetting; chat's observer hub, resume-log batcher, replica
heartbeat and lost-answer recovery) and keep their own ``start``/``stop``/``wake``.
"""

from background_loops.backoff import Backoff
from background_loops.loop import BackgroundLoop, Failure

__all__ = ["BackgroundLoop", "Backoff", "Failure"]
