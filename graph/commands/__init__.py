"""The commands of ``takeoff``, one module per concern; cli.py at the top level is the entry,
whose root group imports a command's module only when that command runs, shows its help or
completes (so ``takeoff --help`` and a Tab stay fast).

- ``common``: what every command shares: the global options' settings, the command class,
  options several commands take, the corpus as a command sees it, printing, completion;
- ``corpus``: writing the corpus (init, add, link, unlink, set, rm, mv, edit, source) and
  checking it (check);
- ``scoring``: score, list, show;
- ``explaining``: why, cruxes, tree, paths, lint;
- ``history``: the strengths over time (history);
- ``perspectives``: perspective new/set/unset/list/show, compare;
- ``evidence``: evidence, robustness;
- ``page``: html;
- ``formats``: export, import;
- ``linked_data``: sparql, publish, pull, serve;
- ``review``: diff, log.

Each command parses its arguments, makes one call of the Python API and prints the result.

May import: graph.core, graph.solving, graph.files, graph.explaining, graph.formats, graph.page
(inside the commands that need them, for the heavy ones).
"""
