"""Accounting service."""
