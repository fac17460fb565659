"""takeoff-graph: an annotated knowledge graph of AI-takeoff arguments.

Where things happen:

- loading and validating the corpus: ``model`` (``Corpus.load``), ``validate``, ``cache``,
  ``limits`` (bounded parsing), ``config`` (finding the corpus, ``takeoff.toml``);
- every write: ``edit.apply_change`` over ``store.write_files`` (one journaled transaction);
- scores: ``propagation`` (the semantics, ``score_graph``, ``solve``, the one integrator),
  many variants of one system at once in ``batch`` (``Engine``, ``solve_columns``: every
  command that solves variants uses it), under uncertainty in ``robustness`` (distributions
  in ``uncertainty``);
- explanations and time: ``explain`` (why, cruxes, lint), ``timeline`` (as-of, history),
  ``perspective``;
- what the evidence says: ``provenance`` (whose argument each edge is, evidence kinds, the
  ``--edges-from`` / ``--evidence-kinds`` filter), ``shares`` (each strength split into base,
  reasoning and evidence by kind; ``takeoff evidence``);
- the page: ``html`` with ``assets/`` (``app.js``, the in-page ``solver.js``);
- interchange: ``interchange`` (the format registry), ``formats`` (a package, one module per
  format: Argdown, AIF/xAIF, Kialo, ICCMA TGF/APX, GraphML/Mermaid/DOT, node-link),
  ``rdf`` (RDF, SPARQL, SHACL), ``endpoint`` (SPARQL servers);
- look-ups: ``query`` (list, show), ``links`` (cross-links in annotations);
- terminal output: ``tables``; the ``takeoff`` command itself is ``cli.py`` at the top level.
"""
