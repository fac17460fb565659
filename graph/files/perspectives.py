"""Perspective files: named overlays of credences and edge weights, read and checked.

People who read the same evidence mostly part over a few numbers: how likely a claim is, how
much one node bears on another. A perspective writes those numbers down without touching the
corpus. It is a YAML file ``claims/perspectives/NAME.yaml``::

    # comments are kept when the tool edits the file
    description: The September 2024 view ...
    credences:                 # node id -> credence in [0, 1]
      naive-rlvr: 0.8
    weights:                   # edges that exist in the corpus -> weight in [0, 1]
      - source: o1-rl-scaling
        target: rl-returns-large
        weight: 1.0
        note: why this view weighs the edge so    # optional

A weight of 0 switches an edge off in the perspective (corpus edges have weights in (0, 1]).
The name ``base`` stands for the corpus as written (no overrides).

Changes to these files are :mod:`graph.files.perspective_edit`; scoring through them and
comparing two, :mod:`graph.explaining.perspective`.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from graph.core.limits import quote
from graph.core.model import (
    PERSPECTIVES_DIR, CorpusError, Problem, TakeoffError, did_you_mean, display_path, check_id,
    id_problem, unknown_id_message,
)
from graph.core.frontmatter import parse_front_marked
from graph.files.store import UnsafeFileError, is_perspective_file, read_text
from graph.files.validate import is_number


BASE = "base"


SUFFIX = ".yaml"


PERSPECTIVE_KEYS = ("description", "credences", "weights")


WEIGHT_KEYS = ("source", "target", "weight", "note")


class PerspectiveError(CorpusError):
    """A perspective file has errors; ``problems`` lists them as ``path:line: message``."""

    where = "the perspective"


@dataclass(frozen=True)
class Perspective:
    """A named overlay: credence overrides ``{id: x}`` and weight overrides
    ``{(source, target): w}``."""

    name: str
    description: str = ""
    credences: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    path: Path | None = None

    def overrides(self):
        """Every override as ``{item: value}``, an item being ``("credence", id)`` or
        ``("weight", source, target)``."""
        items = {("credence", n): x for n, x in self.credences.items()}
        items.update({("weight", s, t): w for (s, t), w in self.weights.items()})
        return items


def item_label(item):
    """``credence ID`` or ``weight SRC -> TARGET``."""
    return f"credence {item[1]}" if item[0] == "credence" else f"weight {item[1]} -> {item[2]}"


def base_value(graph, item):
    """The corpus's own value of an override item."""
    if item[0] == "credence":
        return graph.nodes[item[1]]["credence"]
    _, source, target = item
    return next(iter(graph[source][target].values()))["weight"]


def perspectives_dir(root):
    return Path(root) / PERSPECTIVES_DIR


def perspective_path(root, name):
    """The file of perspective ``name`` (checked to be a valid name)."""
    check_name(name)
    return perspectives_dir(root) / f"{name}{SUFFIX}"


def check_name(name):
    if name == BASE:
        raise TakeoffError(f"{quote(BASE)} is the corpus as written; choose another perspective name")
    check_id(name, "perspective name")


def perspective_names(root):
    """The names of the perspectives of the corpus at ``root``, sorted."""
    folder = perspectives_dir(root)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-len(SUFFIX)] for p in folder.iterdir()
                  if p.name.endswith(SUFFIX) and not p.name.startswith("."))


def load_perspective(corpus, name):
    """Perspective ``name`` of ``corpus``, checked against its graph.

    Parameters
    ----------
    corpus : graph.files.corpus.Corpus
        The corpus; the perspective may only name its nodes and edges.
    name : str
        A perspective name, or ``"base"`` (no overrides).

    Returns
    -------
    Perspective

    Raises
    ------
    TakeoffError
        No such perspective (the message suggests close names).
    PerspectiveError
        The file has errors; each is reported with its file and line.
    """
    if name == BASE:
        return Perspective(BASE, "the corpus as written")
    path = perspective_path(corpus.root, name)
    if not os.path.lexists(path):  # anything else there is refused by the read, with its path
        known = perspective_names(corpus.root)
        hint = (did_you_mean(name, known + [BASE], n=3, cutoff=0.5)
                or f"known: {', '.join([BASE] + known)}")
        raise TakeoffError(f"no perspective {quote(name)} in {display_path(perspectives_dir(corpus.root))} "
                           f"({hint})")
    perspective, problems = parse_perspective(perspective_text(corpus.root, path), path, corpus.graph)
    if problems:
        raise PerspectiveError(problems)
    return perspective


def perspective_text(root, path):
    """The text of a perspective file, by the guarded read."""
    return read_text(path, root)


def check_perspectives(corpus):
    """The problems of every perspective file of ``corpus`` (for ``takeoff check``)."""
    return perspective_problems(corpus)


def perspective_problems(corpus, overlay=None):
    """The problems of every perspective file of ``corpus``, reading the perspective files of
    ``overlay`` (``{path: text or None}``, as :func:`graph.files.edit.apply_change` takes) instead of
    the disk: what a write checks before it is made."""
    root = corpus.root
    texts = {os.path.abspath(p): t for p, t in (overlay or {}).items()
             if is_perspective_file(root, p)}
    # Named as on disk, not by perspective_path: a file whose name is not a slug is reported
    # by its path rather than stopping every write with a message naming no file.
    paths = {os.path.abspath(perspectives_dir(root) / f"{n}{SUFFIX}"): perspectives_dir(root) / f"{n}{SUFFIX}"
             for n in perspective_names(root)}
    paths.update({key: Path(key) for key in texts})
    problems = []
    for key in sorted(paths):
        path = paths[key]
        problem = id_problem(path.name[:-len(SUFFIX)], "perspective name")
        if problem:
            problems.append(Problem(display_path(path), 0, f"{problem}; rename the file"))
            continue
        try:
            text = texts[key] if key in texts else perspective_text(root, path)
        except UnsafeFileError as exc:
            problems.append(Problem(display_path(path), exc.line, exc.reason))
            continue
        if text is not None:
            problems += parse_perspective(text, path, corpus.graph)[1]
    return problems


def drop_overrides(corpus, nodes, edges):
    """Every perspective file rewritten without its overrides of ``nodes`` (credences, and
    weights of edges from or to them) and of ``edges`` (``(source, target)`` pairs).

    Returns
    -------
    (dict, list)
        ``{path: new text}`` for the files that change, and ``[(path:line, override)]`` for
        each override dropped.
    """
    # ruamel.yaml (slow to import) only where a file is rewritten: reading never needs it.
    from ruamel.yaml.comments import CommentedMap

    from graph.files.rewrite import round_trip_yaml

    nodes, edges = set(nodes), set(edges)
    changes, found = {}, []
    for name in perspective_names(corpus.root):
        path = perspective_path(corpus.root, name)
        try:
            text = perspective_text(corpus.root, path)
        except UnsafeFileError:
            continue  # a broken file is reported by the check that follows every write
        if parse_perspective(text, path, corpus.graph)[0] is None:
            continue  # the same; and ruamel.yaml must not read what the limits refuse
        data = round_trip_yaml().load(text)
        if not isinstance(data, CommentedMap):
            continue
        where = display_path(path)
        dropped = len(found)
        credences = data.get("credences")
        if isinstance(credences, CommentedMap):
            for node in [n for n in credences if n in nodes]:
                found.append((f"{where}:{credences.lc.key(node)[0] + 1}", f"credence {node}"))
                _delete_key(credences, node, data, "credences")
        weights = data.get("weights")
        if isinstance(weights, list):
            for i in reversed(range(len(weights))):
                entry = weights[i]
                if not isinstance(entry, CommentedMap):
                    continue
                pair = (entry.get("source"), entry.get("target"))
                if not all(isinstance(end, str) for end in pair):
                    continue  # not an edge at all: reported by the check that follows the write
                if pair in edges or pair[0] in nodes or pair[1] in nodes:
                    found.insert(dropped, (f"{where}:{weights.lc.item(i)[0] + 1}",
                                           f"weight {pair[0]} -> {pair[1]}"))
                    _delete_entry(weights, i, data, "weights")
        if len(found) > dropped:
            stream = io.StringIO()
            round_trip_yaml().dump(data, stream)
            changes[path] = stream.getvalue()
    return changes, found


class _Check:
    """Collects problems of one perspective file with the line of each."""

    def __init__(self, path):
        self.rel = display_path(path)
        self.problems = []

    def error(self, line, message):
        problem = Problem(self.rel, line, message)
        self.problems.append(problem)
        return problem


class _Marked:
    """A mapping or list parsed by the one loader, beside its YAML node (from
    :func:`graph.core.model.parse_front_marked`), which gives the line of each key and value."""

    def __init__(self, data, node):
        self.data = data
        self.node = node
        if isinstance(data, dict):
            pairs = node.value if isinstance(node, yaml.MappingNode) else []
            if len(pairs) == len(data):   # keys in file order (duplicates are refused)
                self._pairs = dict(zip(data, pairs))
            else:                         # a merge key (<<) moved some: find them by text
                by_text = {k.value: (k, v) for k, v in pairs if isinstance(k, yaml.ScalarNode)}
                self._pairs = {key: by_text.get(str(key), (node, node)) for key in data}

    def key_line(self, key):
        return self._pairs[key][0].start_mark.line + 1

    def value_line(self, key):
        return self._pairs[key][1].start_mark.line + 1

    def item_line(self, index):
        return self.node.value[index].start_mark.line + 1

    def child(self, key):
        """The value at ``key`` (a mapping key, or a list index), marked."""
        if isinstance(self.data, dict):
            return _Marked(self.data[key], self._pairs[key][1])
        return _Marked(self.data[key], self.node.value[key])


def _unknown_key(check, mapping, key, allowed):
    hint = did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}"
    check.error(mapping.key_line(key), f"unknown key {quote(key)} ({hint})")


def _read_yaml(check, text):
    """The perspective's YAML, parsed and composed by the one loader, or None (bad YAML
    recorded with its line)."""
    try:
        data, node = parse_front_marked(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        check.error(mark.line + 1 if mark else 1, f"bad YAML: {reason}")
        return None
    return _Marked({} if data is None else data, node)


def parse_perspective(text, path, graph):
    """Parse and check the text of a perspective file against a corpus graph.

    The file is read by the one YAML loader, as node files are
    (:func:`graph.core.model.parse_front_marked`: its node tree gives the lines).

    Parameters
    ----------
    text : str
        The YAML text.
    path : pathlib.Path
        The file (its name gives the perspective's name; messages name it).
    graph : networkx.MultiDiGraph
        The corpus graph the overrides must refer to.

    Returns
    -------
    (Perspective or None, list of graph.core.model.Problem)
        The perspective (None if the file cannot be read as one) and every problem found:
        bad YAML, unknown keys, unknown nodes or edges (with did-you-mean), values that are not
        numbers in [0, 1], an edge listed twice.
    """
    path = Path(path)
    check = _Check(path)
    data = _read_yaml(check, text)
    if data is None:
        return None, check.problems
    if not isinstance(data.data, dict):
        check.error(1, "a perspective must be a YAML mapping with the keys "
                       f"{', '.join(PERSPECTIVE_KEYS)}")
        return None, check.problems
    for key in data.data:
        if key not in PERSPECTIVE_KEYS:
            _unknown_key(check, data, key, PERSPECTIVE_KEYS)
    description = data.data.get("description")
    if description is not None and not isinstance(description, str):
        check.error(data.value_line("description"), "description must be text")
    credences = _check_credences(check, data, graph)
    weights, notes = _check_weights(check, data, graph)
    perspective = Perspective(path.name[:-len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem,
                              str(description or ""), credences, weights, notes, path)
    return perspective, check.problems


def _check_credences(check, data, graph):
    if data.data.get("credences") is None:
        return {}
    raw = data.child("credences")
    if not isinstance(raw.data, dict):
        check.error(data.value_line("credences"),
                    "credences must be a mapping of node id to a credence in [0, 1]")
        return {}
    credences = {}
    for node, value in raw.data.items():
        if not isinstance(node, str) or node not in graph:
            check.error(raw.key_line(node), f"credences: {unknown_id_message(node, graph)}")
        elif not is_number(value) or not 0 <= value <= 1:
            check.error(raw.value_line(node),
                        f"credence {quote(value)} of {quote(node)} must be a number in [0, 1]")
        else:
            credences[node] = float(value)
    return credences


def _check_weights(check, data, graph):
    if data.data.get("weights") is None:
        return {}, {}
    raw = data.child("weights")
    if not isinstance(raw.data, list):
        check.error(data.value_line("weights"),
                    "weights must be a list of {source, target, weight, note}")
        return {}, {}
    weights, notes, lines = {}, {}, {}
    for i, item in enumerate(raw.data):
        line = raw.item_line(i)
        if not isinstance(item, dict):
            check.error(line, f"weights entry {i + 1} must be a mapping with source, target, weight")
            continue
        entry = raw.child(i)
        pair = _check_weight_entry(check, entry, line, graph)
        if pair is None:
            continue
        if pair in weights:
            check.error(line, f"the edge {pair[0]} -> {pair[1]} is listed twice "
                              f"(first on line {lines[pair]})")
            continue
        weights[pair], lines[pair] = float(item["weight"]), line
        if item.get("note"):
            notes[pair] = str(item["note"])
    return weights, notes


def _check_weight_entry(check, marked, line, graph):
    """The (source, target) of a valid weights entry, else None (problems recorded)."""
    ok = True
    entry = marked.data
    for key in entry:
        if key not in WEIGHT_KEYS:
            _unknown_key(check, marked, key, WEIGHT_KEYS)
            ok = False
    for key in ("source", "target", "weight"):
        if key not in entry:
            check.error(line, f"weights entry has no {key}")
            ok = False
    if not ok:
        return None
    source, target, weight = entry["source"], entry["target"], entry["weight"]
    for key, node in (("source", source), ("target", target)):
        if not isinstance(node, str) or node not in graph:
            check.error(marked.value_line(key), f"{key}: {unknown_id_message(node, graph)}")
            ok = False
    if ok and not graph.has_edge(source, target):
        targets = sorted(graph.successors(source))
        hint = (did_you_mean(target, targets, n=3) or
                (f"its edges go to {', '.join(targets)}" if targets else f"{quote(source)} has no edges"))
        check.error(marked.value_line("target"),
                    f"the corpus has no edge {source} -> {target} ({hint})")
        ok = False
    if not is_number(weight) or not 0 <= weight <= 1:
        check.error(marked.value_line("weight"),
                    f"weight {quote(weight)} of {source} -> {target} must be a number in [0, 1]")
        ok = False
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        check.error(marked.value_line("note"), "note must be text")
        ok = False
    return (source, target) if ok else None


def _delete_key(mapping, key, parent, parent_key):
    """``del mapping[key]``, keeping the comment lines that stand before the next key.

    ruamel.yaml hangs the comment lines between two keys on the first (and those before the
    first key on the parent's key): deleting a key would take the next one's comments along.
    """
    keys = list(mapping)
    position = keys.index(key)
    column = mapping.lc.key(key)[1]
    token = (mapping.ca.items.get(key) or [None] * 4)[2]
    del mapping[key]
    _hand_on(mapping, keys[position - 1] if position else None, token, column, parent, parent_key)


def _delete_entry(entries, index, parent, parent_key):
    """``del entries[index]`` (a mapping in a list), keeping the comment lines that stand
    before the next entry (see :func:`_delete_key`)."""
    entry = entries[index]
    column = entries.lc.item(index)[1] - 2  # the dash's column
    token = (entry.ca.items.get(list(entry)[-1]) or [None] * 4)[2] if entry else None
    del entries[index]
    previous = entries[index - 1] if index > 0 else None
    if previous is None or (hasattr(previous, "ca") and previous):
        _hand_on(previous, list(previous)[-1] if previous else None, token, column, parent,
                 parent_key)


def _hand_on(mapping, key, token, column, parent, parent_key):
    """Fix the comments around a deleted item: the comment lines before it (held after
    ``mapping[key]``, the previous item, or with no ``key`` before ``parent[parent_key]``'s
    first item) went with it; the lines of its own ``token`` indented no deeper than
    ``column`` (its level: comments about the next item) take their place."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    lines = token.value.split("\n")[1:] if token is not None else []
    kept = [line for line in lines if line.strip() and len(line) - len(line.lstrip()) <= column]
    if key is None:
        slots = parent.ca.items.get(parent_key)
        if slots is not None:
            slots[3] = [CommentToken(line.strip() + "\n", CommentMark(column), None)
                        for line in kept] or None
        return
    slots = mapping.ca.items.setdefault(key, [None] * 4)
    own = slots[2].value.split("\n")[0] if slots[2] is not None else ""
    value = "\n".join([own] + kept) + "\n"
    mark = slots[2].start_mark if slots[2] is not None else (token.start_mark if token else None)
    slots[2] = CommentToken(value, mark, None) if value.strip() else None


def describe_perspective(corpus, name):
    """Perspective ``name`` as data: each override with the corpus value beside it.

    Returns
    -------
    dict
        ``{"name", "description", "path", "overrides": [{"override", "kind", "node" |
        "source"+"target", "base", "value", "note"}]}``.
    """
    perspective = load_perspective(corpus, name)
    rows = []
    for item, value in perspective.overrides().items():
        row = {"override": item_label(item), "kind": item[0],
               "base": base_value(corpus.graph, item), "value": value,
               "note": perspective.notes.get(item[1:], "") if item[0] == "weight" else ""}
        row.update({"node": item[1]} if item[0] == "credence" else
                   {"source": item[1], "target": item[2]})
        rows.append(row)
    return {"name": perspective.name, "description": perspective.description,
            "path": display_path(perspective.path) if perspective.path else None, "overrides": rows}


def list_perspectives(corpus):
    """Every perspective of ``corpus``: ``[{"name", "description", "credences", "weights",
    "problems"}]`` (counts of overrides; problems as ``path:line: message`` text)."""
    rows = []
    for name in perspective_names(corpus.root):
        path = perspective_path(corpus.root, name)
        perspective, problems = parse_perspective(perspective_text(corpus.root, path), path,
                                                  corpus.graph)
        rows.append({"name": name,
                     "description": perspective.description if perspective else "",
                     "credences": len(perspective.credences) if perspective else 0,
                     "weights": len(perspective.weights) if perspective else 0,
                     "problems": [str(p) for p in problems]})
    return rows
