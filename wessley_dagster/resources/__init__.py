"""Resources, one class per backend in a file per kind of store (graph, vectors, storage and
uploads, metadata, embeddings); `profiles.py` builds a deployment's set from its settings."""
