"""Interchange with argument-mapping tools, linked data and drawing programs, one module per
format.

- ``interchange``: the registry that names every format for ``takeoff export`` and
  ``takeoff import`` (format by name, file extension or content);
- ``common``: the error, the id rule for imported ids, :class:`~graph.formats.common.Builder`
  (every reader checks nodes and edges through it);
- ``nodelink``: networkx node-link JSON, without loss;
- ``argdown_text``, ``argdown_read``, ``argdown_write``: Argdown (its text layer, reading,
  writing);
- ``aif``: AIF JSON and xAIF, both ways;
- ``kialo``: Kialo's text export, both ways;
- ``tgf``: ICCMA's TGF and APX (the attack graph, export only);
- ``drawings``: GraphML, Mermaid and DOT (export only);
- ``rdf``: RDF (Turtle, JSON-LD, N-Triples) both ways, SPARQL queries (``queries/``), SHACL
  shapes (``shapes.ttl``) and the vocabulary (``vocab.ttl``).

Every reader and writer is pure: graph in, text out, or text in, graph out. Import the module
you need (this package's ``__init__`` imports nothing, so that one format costs one module).

May import: graph.core, graph.solving, graph.files.
"""
