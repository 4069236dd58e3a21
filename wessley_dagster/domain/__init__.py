"""Pure domain logic: the bundle contract, chunking, terms, descriptions, embedders, graph rows."""
