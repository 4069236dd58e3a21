"""Embeddings resource: which model turns chunk text into vectors.

`provider`: "wordllama" (the default; weights ship in the wheel, no network), or "hashing"
(deterministic feature hashing, used by the tests)."""

from typing import Literal

from dagster import ConfigurableResource

from wessley_dagster.domain.embedders import Embedder, HashingEmbedder, WordLlamaEmbedder


class EmbeddingsResource(ConfigurableResource):
    provider: Literal["wordllama", "hashing"] = "wordllama"
    dimension: int = 256

    def embedder(self) -> Embedder:
        if self.provider == "hashing":
            return HashingEmbedder(self.dimension)
        return WordLlamaEmbedder(self.dimension)
