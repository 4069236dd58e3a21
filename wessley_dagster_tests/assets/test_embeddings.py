"""The embeddings artifact's stored form: float32 bytes as base64 in the JSON, read back exactly,
and the forms written by earlier versions still read."""

import base64
import json

import numpy as np

from wessley_dagster.assets.embeddings import Embeddings

VECTORS = np.random.default_rng(7).standard_normal((5, 8)).astype(np.float32)
CHUNK_IDS = [f"c{i}" for i in range(5)]


def artifact(vectors: object) -> Embeddings:
    return Embeddings(model="m", dimension=8, chunk_ids=CHUNK_IDS, vectors=vectors)


def test_vectors_round_trip_to_the_bit_as_base64():
    stored = artifact(VECTORS).model_dump_json()
    packed = json.loads(stored)["vectors"]
    assert packed["shape"] == [5, 8] and isinstance(packed["float32_b64"], str)
    back = Embeddings.model_validate_json(stored).vectors
    assert back.dtype == np.float32 and np.array_equal(back, VECTORS)


def test_earlier_forms_still_read():
    standard = {"shape": [5, 8], "float32_b64": base64.b64encode(VECTORS.astype("<f4").tobytes()).decode()}
    for vectors in (standard, VECTORS.tolist()):
        stored = json.dumps({"model": "m", "dimension": 8, "chunk_ids": CHUNK_IDS, "vectors": vectors})
        assert np.array_equal(Embeddings.model_validate_json(stored).vectors, VECTORS)


def test_an_empty_partition_has_no_rows():
    stored = artifact(np.zeros((0, 8), np.float32)).model_dump_json()
    assert Embeddings.model_validate_json(stored).vectors.shape == (0, 8)
