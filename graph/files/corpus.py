"""The corpus loaded: its node files read and checked into a graph, with what was found wrong.

:meth:`Corpus.load` is where every command's graph comes from: each node file is found and read
through the guarded read (:func:`graph.files.store.iter_node_files`, ``read_node_file``), unchanged files come from the load cache
(:mod:`graph.files.cache`), and :func:`graph.files.validate.build_graph` checks and builds the
:class:`networkx.MultiDiGraph` whose edge keys are the relations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graph.core.limits import quote
from graph.core.model import (
    CorpusError, Problem, TakeoffError, display_path, gc_paused, unknown_id_message,
)
from graph.files.cache import LoadCache
from graph.files.config import MARKER, corpus_settings
from graph.files.provenance import read_sources
from graph.files.store import (
    UnsafeFileError, is_perspective_file, iter_node_files, read_node_file, stable_read,
)
from graph.files.validate import build_graph

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
    """

    root: Path
    graph: "networkx.MultiDiGraph"
    problems: list = field(default_factory=list)

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
    def _read(cls, root, overlay):
        paths = on_disk = iter_node_files(root)
        if overlay:
            paths = [p for p in on_disk if overlay.get(p, "") is not None]
            known = set(on_disk)
            paths += sorted(p for p, t in overlay.items() if t is not None and p not in known)
        refused = []

        def read(p, text=None):
            try:
                return read_node_file(p, text, root)
            except UnsafeFileError as exc:
                refused.append(Problem(display_path(p), exc.line, exc.reason))
                return None

        with gc_paused():
            cache = LoadCache(root)   # graph/files/cache.py: unchanged files are not read again
            files = cache.node_files(paths, read, overlay)
            sources, source_problems = read_sources(root / MARKER)
            graph, problems = build_graph(files, sources)
            cache.save()
        return cls(root, graph, refused + source_problems + problems)

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

    def score(self, semantics=None, **options):
        """Strengths of every node; see :func:`graph.solving.propagation.score_graph`. The semantics
        defaults to the corpus's setting (``takeoff.toml``), else qe."""
        from graph.solving.propagation import score_graph

        return score_graph(self.graph, semantics or self.settings.get("semantics", "qe"),
                           **options)
