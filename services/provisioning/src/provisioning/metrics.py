"""Provisioning's own Prometheus metrics (request metrics come from the service kit)."""

from prometheus_client import Counter, Gauge

AUDIT_ENTRIES = Counter(
    "provisioning_audit_entries_total", "Administrative actions recorded, by action.", ["action"]
)
PLAN_GRANTS = Counter(
    "provisioning_plan_grants_total",
    "Plan grants delivered to accounting, by outcome (granted, duplicate, failed).",
    ["outcome"],
)
PENDING_GRANTS = Gauge(
    "provisioning_pending_grants", "Plan grants written but not yet accepted by accounting."
)
EVENTS_PROCESSED = Counter(
    "provisioning_events_processed_total",
    "Bus events handled, by type and outcome (applied, duplicate, failed).",
    ["type", "outcome"],
)
