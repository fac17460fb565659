"""Solving: graph in, numbers out. Nothing here reads or writes a file.

- ``propagation``: the gradual semantics (each an aggregation paired with an influence), the
  system of a graph (``build_system``), the one solver (``solve``: iteration, then the one
  Bogacki-Shampine integrator when iteration does not settle), ``score_graph``, and the plain
  reference solver the tests hold it to;
- ``batch``: many variants of one system at once (``Engine``, ``solve_columns``): columns of
  credences and weights and a presence mask for dates. Every command that solves more than one
  variant (history, why, cruxes, compare, robustness, evidence shares) goes through it;
- ``timeline``: the graph as of a date, and strengths over time (``history``);
- ``robustness``: the ranking under uncertain credences and weights (sampling);
- ``shares``: each strength split into base, reasoning and evidence by kind.

May import: graph.core.
"""
