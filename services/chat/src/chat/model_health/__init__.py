"""Whether each model of the catalog answers: a periodic probe per provider and model.

Every ``MODEL_PROBE_INTERVAL_SECONDS`` one replica (whichever claims the probe in Redis first)
reads each provider's model list and makes a one-token call to every model, each with a
``MODEL_PROBE_TIMEOUT_SECONDS`` timeout, and writes the result to Redis; every replica reads it
back each second, so all of them agree, and a request never waits on Redis or a provider to
learn a model's status. ``status.py`` says what makes a model available, degraded or
unavailable; an unavailable model is refused with 503 ``model_unavailable`` before anything
is reserved. ``POST /api/models/sync`` probes at once.
"""
