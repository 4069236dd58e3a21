"""Per-job assets, by stage."""
