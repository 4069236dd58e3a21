"""The executor is chosen from the environment in one place: in process by default, Celery on
request with its broker named, anything else refused with what was expected. Whichever runs the
steps, its process collects its oldest garbage less often."""

import json
import subprocess
import sys

import pytest

from wessley_dagster.execution import COLLECTOR_THRESHOLDS, EMBEDDED_QUEUE, build_executor, embedded_vectors_tags
from wessley_dagster.settings import Settings


def test_the_executor_follows_the_environment(monkeypatch):
    assert build_executor(Settings.from_env({})).name == "in_process"
    celery = build_executor(
        Settings.from_env({"WESSLEY_EXECUTOR": "celery", "CELERY_BROKER_URL": "redis://:old@host:6379/0"})
    )
    assert celery.name == "celery"
    # The config names the variable, which is read when a run starts: never the URL (and its password).
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://:now@host:6379/0")
    resolved = celery.config_schema.resolve_config({}).value["config"]
    assert (resolved["broker"], resolved["backend"]) == ("redis://:now@host:6379/0",) * 2


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WESSLEY_EXECUTOR": "multiprocess"}, "WESSLEY_EXECUTOR: Input should be 'in_process' or 'celery'"),
        ({"WESSLEY_EXECUTOR": "celery"}, "WESSLEY_EXECUTOR=celery needs CELERY_BROKER_URL"),
    ],
)
def test_an_executor_it_cannot_build_is_a_clear_error(env, message):
    with pytest.raises(ValueError, match=message):
        build_executor(Settings.from_env(env))


def test_only_the_embedded_vector_store_ties_steps_to_one_queue():
    assert embedded_vectors_tags(Settings.from_env({})) == {"dagster-celery/queue": EMBEDDED_QUEUE}
    assert embedded_vectors_tags(Settings.from_env({"QDRANT_URL": "https://qdrant.example:6333"})) == {}


def test_a_process_that_loads_the_definitions_collects_its_oldest_garbage_less_often():
    """In a fresh interpreter: the one running this suite may have loaded them already."""
    probe = (
        "import gc, json; before = gc.get_threshold(); import wessley_dagster.definitions; "
        "print(json.dumps([before, gc.get_threshold()]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    before, after = json.loads(out.splitlines()[-1])
    assert before != list(COLLECTOR_THRESHOLDS)
    assert after == list(COLLECTOR_THRESHOLDS)
