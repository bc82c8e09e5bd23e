"""Gateway: the single public entry of the platform (port 8080).

Routes requests by path prefix to the services (CONTRACT.md "Gateway routes"), streaming
bodies both ways so Server-Sent Events pass through unbuffered; gives every response an
``X-Request-ID`` and passes it upstream; answers CORS; applies an edge rate limit in Redis;
trades team API keys (``Bearer sk-...``) for short-lived JWTs with the auth service.

Configuration (environment variables; defaults and validation in ``gateway.config``):

- ``AUTH_URL``, ``ACCOUNTING_URL``, ``CHAT_URL``, ``PROVISIONING_URL``: the upstreams
  (127.0.0.1:3000, 3001, 3002, 3004).
- ``ROUTES``: JSON ``{"/prefix": "upstream"}``, default the contract's table. Only upstreams
  some route leads to are used and checked for readiness.
- ``OPTIONAL_UPSTREAMS`` (``provisioning``; comma-separated or JSON): upstreams whose absence
  does not make ``/api/health/ready`` fail. Their routes answer ``502 upstream_unavailable``
  meanwhile. Empty it once every upstream is deployed.
- ``REDIS_URL``: the edge rate limit's counters. Redis down: requests pass, with a warning.
- ``EDGE_REQUESTS_PER_MINUTE`` (600): per verified caller (``user:<sub>``, or ``key:<keyId>``
  for a token exchanged from an API key, whose own ``requestsPerMinute`` claim applies when it
  is lower), else per client address; 0 turns the limit off. Tokens are verified offline with
  the auth service's JWKS (``JWT_ISSUER``, ``JWT_AUDIENCE``) only to choose the bucket: an
  invalid one is forwarded all the same, and the service answers 401.
- ``TRUSTED_PROXIES`` (comma-separated addresses or CIDRs; none by default): the proxies whose
  ``X-Forwarded-For`` is believed (the client is its right-most address that is not one of
  them) and whose ``X-Forwarded-Proto``/``-Host``/``X-Real-IP`` are passed on. From anyone else
  those are dropped and the client is the connection's peer. Services receive that one address
  as ``X-Forwarded-For``; a client's ``X-On-Behalf-Of`` and ``X-Internal-Token`` never reach
  them.
- ``MAX_BODY_BYTES`` (1 MiB): a larger ``Content-Length`` is 413 before anything is read; a
  chunked body growing past it is cut off (the upstream request aborted) with 413. A request
  with both ``Transfer-Encoding`` and ``Content-Length`` is 400.
- ``CORS_ORIGINS`` (comma-separated or JSON): unset, none in production and a few localhost
  origins otherwise; empty, none.
- ``KEY_CACHE_SECONDS`` (30): longest an exchanged JWT is reused for its API key (never
  within 5 s of its expiry). ``API_KEY_EXCHANGE_PATH``: the exchange route on ``AUTH_URL``
  (see ``gateway.api_keys.exchange``). ``KEY_REFUSAL_CACHE_SECONDS`` (30): a refused key is
  refused again without asking auth. ``API_KEY_FAILURES_PER_MINUTE`` (20): failed key attempts
  per client address; past it 429 without asking auth.
- ``UPSTREAM_CONNECT_TIMEOUT_SECONDS`` (3), ``UPSTREAM_READ_TIMEOUT_SECONDS`` (120: for the
  response headers or the next piece of a body), ``UPSTREAM_WRITE_TIMEOUT_SECONDS``,
  ``UPSTREAM_POOL_TIMEOUT_SECONDS``, ``UPSTREAM_MAX_CONNECTIONS`` (1000 per upstream; every
  open SSE stream holds one), ``READINESS_TIMEOUT_SECONDS`` (2, per upstream, all at once).

``gateway-service`` runs uvicorn trusting no proxy headers itself (``FORWARDED_ALLOW_IPS`` is
ignored): set ``TRUSTED_PROXIES`` to the load balancer's address when one sits in front.
"""
