"""One module per route group."""
