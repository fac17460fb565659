"""Explaining: why a node scores as it does, what would change it, and how views differ.

- ``explain``: why (each edge's contribution), cruxes, the argument tree, lint;
- ``perspective``: a corpus scored through a perspective, and two compared (Shapley values);
- ``review``: what a change between two git revisions does to the scores (``takeoff diff``);
- ``query``: listing and showing nodes.

May import: graph.core, graph.solving, graph.files.
"""
