"""The corpus and its files: every read and every write of the tool goes through here.

- ``store``: the guarded read (size, kind, links, ownership, UTF-8) and the one journaled
  transaction (``write_files``, the corpus lock, recovery after a crash);
- ``corpus``: finding node files and loading them into a graph (``Corpus.load``);
- ``cache``: the load cache: each unchanged file's verdict (signed, keyed to the code and the
  file's bytes, never trusted when foreign), kept as columns;
- ``columns``: a load of unchanged files served from the cache's columns: the checks across
  files on arrays, counts and scoring without building the graph (built on first use);
- ``validate``: every check of a node file (its verdict), the checks across files, and
  building the graph;
- ``config``: finding the corpus and reading ``takeoff.toml``;
- ``provenance``: whose argument each edge is (``[sources]``), and the filter by source or by
  evidence kind;
- ``edit``: every change to node files (``apply_change`` over ``store.write_files``), imports
  into a corpus, ``init``;
- ``perspectives`` and ``perspective_edit``: perspective files read and checked, and changed;
- ``rewrite``: ruamel.yaml round-trip, the one way a file is rewritten keeping its comments;
- ``gitrev``: reading the corpus at a git revision (``takeoff diff``).

May import: graph.core, graph.solving (the semantics' names, to check ``takeoff.toml``; a
loaded corpus scores itself with its own settings).
"""
