"""Pytest fixtures for real infrastructure.

Each backing service comes from an environment URL (``TEST_POSTGRES_URL``, ``TEST_REDIS_URL``,
``TEST_RABBITMQ_URL``, ``TEST_MONGO_URL``); when one is unset and a Docker engine answers, a
throwaway container is started with testcontainers instead. Every test run (and every xdist
worker) gets its own PostgreSQL database, Redis database number, RabbitMQ exchange and MongoDB
database, so runs never see each other's data.
"""
