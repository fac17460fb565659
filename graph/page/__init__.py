"""What reaches a reader outside the terminal's own tables: the HTML page, charts, and a SPARQL
server.

- ``html``: the self-contained page (``write_html``) with ``assets/`` (``app.js``; the in-page
  solver ``solver.js``, which follows the stages and constants of graph.solving.propagation);
- ``plots``: history and robustness charts (matplotlib);
- ``tables``: terminal tables and trees, and ``inert`` for text from outside;
- ``endpoint``: SPARQL servers (query, publish, pull).

May import: graph.core, graph.solving, graph.files, graph.explaining, graph.formats.
"""
