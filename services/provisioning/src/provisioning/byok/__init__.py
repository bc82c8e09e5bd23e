"""Bring your own key: provider credentials users (and teams) store, encrypted at rest, that
chat calls the provider with instead of the platform's own."""
