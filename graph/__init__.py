"""takeoff-graph: an annotated knowledge graph of AI-takeoff arguments.

Where things happen:

- loading and validating the corpus: ``model`` (``Corpus.load``), ``validate``, ``cache``,
  ``limits`` (bounded parsing), ``config`` (finding the corpus, ``takeoff.toml``);
- every write: ``edit.apply_change`` over ``store.write_files`` (one journaled transaction);
- scores: ``propagation`` (``score_graph``, ``solve``), many at once in ``batch``, under
  uncertainty in ``robustness`` (distributions in ``uncertainty``);
- explanations and time: ``explain`` (why, cruxes, lint), ``timeline`` (as-of, history),
  ``perspective``;
- the page: ``html`` with ``assets/`` (``app.js``, the in-page ``solver.js``);
- interchange: ``interchange`` (the format registry), ``formats`` (a package, one module per
  format: Argdown, AIF/xAIF, Kialo, ICCMA TGF/APX, GraphML/Mermaid/DOT, node-link),
  ``rdf`` (RDF, SPARQL, SHACL), ``endpoint`` (SPARQL servers);
- look-ups: ``query`` (list, show), ``links`` (cross-links in annotations);
- terminal output: ``tables``; the ``takeoff`` command itself is ``cli.py`` at the top level.
"""
