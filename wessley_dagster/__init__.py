"""wessley-dagster: vehicle-schematic analysis persisted and indexed as a Dagster project.

The code location is `wessley_dagster.definitions`."""
