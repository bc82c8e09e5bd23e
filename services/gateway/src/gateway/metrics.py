"""The gateway's own Prometheus metrics (request metrics come from the service kit)."""

from prometheus_client import Counter, Histogram

UPSTREAM_REQUESTS = Counter(
    "gateway_upstream_requests_total",
    "Requests forwarded to each upstream, by the status it answered "
    "(or `unavailable` / `timeout` when it gave no answer).",
    ["upstream", "status"],
)
UPSTREAM_SECONDS = Histogram(
    "gateway_upstream_seconds",
    "From forwarding a request to receiving the upstream's response headers.",
    ["upstream"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
API_KEY_EXCHANGES = Counter(
    "gateway_api_key_exchanges_total",
    "API keys presented, by outcome: cached, exchanged, rejected, refused_cached (refused "
    "again without asking auth), throttled (too many failures from the address), unavailable.",
    ["outcome"],
)
RATE_LIMITED = Counter(
    "gateway_rate_limited_total",
    "Requests refused with 429, by limit: edge (per caller) or api_key_failures (per address).",
    ["limit"],
)
