"""The simulator's own Prometheus metrics, next to service_kit's per-route ones."""

from prometheus_client import Counter, Gauge

RESPONSES_IN_FLIGHT = Gauge(
    "model_simulator_responses_in_flight",
    "Simulated model calls still being answered (streaming, pacing or stalled).",
)
TOKENS_GENERATED = Counter(
    "model_simulator_tokens_generated_total",
    "Output tokens sent to clients.",
)
