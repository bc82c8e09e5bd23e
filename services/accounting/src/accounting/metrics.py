"""Accounting's own Prometheus metrics (request metrics come from the service kit)."""

from prometheus_client import Counter, Gauge, Histogram

CREDITS_ALLOCATED = Counter("accounting_credits_allocated_total", "Credits allocated by admins.")
CREDITS_CHARGED = Counter("accounting_credits_charged_total", "Credits charged for usage.")
CREDITS_REFUNDED = Counter(
    "accounting_credits_refunded_total", "Held credits given back when a reservation settled."
)
CREDITS_EXPIRED = Counter(
    "accounting_credits_expired_total", "Credits that expired (allocations and unsettled holds)."
)
OPEN_HOLDS = Gauge("accounting_open_holds", "Reservations currently holding credits.")
HELD_CREDITS = Gauge("accounting_held_credits", "Credits currently held by reservations.")
RESERVATION_SECONDS = Histogram(
    "accounting_reservation_seconds",
    "Time to decide a reservation, by outcome (reserved, insufficient, key_budget).",
    ["outcome"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
EVENTS_PROCESSED = Counter(
    "accounting_events_processed_total",
    "Bus events handled, by type and outcome (applied, duplicate, already_settled, failed).",
    ["type", "outcome"],
)
CONSUMER_LAG = Histogram(
    "accounting_consumer_lag_seconds",
    "Time from an event's occurredAt to its processing, by type.",
    ["type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
