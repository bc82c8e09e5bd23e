"""event_bus"""
