"""IO managers, one a file: artifacts (object storage), graph (Neo4j/ArcadeDB), vectors (Qdrant)."""
