"""The caller's plan, as provisioning keeps it: its ``requestsPerMinute`` replaces chat's
per-user ``REQUESTS_PER_MINUTE`` and its model groups' models narrow what the user may list
and use.

Chat asks provisioning (``GET /internal/users/{userId}/plan``, scope ``plans:read``) and keeps
each answer in memory for ``PLAN_CACHE_SECONDS``: a plan change (a new version in force, a
user moved to another plan) applies within that long. While provisioning cannot be reached,
the last answer known is used for up to ``PLAN_STALE_SECONDS``; a user whose plan this replica
does not know is refused where the plan decides (listing or choosing a model: 503
``provisioning_unavailable``), and counted at the chat-wide limit. A team key's token is not
narrowed by a plan: it acts as the team, whose model groups its ``models`` claim carries.
"""
