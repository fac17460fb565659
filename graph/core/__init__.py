"""The core: what every layer speaks, with no input or output of its own.

- ``model``: node kinds, relations and keys, the id rule, the one date type, errors and
  problems (no YAML library: listing files needs none);
- ``frontmatter``: the one YAML loader for front matter (``parse_front``), bounded;
- ``plainyaml``: that loader's fast path, the plain subset of YAML read line by line exactly
  as PyYAML reads it (anything else is left to PyYAML);
- ``limits``: bounded parsing (YAML, JSON, Turtle, TOML, text) so that no input can exhaust
  memory or the stack, and ``quote`` for showing any value in a message;
- ``uncertainty``: credence and weight distributions (parsing, describing, sampling);
- ``links``: cross-links between nodes in annotations (``[[id]]``).

May import: nothing of graph outside graph.core.
"""
