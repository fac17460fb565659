"""takeoff-graph: an annotated knowledge graph of AI-takeoff arguments.

The package is seven layers, each a folder; a layer imports only the layers above it in this
list (tests/test_layers.py checks every import, including those inside functions):

- ``core``: the vocabulary (``model``), the YAML loader (``frontmatter``), bounded parsing
  (``limits``), distributions (``uncertainty``), cross-links (``links``);
- ``solving``: graph in, numbers out: the semantics and the one solver (``propagation``), many
  variants of one system at once (``batch``), time (``timeline``), uncertainty
  (``robustness``), evidence shares (``shares``);
- ``files``: the corpus and its files: the guarded read and the one transaction (``store``),
  loading (``corpus``, ``cache``, ``columns``, ``validate``, ``config``, ``provenance``), changes
  (``edit``, ``perspective_edit``), perspective files (``perspectives``), git revisions
  (``gitrev``);
- ``explaining``: why, cruxes, lint (``explain``), perspectives compared (``perspective``),
  changes between revisions (``review``), listing (``query``);
- ``formats``: every import and export format, RDF and SPARQL among them (``interchange`` is
  the registry);
- ``page``: the HTML page (``html`` and ``assets/``), charts (``plots``), terminal tables
  (``tables``), SPARQL servers (``endpoint``);
- ``commands``: the ``takeoff`` commands, one module per concern (``corpus``, ``scoring``,
  ``explaining``, ``history``, ``perspectives``, ``evidence``, ``page``, ``formats``,
  ``linked_data``, ``review``; ``common``: what they share).

Where things happen:

- a score is computed in ``graph.solving.propagation.solve`` (one system) and
  ``graph.solving.batch.Engine`` (many variants); ``Corpus.score`` uses the corpus's settings;
- a corpus is read in ``graph.files.corpus.Corpus.load``, every file through
  ``graph.files.store.read_text``;
- a file is written in ``graph.files.store.write_files`` (through
  ``graph.files.edit.apply_change``) or, for outputs, ``graph.files.store.atomic_write``;
- the page is drawn in ``graph.page.html.write_html`` and, in the browser,
  ``graph/page/assets/app.js``;
- the ``takeoff`` command is ``cli.py`` at the top level, the root (global options, errors as
  messages, the table of commands: ``cli.COMMANDS``), and ``graph.commands``, whose module of a
  command is imported only when that command runs or completes; both parse and print.
"""
