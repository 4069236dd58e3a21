"""The `embeddings` asset on the OpenAI provider (selected by OPENAI_API_KEY), against the local
server that checks each request: usage recorded per partition, zero provider calls when an
unchanged partition is materialized again, a wrong key failing the step at once."""

import pytest
from dagster import materialize

from wessley_dagster.assets.bundle import bundle
from wessley_dagster.assets.chunks import chunks
from wessley_dagster.assets.embeddings import embeddings
from wessley_dagster.assets.extraction import components, netlist, text_spans
from wessley_dagster_tests.conftest import SYNTHETIC, add_partitions, resources_for, stage_bundle, unique, uploads_dir
from wessley_dagster_tests.fake_openai import KEY, FakeOpenAI

ASSETS = [bundle, text_spans, components, netlist, chunks, embeddings]


@pytest.fixture
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()
    assert server.violations == []


def openai_env(env, fake, monkeypatch, key=KEY):
    monkeypatch.setenv("OPENAI_API_KEY", key)  # handed to Dagster as an EnvVar, never as a value
    settings = {k: v for k, v in env.items() if k != "WESSLEY_EMBEDDINGS"}
    return {**settings, "OPENAI_API_KEY": key, "OPENAI_BASE_URL": fake.base_url, "WESSLEY_EMBEDDING_DIM": "64"}


def test_usage_per_partition_and_no_calls_for_an_unchanged_partition(env, instance, fake, monkeypatch):
    settings = openai_env(env, fake, monkeypatch)
    resources = resources_for(settings)
    assert resources["embeddings_model"].provider == "openai"
    key = stage_bundle(SYNTHETIC, uploads_dir(settings), unique("proj"), "roadster")
    add_partitions(instance, key)

    first = materialize(ASSETS, partition_key=key, resources=resources, instance=instance)
    meta = first.asset_materializations_for_node("embeddings")[0].metadata
    assert meta["model"].value == "openai:text-embedding-3-small" and meta["dimension"].value == 64
    assert meta["provider_requests"].value == len(fake.requests) == 1
    assert meta["provider_prompt_tokens"].value == fake.requests[0].tokens > 0
    assert meta["embedded"].value == len(fake.requests[0].inputs)

    again = materialize(ASSETS, partition_key=key, resources=resources, instance=instance)
    meta = again.asset_materializations_for_node("embeddings")[0].metadata
    assert len(fake.requests) == 1 and meta["embedded"].value == 0  # every vector came from the cache
    assert "provider_requests" not in meta or meta["provider_requests"].value == 0


def test_a_wrong_key_fails_the_step_without_retries(env, instance, fake, monkeypatch):
    settings = openai_env(env, fake, monkeypatch, key="sk-not-the-key")
    key = stage_bundle(SYNTHETIC, uploads_dir(settings), unique("proj"), "roadster")
    add_partitions(instance, key)
    result = materialize(
        ASSETS, partition_key=key, resources=resources_for(settings), instance=instance, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "embeddings.embed_batch[batch_0]"
    message = failure.event_specific_data.error.message
    assert "HTTP 401" in message and "sk-not" not in message
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
