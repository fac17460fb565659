"""The corpus as columns: a load of unchanged files, counted and scored without a graph.

When every node file of a corpus is, unchanged, an entry of the load cache
(:meth:`graph.files.cache.LoadCache.columns`), a load needs no Python object per node: the
cache's columns (ids, kinds, credences, edges as source and target indices, relations and
weights) are checked across files here, with arrays, and :class:`Columns` is what
:class:`graph.files.corpus.Corpus` holds. ``takeoff check`` counts them, ``takeoff score``
solves the system made from them (:meth:`Columns.system`); a command that needs the graph gets
it built from the cache's verdicts, as a load of changed files builds it
(:func:`graph.files.validate.assemble`).

Example::

    cols = assemble_columns(names, cache.columns(names), sources)
    if cols is not None:          # else: a problem across files, worded by assemble
        cols.kinds["bottlenecks"], cols.system().n_edges
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from graph.core.model import KINDS, Problem, display_path
from graph.files.validate import no_conclusion, unknown_link, unknown_source


class Columns:
    """A valid load as columns.

    Attributes
    ----------
    ids : list of str
        Node ids, in the order of the files (the graph's order).
    kind : numpy.ndarray of int8
        Index into :data:`graph.core.model.KINDS` of each node.
    credence : numpy.ndarray
    src, dst : numpy.ndarray of intp
        Source and target of each edge, node by node in the order of each file's edges (the
        graph's order).
    relation : numpy.ndarray of int8
        Index into :data:`graph.core.model.RELATIONS`.
    weight : numpy.ndarray
    problems : list of Problem
        The warnings of the load (a load with an error is never a ``Columns``).
    sources : dict or None
        The declared sources, for the graph (``graph.graph["sources"]``).
    """

    def __init__(self, texts, rels, ids, index, cols, src, dst, problems, sources):
        self.texts, self.rels, self.ids, self.index = texts, rels, ids, index
        self.sources = sources
        self.kind, self.credence = cols["kind"], cols["credence"]
        self.src, self.dst = src, dst
        self.relation, self.weight = cols["relation"], cols["weight"]
        self.problems = problems
        self._verdicts = cols["verdicts"]

    @property
    def kinds(self):
        """``{id: kind}`` of every node."""
        names = np.array(KINDS, dtype=object)
        return dict(zip(self.ids, names[self.kind].tolist()))

    @property
    def n_edges(self):
        return len(self.src)

    def system(self):
        """The solver's :class:`graph.solving.propagation.System`, the one
        ``build_system(graph)`` makes of the graph of this load."""
        from graph.solving.propagation import system_from_arrays

        return system_from_arrays(self.ids, self.credence, self.src, self.dst, self.relation,
                                  self.weight, index=self.index)

    def verdict_files(self):
        """``[(path, id, Verdict)]`` of every file, as :func:`graph.files.validate.assemble`
        takes them, or None if the cache's verdicts cannot be trusted (then the files are
        read again)."""
        verdicts = self._verdicts()
        if verdicts is None:
            return None
        return [(Path(text), node, verdicts[rel])
                for text, node, rel in zip(self.texts, self.ids, self.rels)]


def assemble_columns(names, cols, sources=None):
    """The checks of :func:`graph.files.validate.assemble` on columns: the :class:`Columns`
    of the load, or None if a file has an error across files (a duplicate id, an unknown
    target, a self-loop, both relations to one target, an undeclared source), which the graph
    path words with its line.

    Parameters
    ----------
    names : list of (str, str)
        ``(name as text, name relative to the corpus)`` of each file.
    cols : dict
        :meth:`graph.files.cache.LoadCache.columns` of those files.
    sources : dict, optional
        The declared sources, as :func:`graph.files.validate.assemble` takes them.
    """
    rels = cols["rel"]
    n, m = len(rels), len(cols["target"])
    ids = [rel[rel.rfind(os.sep) + 1:-3] for rel in rels]
    index = dict(zip(ids, range(n)))
    if len(index) != n:
        return None
    try:
        dst = np.fromiter(map(index.__getitem__, cols["target"]), dtype=np.intp, count=m)
    except KeyError:
        return None
    src = np.repeat(np.arange(n, dtype=np.intp), cols["edges"])
    pairs = src.astype(np.int64) * max(n, 1) + dst
    pairs.sort()
    if (src == dst).any() or (pairs[1:] == pairs[:-1]).any():
        return None
    if sources is not None and any(
            unknown_source(extra.get("from"), sources, cols["target"][e])
            for e, extra in cols["extra"].items()):
        return None
    found = {}
    for row, line, message in cols["warnings"]:
        found.setdefault(row, []).append((line, message, "warning"))
    across = {}
    for row, line, target in cols["links"]:
        if target not in index:
            across.setdefault(row, []).append((line, unknown_link(target, ids), "warning"))
    for row in np.flatnonzero((cols["kind"] == KINDS.index("argument"))
                              & (cols["edges"] == 0)).tolist():
        across.setdefault(row, []).append((1, no_conclusion(ids[row]), "warning"))
    problems = [Problem(display_path(Path(names[row][0])), line, message, level)
                for row in sorted(found.keys() | across.keys())
                for line, message, level in (*found.get(row, ()), *across.get(row, ()))]
    return Columns([text for text, _ in names], rels, ids, index, cols, src, dst, problems,
                   sources)
