"""Idempotency-Key: a repeated POST gets the original response instead of doing the work twice."""
