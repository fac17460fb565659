"""Reviewing a change to the map: what a commit or a pull request did to the argument and to
the ranking (``takeoff diff``), the commits that changed it (``takeoff log``), and what a merge
of two branches broke (``takeoff check``).

A *side* is the corpus at one revision (read with :mod:`graph.files.gitrev`, no checkout), in the
work tree, or in a folder. Every side is parsed and validated by the one loader:
:func:`graph.files.store.read_node_file` and :func:`graph.files.validate.build_graph` for node files,
:func:`graph.files.perspectives.parse_perspective` for perspectives.

The change of each path's strength is split among the changed inputs of the solver (nodes
that appear or disappear with their edges, credences, edges added, removed, re-weighted or
flipped) by exact Shapley values (:func:`graph.explaining.perspective.shapley`, as ``compare`` splits the
difference of two perspectives): every mix of the changes is one solve of a single system that
holds the edges of both sides, an edge switched off by weight 0. With more changed inputs than
:data:`EXACT_LIMIT`, the inputs are grouped by the node whose file holds them, and, if there
are still too many, the groups that move the paths least alone are pooled; the result says so.
"""
from __future__ import annotations

import difflib
import io
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from graph.files.gitrev import BlobReader, GitError, Repository
from graph.core.limits import InputError, decode_text, quote
from graph.core.model import (
    PERSPECTIVES_DIR, Problem, TakeoffError, display_path, unknown_id_message,
)
from graph.explaining.explain import lint
from graph.explaining.perspective import apply_perspective, shapley
from graph.files.corpus import Corpus
from graph.files.perspectives import (
    BASE, Perspective, item_label, parse_perspective, perspective_names, perspective_path,
)
from graph.files.store import (
    MAX_FILE_BYTES, UnsafeFileError, atomic_write, read_node_file, read_text,
)
from graph.files.validate import build_graph, explain_merge
from graph.solving.timeline import as_of_graph

EXACT_LIMIT = 10          # 2**10 solves per diff at most
# Share of a node file's lines kept for a renamed file to count as the same node: more than
# git's 50%, since small front matters share their boilerplate lines (---, kind: claim).
RENAME_SIMILARITY = 0.6
RENAME_PAIRS = 40_000     # text comparisons allowed when pairing removed and added nodes
WORK_TREE = "work tree"


# ---- sides -----------------------------------------------------------------------------------

@dataclass
class Side:
    """The corpus as one revision, the work tree or a folder holds it.

    ``texts`` keeps each node file's text by id, ``perspectives`` each perspective file's
    ``(path, text)`` by name; ``problems`` are the files refused before parsing.
    """

    label: str
    corpus: Corpus
    texts: dict = field(default_factory=dict)
    perspectives: dict = field(default_factory=dict)
    commit: str | None = None

    @property
    def graph(self):
        return self.corpus.graph

    def text(self, node_id):
        if node_id not in self.texts:
            try:
                self.texts[node_id] = read_text(self.graph.nodes[node_id]["path"],
                                                self.corpus.root)
            except UnsafeFileError:
                self.texts[node_id] = ""
        return self.texts[node_id]

    def perspective(self, name):
        """``(Perspective or None, problems)`` of perspective ``name`` on this side."""
        if name in (None, BASE):
            return Perspective(BASE, "the corpus as written"), []
        if name not in self.perspectives:
            return None, []
        path, text = self.perspectives[name]
        return parse_perspective(text, path, self.graph)

    def perspective_problems(self):
        return [p for name in sorted(self.perspectives)
                for p in parse_perspective(self.perspectives[name][1],
                                           self.perspectives[name][0], self.graph)[1]]


def _folder_side(root, label):
    corpus = Corpus.load(root)
    perspectives = {}
    for name in perspective_names(root):
        path = perspective_path(root, name)
        try:
            perspectives[name] = (path, read_text(path, root))
        except UnsafeFileError as exc:
            corpus.problems.append(Problem(display_path(path), exc.line, exc.reason))
    return Side(label, corpus, perspectives=perspectives)


class RevisionReader:
    """Loads revisions of the corpus in one repository; a file whose blob was parsed for an
    earlier revision is not parsed again (its checked front matter is reused, as the load cache
    reuses it for a file on disk)."""

    def __init__(self, repo, root):
        self.repo = repo
        self.root = Path(root).resolve()
        self._sides = {}

    def side(self, sha):
        if sha not in self._sides:
            self._sides[sha] = self._load(sha)
        return self._sides[sha]

    def _load(self, sha):
        short = self.repo.subject(sha)[0]
        files, refused, perspectives = [], [], {}
        wanted = []
        for rel, mode, oid, size in self.repo.tree(sha):
            path = self.root / rel   # where the file stands in a checkout: messages name it so
            kind = _file_kind(rel)
            if kind is None:
                continue
            if mode == "120000":
                refused.append(Problem(display_path(path), 0, f"a symbolic link in {short}; "
                                       "links are not followed in a revision"))
            elif size > MAX_FILE_BYTES:
                refused.append(Problem(display_path(path), 0, f"{size} bytes in {short}, over "
                                       "the 10 MB limit of a corpus file; refused"))
            else:
                wanted.append((kind, path, oid))
        blobs = BlobReader(self.repo.top).read(oid for _, _, oid in wanted)
        texts = {}
        for kind, path, oid in wanted:
            try:
                text = decode_text(blobs[oid])
            except InputError as exc:
                refused.append(Problem(display_path(path), exc.line, exc.message))
                continue
            if kind == "perspective":
                perspectives[path.name[:-len(".yaml")]] = (path, text)
                continue
            nf = read_node_file(path, text)
            files.append(nf)
            texts[nf.id] = text
        graph, problems = build_graph(files)
        corpus = Corpus(self.root, graph, refused + problems)
        return Side(self.repo.name(sha), corpus, texts, perspectives, sha)


def _file_kind(rel):
    """``"node"`` or ``"perspective"`` for a file of the corpus folder (the rules of
    :func:`graph.files.store.iter_node_files` and :func:`graph.files.store.is_perspective_file`), else
    None."""
    parts = rel.split("/")
    if len(parts) == 2 and parts[0] == PERSPECTIVES_DIR and parts[1].endswith(".yaml") \
            and not parts[1].startswith("."):
        return "perspective"
    if not rel.endswith(".md") or any(p.startswith(".") or p.endswith(".md") for p in parts[:-1]):
        return None
    if parts[0] == PERSPECTIVES_DIR and len(parts) > 1:
        return None
    return "node"


def _empty_side(root, label):
    return Side(label, Corpus(Path(root), nx.MultiDiGraph(), []))


def parse_revisions(revisions):
    """``(A, B)`` from the arguments of ``takeoff diff``: none (HEAD and the work tree), one
    (that revision and the work tree; ``A..B`` both), or two. B None means the work tree."""
    revisions = list(revisions)
    if len(revisions) > 2:
        raise TakeoffError("diff takes at most two revisions (A B, or A..B)")
    if len(revisions) == 1 and ".." in revisions[0] and not os.path.isdir(revisions[0]):
        a, _, b = revisions[0].partition("..")
        if b.startswith("."):
            raise TakeoffError(f"{quote(revisions[0])}: use A..B (the symmetric A...B is not "
                               "a pair of revisions)")
        return a or "HEAD", b or "HEAD"
    if not revisions:
        return "HEAD", None
    return revisions[0], (revisions[1] if len(revisions) == 2 else None)


def open_sides(root, revisions):
    """The two sides ``takeoff diff`` compares (see :func:`parse_revisions`); an argument
    that names a folder is a corpus folder, anything else a revision of the repository
    holding the corpus at ``root``."""
    a, b = parse_revisions(revisions)
    reader = None

    def side(arg):
        nonlocal reader
        if arg is None:
            return _folder_side(root, WORK_TREE)
        if os.path.isdir(arg):
            return _folder_side(Path(arg), display_path(arg))
        if reader is None:
            reader = RevisionReader(Repository.of(root), root)
        return reader.side(reader.repo.resolve(arg))

    return side(a), side(b)


# ---- the structural change -------------------------------------------------------------------

def find_renames(before, after):
    """``{old id: new id}``: nodes removed from ``before`` and added in ``after`` that are one
    node renamed, by the rewrite ``takeoff mv`` makes (every edge into the old id now goes to
    the new one) or by the file's text (at least :data:`RENAME_SIMILARITY` of its lines kept)."""
    gone = sorted(set(before.graph) - set(after.graph))
    new = sorted(set(after.graph) - set(before.graph))
    if not gone or not new:
        return {}
    kind_b, kind_a = before.graph.nodes, after.graph.nodes
    scored = []
    budget = RENAME_PAIRS
    for old in gone:
        into_old = {(s, k) for s, _, k in before.graph.in_edges(old, keys=True)}
        for fresh in new:
            if kind_b[old].get("kind") != kind_a[fresh].get("kind"):
                continue
            into_new = {(s, k) for s, _, k in after.graph.in_edges(fresh, keys=True)}
            score = 0.0
            if into_old and into_old == into_new:
                score = 1.0 + len(into_old)   # the mv pattern outranks any text likeness
            elif budget > 0:
                budget -= 1
                matcher = difflib.SequenceMatcher(None, before.text(old).splitlines(),
                                                  after.text(fresh).splitlines(), autojunk=False)
                if matcher.real_quick_ratio() >= RENAME_SIMILARITY and \
                        matcher.quick_ratio() >= RENAME_SIMILARITY:
                    score = matcher.ratio()
            if score >= RENAME_SIMILARITY:
                scored.append((-score, old, fresh))
    renames, used = {}, set()
    for _, old, fresh in sorted(scored):
        if old not in renames and fresh not in used:
            renames[old] = fresh
            used.add(fresh)
    return renames


def _show(value):
    """A field value as the diff prints it."""
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


NODE_FIELDS = ("kind", "title", "credence", "credence_dist", "date", "tags", "body", "path")


@contextmanager
def renamed(graph, renames):
    """``graph`` with the ids of ``renames`` (old -> new) in place while the block runs, and
    back afterwards: a rename touches only the renamed nodes' edges, where a copy of a 10,000
    node graph costs a second."""
    if renames:
        nx.relabel_nodes(graph, renames, copy=False)
    try:
        yield graph
    finally:
        if renames:
            nx.relabel_nodes(graph, {new: old for old, new in renames.items()}, copy=False)


def _edges(graph):
    """``{(source, target): (relation, weight, note, weight_dist)}``."""
    return {(s, t): (k, d["weight"], d.get("note", ""), d.get("weight_dist"))
            for s, t, k, d in graph.edges(keys=True, data=True)}


def structure(before, after, renames):
    """The structural change from ``before`` to ``after`` (sides), ids of ``before`` read
    through ``renames``: nodes added, removed, renamed and changed field by field, sources
    and edges. Call it with ``before.graph`` :func:`renamed`.

    Returns
    -------
    dict
        ``{"renamed": [{"old", "new", "kind"}], "added", "removed": [{"id", "kind", "title"}],
        "fields": [{"id", "field", "old", "new"}], "sources": [{"id", "url", "change",
        "old", "new"}], "edges": [{"source", "target", "change", "old", "new"}]}``.
    """
    old_graph, new_graph = before.graph, after.graph
    roots = (Path(before.corpus.root), Path(after.corpus.root))
    out = {"renamed": [{"old": o, "new": n, "kind": new_graph.nodes[n].get("kind")}
                       for o, n in sorted(renames.items())],
           "added": [_node_row(new_graph, n) for n in sorted(set(new_graph) - set(old_graph))],
           "removed": [_node_row(old_graph, n) for n in sorted(set(old_graph) - set(new_graph))],
           "fields": [], "sources": [], "edges": []}
    for n in sorted(set(old_graph) & set(new_graph)):
        a, b = old_graph.nodes[n], new_graph.nodes[n]
        for name in NODE_FIELDS:
            va, vb = a.get(name), b.get(name)
            if name == "path" and va != vb:
                va, vb = (None if v is None else os.path.relpath(v, r)
                          for v, r in ((va, roots[0]), (vb, roots[1])))
            if va != vb:
                old, new = ((f"{len(v.splitlines())} lines" if v else "empty") for v in (va, vb)) \
                    if name == "body" else (_show(va), _show(vb))
                out["fields"].append({"id": n, "field": "annotation" if name == "body" else name,
                                      "old": old, "new": new})
        out["sources"] += _source_changes(n, a.get("sources", []), b.get("sources", []))
    out["edges"] = _edge_changes(_edges(old_graph), _edges(new_graph))
    return out


def _node_row(graph, n):
    attrs = graph.nodes[n]
    return {"id": n, "kind": attrs.get("kind"), "title": attrs.get("title")}


def _source_changes(node, old, new):
    key = lambda s: s.get("url") or s.get("title")  # noqa: E731 - a source known by title
    a, b = {key(s): s for s in old}, {key(s): s for s in new}
    rows = []
    for url in sorted(set(a) | set(b), key=str):
        sa, sb = a.get(url), b.get(url)
        if sa == sb:
            continue
        change = "added" if sa is None else "removed" if sb is None else "changed"
        what = lambda s: "; ".join(f"{k} {_show(v)}" for k, v in s.items()  # noqa: E731
                                   if k != "url" and v is not None) if s else "-"
        if change == "changed":
            keys = [k for k in ("title", "quote", "date") if sa.get(k) != sb.get(k)]
            sa, sb = ({k: s.get(k) for k in keys} for s in (sa, sb))
        rows.append({"id": node, "url": url, "change": change, "old": what(sa), "new": what(sb)})
    return rows


def _edge_text(state):
    relation, weight, _, dist = state
    return f"{relation} {_show(dist) if dist else f'{weight:g}'}"


def _edge_changes(old, new):
    rows = []
    for pair in sorted(set(old) | set(new)):
        a, b = old.get(pair), new.get(pair)
        if a == b:
            continue
        row = {"source": pair[0], "target": pair[1]}
        if a is None or b is None:
            change = "added" if a is None else "removed"
            rows.append({**row, "change": change, "old": _edge_text(a) if a else "-",
                         "new": _edge_text(b) if b else "-"})
            continue
        if a[0] != b[0]:
            rows.append({**row, "change": "flipped", "old": _edge_text(a), "new": _edge_text(b)})
        elif a[1] != b[1] or a[3] != b[3]:
            rows.append({**row, "change": "reweighted", "old": _edge_text(a),
                         "new": _edge_text(b)})
        if a[2] != b[2]:
            rows.append({**row, "change": "note", "old": a[2], "new": b[2]})
    return rows


def _perspective_changes(before, after, renames):
    """Perspectives added and removed, and each override changed (``before``'s files are
    parsed against its own graph, then their ids read through ``renames``)."""
    rows = []
    for name in sorted(set(before.perspectives) | set(after.perspectives)):
        if name not in after.perspectives or name not in before.perspectives:
            rows.append({"name": name, "change": "added" if name in after.perspectives
                         else "removed", "override": "", "old": "", "new": ""})
            continue
        p, _ = before.perspective(name)
        q, _ = after.perspective(name)
        if p is None or q is None:
            if before.perspectives[name][1] != after.perspectives[name][1]:
                rows.append({"name": name, "change": "changed", "override": "(file has errors)",
                             "old": "", "new": ""})
            continue
        old = {_renamed_item(i, renames): v for i, v in p.overrides().items()}
        new = q.overrides()
        for item in sorted(set(old) | set(new)):
            if old.get(item) != new.get(item):
                rows.append({"name": name, "change": "override", "override": item_label(item),
                             "old": _show(old.get(item)), "new": _show(new.get(item))})
        if p.description != q.description:
            rows.append({"name": name, "change": "description", "override": "",
                         "old": p.description, "new": q.description})
    return rows


def _renamed_item(item, renames):
    return (item[0], *(renames.get(n, n) for n in item[1:]))


# ---- the ranking and what moved it -----------------------------------------------------------

def effective_graph(side, perspective, as_of):
    """The graph ``side`` scores under ``perspective`` and ``as_of`` (``side.graph`` itself
    when neither changes it), and a note when the side has no such perspective (then scored
    as written)."""
    note = None
    graph = side.graph
    if perspective is not None:
        p, problems = side.perspective(perspective)
        if p is None:
            note = (f"{side.label} has no usable perspective {quote(perspective)}"
                    f"{' (its file has errors)' if problems else ''}: scored as written")
        else:
            graph = apply_perspective(graph, p)
    return as_of_graph(graph, as_of), note


class ChangeGame:
    """The solver over every mix of the changes between two graphs (same ids).

    One system holds the nodes and edges of both graphs; a mix is a credence vector and a
    weight vector (an edge absent in the mix has weight 0, which switches it off), then one
    solve. ``inputs`` are the changed inputs, each a tuple: ``("node", id)`` (a node on one side
    only, with the edges that touch it there), ``("credence", id)`` and ``("edge", source,
    target)`` (added, removed, re-weighted or flipped).
    """

    def __init__(self, old, new, semantics, tolerance=1e-9, dated=frozenset()):
        from graph.solving.propagation import build_system

        self.old, self.new, self.dated = old, new, dated
        self.semantics, self.tolerance = semantics, tolerance
        nodes_old, nodes_new = set(old), set(new)
        self.appearing = sorted(nodes_old ^ nodes_new)
        appearing = set(self.appearing)
        inputs = [("node", n) for n in self.appearing]
        inputs += [("credence", n) for n in sorted(nodes_old & nodes_new)
                   if old.nodes[n]["credence"] != new.nodes[n]["credence"]]
        edges_old, edges_new = self._edges(old), self._edges(new)
        self.edge_states = {}   # (s, t) -> (old state, new state), states (relation, weight)
        for pair in sorted(set(edges_old) | set(edges_new)):
            a, b = edges_old.get(pair), edges_new.get(pair)
            if a != b:
                self.edge_states[pair] = (a, b)
                if not (set(pair) & appearing):
                    inputs.append(("edge", *pair))
        self.inputs = inputs
        union = nx.MultiDiGraph()
        union.add_nodes_from((n, {"credence": c}) for n, c in new.nodes(data="credence"))
        union.add_nodes_from((n, {"credence": old.nodes[n]["credence"]})
                             for n in nodes_old - nodes_new)
        # A changed edge enters with weight 0, under each relation it has on either side;
        # each mix of the changes gives it its weight.
        changed = self.edge_states
        edges = [(s, t, k, 0.0 if (s, t) in changed else w) for (s, t), (k, w) in edges_old.items()]
        edges += [(s, t, b[0], 0.0) for (s, t), (a, b) in changed.items()
                  if b is not None and (a is None or a[0] != b[0])]
        union.add_edges_from((s, t, k, {"relation": k, "weight": w}) for s, t, k, w in edges)
        self.system = build_system(union)
        self.zero = self.system.weight.copy()
        self.models = sorted(n for n in nodes_old & nodes_new
                             if new.nodes[n].get("kind") == "model"
                             and old.nodes[n].get("kind") == "model")
        self._rows = np.array([self.system.index[m] for m in self.models], dtype=np.intp)
        self.solves = 0
        self.converged = True
        self._cache = {}

    @staticmethod
    def _edges(graph):
        return {(s, t): (k, float(d["weight"])) for s, t, k, d in graph.edges(keys=True, data=True)}

    def strengths(self, applied):
        """Every node's strength (an array in ``system.ids`` order) with the changes in
        ``applied`` made and the others not."""
        from graph.solving.propagation import solve

        key = frozenset(applied)
        if key in self._cache:
            return self._cache[key]
        present = {n: (n in self.new) == (("node", n) in key) for n in self.appearing}
        system = self.system
        credences = {}
        for n in self.appearing:
            graph = self.new if n in self.new else self.old
            credences[n] = graph.nodes[n]["credence"]
        for item in self.inputs:
            if item[0] == "credence":
                graph = self.new if item in key else self.old
                credences[item[1]] = graph.nodes[item[1]]["credence"]
        weight = self.zero.copy()
        for pair, (a, b) in self.edge_states.items():
            if set(pair) & present.keys():
                state = (a or b) if all(present.get(n, True) for n in pair) else None
            else:
                state = b if ("edge", *pair) in key else a
            if state is not None:
                weight[system.edge_positions(pair[0], pair[1], state[0])] = state[1]
        s, info = solve(system.with_weights(weight), self.semantics, tolerance=self.tolerance,
                        base=system.base_vector(credences))
        self.solves += 1
        self.converged = self.converged and bool(info.converged)
        self._cache[key] = s
        return s

    def value(self, applied):
        """The strengths of the models both sides have, with ``applied`` made."""
        return self.strengths(applied)[self._rows]

    def label(self, item):
        """An input as the diff names it."""
        if item[0] == "node":
            n = item[1]
            if n in self.dated:   # on both sides, its date moved across --as-of
                return f"date of {n} ({'now' if n in self.new else 'no longer'} on or before " \
                       "--as-of)"
            return f"{'added' if n in self.new else 'removed'} {n}"
        if item[0] == "credence":
            n = item[1]
            return f"credence {n} {self.old.nodes[n]['credence']:g} -> " \
                   f"{self.new.nodes[n]['credence']:g}"
        a, b = (None if s is None else f"{s[0]} {s[1]:g}" for s in self.edge_states[item[1:]])
        edge = f"edge {item[1]} -> {item[2]}"
        return f"{edge} added ({b})" if a is None else f"{edge} removed ({a})" if b is None \
            else f"{edge} {a} -> {b}"


def _holder(item):
    """The node whose file holds an input (an edge is written in its source's file)."""
    return item[1]


def players(game, limit=EXACT_LIMIT):
    """The players of the Shapley game: the changed inputs, or, above ``limit``, groups of
    them; and how they were grouped (None when each input is its own player)."""
    inputs = game.inputs
    if len(inputs) <= limit:
        return [(item,) for item in inputs], None
    by_node = {}
    for item in inputs:
        by_node.setdefault(_holder(item), []).append(item)
    groups = [tuple(items) for _, items in sorted(by_node.items())]
    note = f"{len(inputs)} changed inputs grouped by the node whose file holds them"
    if len(groups) <= limit:
        return groups, note
    # Too many nodes: keep the groups that move the paths most on their own (alone, and as the
    # last change made), pool the rest.
    none, every = game.value(()), game.value(inputs)

    def reach(group):
        rest = [i for i in inputs if i not in group]
        return float(np.max(np.abs(game.value(group) - none), initial=0.0)
                     + np.max(np.abs(every - game.value(rest)), initial=0.0))
    ranked = sorted(groups, key=lambda g: (-reach(g), g))
    pooled = tuple(i for g in ranked[limit - 1:] for i in g)
    note += (f"; the {len(groups) - limit + 1} nodes whose changes move the paths least are "
             "pooled into one group")
    return ranked[:limit - 1] + [pooled], note


def attribute(game, limit=EXACT_LIMIT):
    """Exact Shapley values of the changes (or their groups) for each model both sides have.

    Returns
    -------
    (list, dict, str or None)
        The players, ``{player: array over game.models}`` and the grouping note.
    """
    groups, note = players(game, limit)
    if not groups:
        return groups, {}, note
    values, _, _ = shapley(lambda coalition: game.value([i for g in coalition for i in g]),
                           groups, exact_limit=len(groups))
    return groups, values, note


def _ranks(strengths):
    order = sorted(strengths, key=lambda n: (-strengths[n], n))
    return {n: i + 1 for i, n in enumerate(order)}


def ranking(old, new, *, semantics="qe", perspective=None, as_of=None, notes=(),
            dated=frozenset(), limit=EXACT_LIMIT, top=None):
    """Each path's strength before and after, and its change split among the changed inputs.

    Parameters
    ----------
    old, new : networkx.MultiDiGraph
        The graphs scored (:func:`effective_graph`), ``old`` with the new ids of renamed nodes.
    semantics, perspective, as_of, notes
        How they were made (recorded in the result) and the solver's semantics.
    dated : set
        Ids on both sides that ``as_of`` leaves out of one: their date changed.

    Returns
    -------
    dict
        ``{"semantics", "perspective", "as_of", "method", "grouping", "solves", "converged",
        "notes", "paths": [{"id", "title", "status", "before", "after", "change", "rank":
        {"before", "after"}, "parts": [{"input", "contribution"}]}], "inputs": [{"input",
        "members", "contributions": {model: c}, "total"}]}``. A path's parts add up to its
        change.
    """
    game = ChangeGame(old, new, semantics, dated=dated)
    groups, values, grouping = attribute(game, limit)
    s_old, s_new = game.strengths(()), game.strengths(game.inputs)
    index = game.system.index
    strength_old = {n: float(s_old[index[n]]) for n in old if old.nodes[n].get("kind") == "model"}
    strength_new = {n: float(s_new[index[n]]) for n in new if new.nodes[n].get("kind") == "model"}
    rank_old, rank_new = _ranks(strength_old), _ranks(strength_new)
    labels = {g: (game.label(g[0]) if len(g) == 1 else
                  (f"{len(g)} changes of {g[0][1]}" if len({_holder(i) for i in g}) == 1
                   else f"{len(g)} changes of {len({_holder(i) for i in g})} nodes"))
              for g in groups}
    column = {m: k for k, m in enumerate(game.models)}
    paths = []
    for m in sorted(set(strength_old) | set(strength_new),
                    key=lambda n: (rank_new.get(n, 10**9), rank_old.get(n, 10**9), n)):
        a, b = strength_old.get(m), strength_new.get(m)
        status = "added" if a is None else "removed" if b is None else \
            "kind changed" if m not in column else "kept"
        parts = []
        if m in column:
            parts = sorted(({"input": labels[g], "contribution": float(values[g][column[m]])}
                            for g in groups), key=lambda p: -abs(p["contribution"]))
            parts = [p for p in parts if abs(p["contribution"]) > 1e-12][:top]
        graph = new if b is not None else old
        paths.append({"id": m, "title": graph.nodes[m].get("title"), "status": status,
                      "before": a, "after": b,
                      "change": None if a is None or b is None else b - a,
                      "rank": {"before": rank_old.get(m), "after": rank_new.get(m)},
                      "parts": parts})
    inputs = []
    for g in groups:
        contributions = {m: float(values[g][column[m]]) for m in game.models}
        inputs.append({"input": labels[g], "members": [game.label(i) for i in g],
                       "contributions": contributions,
                       "total": sum(abs(c) for c in contributions.values())})
    inputs.sort(key=lambda r: (-r["total"], r["input"]))
    return {"semantics": semantics, "perspective": perspective or "base",
            "as_of": as_of.isoformat() if as_of else None,
            "method": "exact Shapley values" if groups else "nothing to attribute",
            "grouping": grouping, "solves": game.solves, "converged": game.converged,
            "notes": list(notes), "paths": paths, "inputs": inputs}


# ---- findings --------------------------------------------------------------------------------

def findings(side, semantics="qe", with_lint=True):
    """``check``'s problems (with the perspectives') and ``lint``'s warnings of a side:
    ``{key: text}``, the key leaving out line numbers so that a finding moved by an edit is the
    same finding."""
    out = {}
    root = Path(side.corpus.root)
    for p in side.corpus.problems + (side.perspective_problems() if not side.corpus.errors
                                     else []):
        rel = os.path.relpath(os.path.abspath(p.path), root)
        out[("check", rel, p.level, p.message)] = str(p)
    if with_lint and side.graph.number_of_nodes():   # what loaded: an error hides no finding
        strengths = side.corpus.score(semantics).strengths
        for w in lint(side.graph, strengths):
            # Keyed by the nodes, not the text: a contested node stays one finding when the
            # weights in its message move.
            out[("lint", w["check"], tuple(w["nodes"]))] = f"[{w['check']}] {w['message']}"
    return out


def finding_changes(before, after, semantics="qe", with_lint=True):
    """``{"introduced": [...], "removed": [...], "errors": {"before", "after"}}``: the
    findings of ``check`` and ``lint`` (unless ``with_lint`` is false) the change brings and
    those it clears."""
    a, b = findings(before, semantics, with_lint), findings(after, semantics, with_lint)
    return {"introduced": [b[k] for k in sorted(set(b) - set(a))],
            "removed": [a[k] for k in sorted(set(a) - set(b))],
            "errors": {"before": len(before.corpus.errors), "after": len(after.corpus.errors)}}


# ---- takeoff diff ----------------------------------------------------------------------------

def diff(root, revisions=(), *, semantics="qe", perspective=None, as_of=None,
         limit=EXACT_LIMIT, top=None, with_lint=True):
    """What a change did to the corpus at ``root``: ``takeoff diff``.

    Parameters
    ----------
    root : path
        The corpus folder (in a git repository when a revision is named).
    revisions : sequence of str
        None, one or two revisions or folders (see :func:`parse_revisions`).
    semantics, perspective, as_of
        How both sides are scored.
    limit : int
        Most players of the exact Shapley game (see :func:`players`).
    top : int, optional
        How many parts to list per path (all by default).
    with_lint : bool
        Compare ``lint``'s warnings too (on a 10,000-node corpus they cost about as much as
        the rest of the diff: bench/bench_diff.py).

    Returns
    -------
    dict
        ``{"before", "after": label, "structure": see :func:`structure`, "ranking": see
        :func:`ranking`, "findings": see :func:`finding_changes`, "summary": text}``.
    """
    before, after = open_sides(root, revisions)
    return compare_sides(before, after, semantics=semantics, perspective=perspective,
                         as_of=as_of, limit=limit, top=top, with_lint=with_lint)


def compare_sides(before, after, *, semantics="qe", perspective=None, as_of=None,
                  limit=EXACT_LIMIT, top=None, with_lint=True):
    """:func:`diff` of two loaded sides."""
    if perspective is not None and all(s.perspective(perspective)[0] is None
                                       for s in (before, after)):
        known = sorted(set(before.perspectives) | set(after.perspectives))
        raise TakeoffError(f"--perspective: neither side has a perspective {quote(perspective)} "
                           f"(known: {', '.join([BASE] + known)})")

    renames = find_renames(before, after)
    perspectives = _perspective_changes(before, after, renames)  # parsed with the old ids
    old, note_a = effective_graph(before, perspective, as_of)
    new, note_b = effective_graph(after, perspective, as_of)
    if old is not before.graph and renames:   # a copy of its own: renamed for good
        nx.relabel_nodes(old, renames, copy=False)
    with renamed(before.graph, renames):
        data = {"before": before.label, "after": after.label,
                "structure": {**structure(before, after, renames),
                              "perspectives": perspectives},
                "ranking": ranking(old, new, semantics=semantics, perspective=perspective,
                                   as_of=as_of, notes=[n for n in (note_a, note_b) if n],
                                   dated=(set(before.graph) & set(after.graph))
                                   - (set(old) & set(new)), limit=limit, top=top),
                "findings": {**finding_changes(before, after, semantics, with_lint),
                             "lint": with_lint}}
    data["summary"] = summary(data)
    return data


def summary(data):
    """One paragraph: how many nodes, edges and perspectives changed, and the largest moves."""
    s, r, f = data["structure"], data["ranking"], data["findings"]
    counts = [(len(s["added"]), "node(s) added"), (len(s["removed"]), "removed"),
              (len(s["renamed"]), "renamed"),
              (len({x["id"] for x in s["fields"]} | {x["id"] for x in s["sources"]}), "changed"),
              (len(s["edges"]), "edge change(s)"),
              (len(s["perspectives"]), "perspective change(s)")]
    parts = [f"{n} {what}" for n, what in counts if n]
    text = ", ".join(parts) if parts else "no change to the corpus"
    moved = sorted((p for p in r["paths"] if p["change"]), key=lambda p: -abs(p["change"]))
    if moved:
        text += "; " + ", ".join(f"{p['id']} {p['before']:.3f} -> {p['after']:.3f}"
                                 for p in moved[:3])
    leader = [p for p in r["paths"] if p["rank"]["after"] == 1]
    old_leader = [p for p in r["paths"] if p["rank"]["before"] == 1]
    if leader and old_leader and leader[0]["id"] != old_leader[0]["id"]:
        text += f"; {leader[0]['id']} now leads (was {old_leader[0]['id']})"
    if f["introduced"] or f["removed"]:
        text += f"; findings: {len(f['introduced'])} new, {len(f['removed'])} gone"
    return text


def to_markdown(data):
    """The diff as a pull-request comment: the summary and the ranking first, the details
    folded in ``<details>`` blocks."""
    r, s, f = data["ranking"], data["structure"], data["findings"]
    lines = [f"### takeoff diff: {_md(data['before'])} -> {_md(data['after'])}", "",
             _md(data["summary"]) + ".", ""]
    scope = f"semantics {r['semantics']}, perspective {r['perspective']}"
    if r["as_of"]:
        scope += f", as of {r['as_of']}"
    lines += ["| path | before | after | change | rank | main cause |",
              "|---|---:|---:|---:|---|---|"]
    moved = [p for p in r["paths"] if p["status"] != "kept" or abs(p["change"]) >= 5e-4
             or p["rank"]["before"] != p["rank"]["after"]]
    for p in moved:
        rank = f"{p['rank']['before'] or '-'} -> {p['rank']['after'] or '-'}"
        cause = f"{p['parts'][0]['contribution']:+.3f} {p['parts'][0]['input']}" \
            if p["parts"] else p["status"] if p["status"] != "kept" else ""
        lines.append(f"| {_md(p['id'])} | {_num(p['before'])} | {_num(p['after'])} | "
                     f"{_num(p['change'], '+.3f')} | {rank} | {_md(cause)} |")
    if len(moved) < len(r["paths"]):
        lines += [f"| {len(r['paths']) - len(moved)} other path(s) | | | +0.000 | same | |"]
    lines += ["", f"<sub>{scope}; {r['method']}, {r['solves']} solves"
                  f"{'; ' + _md(r['grouping']) if r['grouping'] else ''}</sub>", ""]
    if f["introduced"]:
        lines += [f"**{len(f['introduced'])} new finding(s)** of `takeoff check` / `lint`:", ""]
        lines += [f"- {_md(x)}" for x in f["introduced"]] + [""]
    blocks = [("What moved each path (Shapley parts of the change)", _md_parts(r)),
              ("Nodes", _md_nodes(s)), ("Edges", _md_rows(
                  ["edge", "change", "before", "after"],
                  [[f"{e['source']} -> {e['target']}", e["change"], e["old"], e["new"]]
                   for e in s["edges"]])),
              ("Sources", _md_rows(["node", "source", "change", "before", "after"],
                                   [[x["id"], x["url"], x["change"], x["old"], x["new"]]
                                    for x in s["sources"]])),
              ("Perspectives", _md_rows(["perspective", "change", "override", "before", "after"],
                                        [[x["name"], x["change"], x["override"], x["old"],
                                          x["new"]] for x in s["perspectives"]])),
              ("Findings cleared", "\n".join(f"- {_md(x)}" for x in f["removed"]))]
    for title, body in blocks:
        if body:
            lines += ["<details>", f"<summary>{title}</summary>", "", body, "", "</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md(text):
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _num(value, spec=".3f"):
    return "-" if value is None else format(value, spec)


def _md_rows(header, rows):
    if not rows:
        return ""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _md_nodes(s):
    rows = [[x["id"], "added", x["kind"] or "", x["title"] or ""] for x in s["added"]]
    rows += [[x["id"], "removed", x["kind"] or "", x["title"] or ""] for x in s["removed"]]
    rows += [[x["new"], "renamed", f"was {x['old']}", ""] for x in s["renamed"]]
    rows += [[x["id"], x["field"], x["old"], x["new"]] for x in s["fields"]]
    return _md_rows(["node", "change", "before", "after"], rows)


def _md_parts(r):
    rows = [[p["id"], f"{p['change']:+.6f}", f"{part['contribution']:+.6f}", part["input"]]
            for p in r["paths"] if p["parts"] for part in p["parts"]]
    return _md_rows(["path", "change", "part", "changed input"], rows)


# ---- takeoff log -----------------------------------------------------------------------------

def _touches(struct, node):
    """Whether a structural change touches ``node`` (its id after the change)."""
    return (any(x["id"] == node for key in ("added", "removed", "fields", "sources")
                for x in struct[key])
            or any(node in (e["source"], e["target"]) for e in struct["edges"])
            or any(x["new"] == node for x in struct["renamed"]))


def log(root, node=None, revisions=("HEAD",), *, max_count=None, semantics="qe",
        perspective=None, as_of=None):
    """The commits that changed the corpus at ``root`` (or ``node``, followed through renames),
    newest first, each with the ranking change it made: ``takeoff log``.

    Returns
    -------
    dict
        ``{"node", "semantics", "perspective", "commits": [{"commit", "short", "date",
        "subject", "id" (the node's id then, with ``node``), "changes": summary text,
        "paths": [{"id", "before", "after", "change", "rank": {"before", "after"}}]}],
        "series": {"commits": [short ids, oldest first], "strengths": {id: [strength or
        None]}}}``.
    """
    repo = Repository.of(root)
    reader = RevisionReader(repo, root)
    commits = repo.commits(_resolved(repo, revisions), max_count=max_count)
    current = node
    if node is not None and commits:
        head = reader.side(commits[0][0])
        if node not in head.graph:
            raise TakeoffError(f"ID: {unknown_id_message(node, head.graph)} at "
                               f"{head.label}")
    entries, scores = [], {}

    def strengths(side):
        """``({id: strength}, {id: kind})`` of every node of a side, scored once."""
        if side.commit not in scores:
            graph, _ = effective_graph(side, perspective, as_of)
            result = Corpus(side.corpus.root, graph).score(semantics)
            scores[side.commit] = (result.strengths, dict(graph.nodes(data="kind")))
        return scores[side.commit]

    def followed(side, ids):
        """The strengths ``log`` follows on a side: the models', or the node's (as ``ids``
        maps its id there to its latest id)."""
        values, kinds = strengths(side)
        if node is None:
            return {ids.get(n, n): v for n, v in values.items() if kinds[n] == "model"}
        return {ids[n]: v for n, v in values.items() if n in ids}

    for sha, parents in commits:
        after = reader.side(sha)
        before = reader.side(parents[0]) if parents else _empty_side(root, "(none)")
        renames = find_renames(before, after)
        with renamed(before.graph, renames):
            struct = structure(before, after, renames)
        struct["perspectives"] = _perspective_changes(before, after, renames)
        if current is not None and not _touches(struct, current):
            continue
        back = {new: old for old, new in renames.items()}
        if node is None:
            old_s, new_s = followed(before, renames), followed(after, {})
        else:
            old_s = followed(before, {back.get(current, current): node})
            new_s = followed(after, {current: node})
        paths = _moves(old_s, new_s)
        short, date, subject = repo.subject(sha)
        changes = summary({"structure": struct, "ranking": {"paths": []},
                           "findings": {"introduced": [], "removed": []}})
        entries.append({"commit": sha, "short": short, "date": date, "subject": subject,
                        "id": current, "changes": changes, "paths": paths})
        if current is not None:
            if any(x["id"] == current for x in struct["added"]):
                break
            current = back.get(current, current)
    return {"node": node, "semantics": semantics, "perspective": perspective or "base",
            "commits": entries, "series": _series(entries)}


def _resolved(repo, revisions):
    """git's arguments for ``revisions``: each one resolved, ``A..B`` as ``B ^A``."""
    resolved = []
    for rev in revisions:
        if ".." in rev:
            a, _, b = rev.partition("..")
            resolved += [repo.resolve(b or "HEAD"), "^" + repo.resolve(a or "HEAD")]
        else:
            resolved.append(repo.resolve(rev))
    return resolved


def _moves(old, new):
    """Each followed id's strength and rank before and after a commit (``{id: strength}``
    each side), in its new rank's order."""
    old_rank, new_rank = _ranks(old), _ranks(new)
    return [{"id": n, "before": old.get(n), "after": new.get(n),
             "change": None if n not in old or n not in new else new[n] - old[n],
             "rank": {"before": old_rank.get(n), "after": new_rank.get(n)}}
            for n in sorted(set(old) | set(new), key=lambda n: (new_rank.get(n, 10**9), n))]


def _series(entries):
    """Each followed id's strength after each commit, oldest first (None where absent)."""
    ids = sorted({p["id"] for e in entries for p in e["paths"]})
    chronological = entries[::-1]
    strengths = {n: [] for n in ids}
    for entry in chronological:
        after = {p["id"]: p["after"] for p in entry["paths"]}
        for n in ids:
            strengths[n].append(after.get(n))
    return {"commits": [e["short"] for e in chronological], "strengths": strengths}


def plot_log(data, path):
    """Draw each path's strength after each commit of a :func:`log` result to ``path``
    (``.png`` or ``.svg``), oldest commit first; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise TakeoffError(f"{path}: the plot file must end in .png or .svg")
    series = data["series"]
    x = list(range(len(series["commits"])))
    figure, axes = plt.subplots(figsize=(11, 5.5), layout="constrained")
    for node, values in series["strengths"].items():
        axes.plot(x, [float("nan") if v is None else v for v in values], marker="o",
                  markersize=3, linewidth=1.8, label=node)
    axes.set_xticks(x, series["commits"], rotation=60, fontsize=7, family="monospace")
    axes.set_ylim(0, 1)
    axes.set_ylabel(f"strength ({data['semantics']})")
    axes.set_xlabel("commit (oldest first)")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    axes.set_title("Strength of each takeoff path after each commit"
                   if data["node"] is None else f"Strength of {data['node']} after each commit")
    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    figure.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
    plt.close(figure)
    atomic_write(path, buffer.getvalue())
    return path


# ---- what a merge broke ----------------------------------------------------------------------

def merge_problems(corpus):
    """``corpus.problems`` with what the merge at ``HEAD`` (or in progress) broke named:
    an edge or perspective naming a node the other branch removed or renamed, and an id both
    branches added in different files, each with how to fix it
    (:func:`graph.files.validate.explain_merge`). Outside a repository, or when ``HEAD`` is no
    merge, the problems are returned as they are."""
    if not corpus.errors:
        return corpus.problems
    try:
        repo = Repository.of(corpus.root)
        heads = repo.merge_heads()
        if heads is None:
            return corpus.problems
        base = repo.merge_base(*heads)
        if base is None:
            return corpus.problems
        reader = RevisionReader(repo, corpus.root)
        old = reader.side(base)
        branches = []
        for head in heads:
            side = reader.side(head)
            renames = find_renames(old, side)
            gone = set(old.graph) - set(side.graph) - set(renames)
            added = {n: display_path(side.graph.nodes[n]["path"])
                     for n in set(side.graph) - set(old.graph) - set(renames.values())}
            branches.append({"name": side.label, "renamed": renames, "removed": gone,
                             "added": added})
    except GitError:
        return corpus.problems
    return explain_merge(corpus.problems, branches)
