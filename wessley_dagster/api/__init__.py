"""The read API: job status and live progress, bundle uploads, search, similarity and graph
queries over HTTP, on the same resources the Dagster code location uses (`app.py` assembles it,
`auth.py` decides who reaches what, `routes/` holds one module per route group)."""
