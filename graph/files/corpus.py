"""The corpus loaded: its node files read and checked into a graph, with what was found wrong.

:meth:`Corpus.load` is where every command's graph comes from: each node file is found and read
through the guarded read (:func:`graph.files.store.walk_node_files`, ``read_node_file``),
unchanged files come from the load cache
(:mod:`graph.files.cache`: their verdicts, without reading them), the others are checked on
their own (:func:`graph.files.validate.check_file`), and :func:`graph.files.validate.assemble`
checks what needs the whole corpus and builds the :class:`networkx.MultiDiGraph` whose edge
keys are the relations. When every file is unchanged, the load is the cache's columns
(:mod:`graph.files.columns`), checked across files without a graph, which is built from the
cached verdicts only when a command first uses it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graph.core.limits import quote
from graph.core.model import (
    CorpusError, Problem, TakeoffError, display_path, gc_paused, unknown_id_message,
)
from graph.files.cache import LoadCache
from graph.files.columns import Columns, assemble_columns
from graph.files.config import MARKER, corpus_settings
from graph.files.provenance import read_sources
from graph.files.store import (
    UnsafeFileError, is_perspective_file, node_file_names, read_node_file, stable_read,
)
from graph.files.validate import assemble, check_file

if TYPE_CHECKING:  # networkx is imported where it is used, to keep `takeoff --help` fast
    import networkx


@dataclass
class Corpus:
    """A loaded corpus: the graph, where it came from, and what validation found.

    Loading never raises for problems in the files; call :meth:`require_valid` before relying
    on the graph. Example::

        corpus = Corpus.load("claims")
        corpus.require_valid()
        corpus.graph.nodes["bottlenecks"]["credence"]

    A load whose every file came unchanged from the load cache holds its
    :class:`graph.files.columns.Columns` and builds the graph only when it is first used:
    :attr:`kinds`, :attr:`n_edges` and :meth:`score` need none.
    """

    root: Path
    graph: "networkx.MultiDiGraph"
    problems: list = field(default_factory=list)
    columns: "Columns | None" = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.graph is None and self.columns is not None:
            del self.graph     # made from the columns on first use (__getattr__)
        else:
            self.columns = None   # a graph given (dataclasses.replace): the columns are not its

    def __getattr__(self, name):
        if name != "graph" or self.__dict__.get("columns") is None:
            raise AttributeError(name)
        self.graph = self._graph_of(self.columns)
        return self.graph

    @classmethod
    def load(cls, root, overlay=None):
        """Load and validate the corpus below ``root``.

        Parameters
        ----------
        root : path
            The corpus folder. It must exist.
        overlay : dict, optional
            ``{path: text or None}``: files to read as if they held ``text`` (None: as if
            deleted). Writers validate the corpus a change would leave without touching disk.
        """
        root = Path(root)
        if not root.is_dir():
            raise TakeoffError(f"{root}: no such corpus folder (create one with `takeoff init {root}`)")
        overlay = {Path(p): t for p, t in (overlay or {}).items()
                   if not is_perspective_file(root, p)}
        return stable_read(root, lambda: cls._read(root, overlay))

    @classmethod
    def _read(cls, root, overlay, columns=True):
        names = node_file_names(root)
        refused, checked = [], []
        with gc_paused():
            # graph/files/cache.py: unchanged files are not read again
            cache = LoadCache(root, columns=columns and not overlay)
            sources, source_problems = read_sources(root / MARKER)
            found = cache.columns(names)
            if found is not None:
                loaded = assemble_columns(names, found, sources)
                if loaded is not None:   # every file unchanged and nothing wrong across files
                    return cls(root, None, source_problems + loaded.problems, loaded)
            files = [(Path(text), text, rel) for text, rel in names]
            if overlay:
                files = [f for f in files if overlay.get(f[0], "") is not None]
                known = {f[0] for f in files}
                files += [(p, None, None) for p, t in sorted(overlay.items())
                          if t is not None and p not in known]
            on_disk = [f for f in files if not (overlay and f[0] in overlay)]
            # Nothing kept (a first load): no lstat, the fstat of each read keys it instead.
            found = iter(cache.lookup(on_disk) if cache.rows else [(None, None)] * len(on_disk))
            # Every file to read is read first, then all are checked: a system call costs the
            # parsing after it more than itself (the processor's caches and branch predictors
            # are cleared on the way back), so reads in a row make a cold load a fifth
            # cheaper than reading and checking file by file. ``read`` keeps the order found
            # (of two files with one id, the first wins): (path, rel, lstat, the NodeFile read
            # (None if refused) or the kept verdict, which of the three).
            read = []
            for path, _, rel in files:
                if overlay and path in overlay:
                    nf = cls._read_file(path, overlay[path], root, refused)
                    read.append((path, rel, None, nf, "overlay"))
                    continue
                verdict, st = next(found)
                if verdict is None:
                    read.append((path, rel, st, cls._read_file(path, None, root, refused), "read"))
                else:
                    read.append((path, rel, st, verdict, "kept"))
            for path, rel, st, got, how in read:
                if got is None:
                    continue   # refused (the problem says why): never cached
                if how == "kept":
                    checked.append((path, rel[rel.rfind(os.sep) + 1:-3], got))
                elif how == "overlay":
                    checked.append((path, got.id, check_file(got)))
                else:
                    verdict = cache.verdict_for(rel, got.digest) or check_file(got)
                    cache.keep(rel, st or got.stat, got.digest, verdict)
                    checked.append((path, rel[rel.rfind(os.sep) + 1:-3], verdict))
            graph, problems = assemble(checked, sources)
            cache.save()
        return cls(root, graph, refused + source_problems + problems)

    def _graph_of(self, columns):
        """The graph of a load from columns: built from the cache's verdicts, or, if their
        text cannot be trusted, from the files read again."""
        files = columns.verdict_files()
        if files is None:
            return stable_read(self.root, lambda: Corpus._read(self.root, {}, columns=False)).graph
        with gc_paused():
            return assemble(files, columns.sources)[0]

    @staticmethod
    def _read_file(path, text, root, refused):
        """The :class:`graph.core.model.NodeFile` of ``path`` (``text`` as its content if
        given), or None after noting why it is refused."""
        try:
            return read_node_file(path, text, root)
        except UnsafeFileError as exc:
            refused.append(Problem(display_path(path), exc.line, exc.reason))
            return None

    @property
    def errors(self):
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self):
        return [p for p in self.problems if p.level == "warning"]

    def require_valid(self, action=None):
        """Raise :class:`CorpusError` listing every error, if there is any."""
        if self.errors:
            raise CorpusError(self.errors, action)
        return self

    def node(self, node_id):
        """The attributes of node ``node_id``; an unknown id raises with a did-you-mean."""
        if node_id not in self.graph:
            broken = [p for p in self.errors if Path(p.path).name == f"{node_id}.md"]
            if broken:  # the file is there but could not be read as a node
                raise TakeoffError(f"{quote(node_id)} cannot be used until its file is fixed: "
                                   f"{broken[0]}")
            raise TakeoffError(unknown_id_message(node_id, self.graph))
        return self.graph.nodes[node_id]

    @property
    def settings(self):
        """The settings of the corpus's ``takeoff.toml`` (see :func:`graph.files.config.read_settings`,
        the one place they are read)."""
        return corpus_settings(self.root)

    @property
    def kinds(self):
        """``{id: kind}`` of every node, in the graph's order."""
        if self.columns is not None:
            return self.columns.kinds
        return dict(self.graph.nodes(data="kind"))

    @property
    def n_edges(self):
        """The number of edges of the graph."""
        if self.columns is not None:
            return self.columns.n_edges
        return self.graph.number_of_edges()

    def score(self, semantics=None, **options):
        """Strengths of every node; see :func:`graph.solving.propagation.score_graph` (from
        the columns, without the graph, when the load has them). The semantics defaults to the
        corpus's setting (``takeoff.toml``), else qe."""
        from graph.solving.propagation import score_graph, score_system

        semantics = semantics or self.settings.get("semantics", "qe")
        if self.columns is not None:
            return score_system(self.columns.system(), semantics, **options)
        return score_graph(self.graph, semantics, **options)
