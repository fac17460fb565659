"""takeoff-graph: an annotated knowledge graph of AI-takeoff arguments."""
