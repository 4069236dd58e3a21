"""Backends behind plain Python interfaces (no Dagster): the resources wrap these."""
