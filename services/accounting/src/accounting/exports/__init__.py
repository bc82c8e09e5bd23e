"""Usage export: ``GET /api/usage/export``, usage records added up by day, model, user, team
and key over a range, streamed as CSV or a JSON array from a server-side cursor."""
