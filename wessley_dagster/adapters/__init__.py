"""Adapters from real formats into bundles (pure Python, no Dagster)."""
