"""One dynamic partition per ingestion job, keyed `<project_id>__<job_id>` (project ids may not
contain `__`, so the key splits unambiguously; see domain.bundle.split_partition_key)."""

from dagster import DynamicPartitionsDefinition

ingestion_partitions = DynamicPartitionsDefinition(name="ingestion_jobs")
