"""Provisioning service: tenants, model groups, plans, team API keys, onboarding, audit."""
