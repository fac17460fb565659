"""Perspectives: named overlays of credences and edge weights, and how two of them compare.

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

:func:`compare` scores two perspectives and attributes each model's difference to the
overrides on which they differ, with Shapley values: the average change the override makes
when switched from the first perspective's value to the second's, over every order of switching
(exact when at most ``exact_limit`` overrides differ, else estimated from random orders).
:func:`shapley_reference` is the textbook sum over all orders, held to :func:`shapley` in the
tests.
"""
from __future__ import annotations

import dataclasses
import io
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from graph.limits import quote
from graph.model import (
    ID_PATTERN, PERSPECTIVES_DIR, CorpusError, Problem, TakeoffError, did_you_mean,
    display_path, parse_front, unknown_id_message,
)
from graph.validate import is_number

BASE = "base"
SUFFIX = ".yaml"
PERSPECTIVE_KEYS = ("description", "credences", "weights")
WEIGHT_KEYS = ("source", "target", "weight", "note")
EXACT_LIMIT = 12  # 2**12 solves take about a second on the bundled corpus
SAMPLES = 200


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


# ---- files -------------------------------------------------------------------------------

def perspectives_dir(root):
    return Path(root) / PERSPECTIVES_DIR


def perspective_path(root, name):
    """The file of perspective ``name`` (checked to be a valid name)."""
    check_name(name)
    return perspectives_dir(root) / f"{name}{SUFFIX}"


def check_name(name):
    if name == BASE:
        raise TakeoffError(f"{quote(BASE)} is the corpus as written; choose another perspective name")
    if not ID_PATTERN.match(name):
        raise TakeoffError(f"{quote(name)} is not a valid perspective name: use lower-case letters, "
                           "digits and single '-' (e.g. rlvr-optimist)")


def perspective_names(root):
    """The names of the perspectives of the corpus at ``root``, sorted."""
    folder = perspectives_dir(root)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-len(SUFFIX)] for p in folder.iterdir()
                  if p.name.endswith(SUFFIX) and not p.name.startswith("."))


def _yaml():
    from graph.edit import round_trip_yaml  # ruamel.yaml, only when a file is edited

    return round_trip_yaml()


def load_perspective(corpus, name):
    """Perspective ``name`` of ``corpus``, checked against its graph.

    Parameters
    ----------
    corpus : graph.model.Corpus
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
    perspective, problems = parse_perspective(_read(corpus.root, path), path, corpus.graph)
    if problems:
        raise PerspectiveError(problems)
    return perspective


def _read(root, path):
    from graph.store import read_text

    return read_text(path, root)


def check_perspectives(corpus):
    """The problems of every perspective file of ``corpus`` (for ``takeoff check``)."""
    return perspective_problems(corpus)


def perspective_problems(corpus, overlay=None):
    """The problems of every perspective file of ``corpus``, reading the perspective files of
    ``overlay`` (``{path: text or None}``, as :func:`graph.edit.apply_change` takes) instead of
    the disk: what a write checks before it is made."""
    from graph.store import UnsafeFileError, is_perspective_file

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
        if not ID_PATTERN.match(path.name[:-len(SUFFIX)]):
            problems.append(Problem(display_path(path), 0, "not a valid perspective name: use "
                                    "lower-case letters, digits and single '-' (rename the file)"))
            continue
        try:
            text = texts[key] if key in texts else _read(root, path)
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
    from ruamel.yaml.comments import CommentedMap

    from graph.store import UnsafeFileError

    nodes, edges = set(nodes), set(edges)
    changes, found = {}, []
    for name in perspective_names(corpus.root):
        path = perspective_path(corpus.root, name)
        try:
            text = _read(corpus.root, path)
        except UnsafeFileError:
            continue  # a broken file is reported by the check that follows every write
        if parse_perspective(text, path, corpus.graph)[0] is None:
            continue  # the same; and ruamel.yaml must not read what the limits refuse
        data = _yaml().load(text)
        if not isinstance(data, CommentedMap):
            continue
        where = display_path(path)
        dropped = len(found)
        credences = data.get("credences")
        if isinstance(credences, CommentedMap):
            for node in [n for n in credences if n in nodes]:
                found.append((f"{where}:{_key_line(credences, node)}", f"credence {node}"))
                _delete_key(credences, node, data, "credences")
        weights = data.get("weights")
        if isinstance(weights, list):
            for i in reversed(range(len(weights))):
                entry = weights[i]
                if not isinstance(entry, CommentedMap):
                    continue
                pair = (entry.get("source"), entry.get("target"))
                if pair in edges or pair[0] in nodes or pair[1] in nodes:
                    found.insert(dropped, (f"{where}:{weights.lc.item(i)[0] + 1}",
                                           f"weight {pair[0]} -> {pair[1]}"))
                    _delete_entry(weights, i, data, "weights")
        if len(found) > dropped:
            stream = io.StringIO()
            _yaml().dump(data, stream)
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


def _key_line(mapping, key):
    return mapping.lc.key(key)[0] + 1


def _value_line(mapping, key):
    return mapping.lc.value(key)[0] + 1


def _unknown_key(check, mapping, key, allowed):
    hint = did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}"
    check.error(_key_line(mapping, key), f"unknown key {quote(key)} ({hint})")


def parse_perspective(text, path, graph):
    """Parse and check the text of a perspective file against a corpus graph.

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
    (Perspective or None, list of graph.model.Problem)
        The perspective (None if the file cannot be read as one) and every problem found:
        bad YAML, unknown keys, unknown nodes or edges (with did-you-mean), values that are not
        numbers in [0, 1], an edge listed twice.
    """
    from ruamel.yaml import YAMLError
    from ruamel.yaml.comments import CommentedMap

    path = Path(path)
    check = _Check(path)
    try:  # the bounds of graph.limits first: ruamel.yaml would expand aliases and recurse
        parse_front(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        check.error(mark.line + 1 if mark else 1, f"bad YAML: {reason}")
        return None, check.problems
    try:
        data = _yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        check.error(mark.line + 1 if mark else 1, f"bad YAML: {reason}")
        return None, check.problems
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        check.error(1, "a perspective must be a YAML mapping with the keys "
                       f"{', '.join(PERSPECTIVE_KEYS)}")
        return None, check.problems
    for key in data:
        if key not in PERSPECTIVE_KEYS:
            _unknown_key(check, data, key, PERSPECTIVE_KEYS)
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        check.error(_value_line(data, "description"), "description must be text")
    credences = _check_credences(check, data, graph)
    weights, notes = _check_weights(check, data, graph)
    perspective = Perspective(path.name[:-len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem,
                              str(description or ""), credences, weights, notes, path)
    return perspective, check.problems


def _check_credences(check, data, graph):
    from ruamel.yaml.comments import CommentedMap

    raw = data.get("credences")
    if raw is None:
        return {}
    if not isinstance(raw, CommentedMap):
        check.error(_value_line(data, "credences"),
                    "credences must be a mapping of node id to a credence in [0, 1]")
        return {}
    credences = {}
    for node, value in raw.items():
        if not isinstance(node, str) or node not in graph:
            check.error(_key_line(raw, node), f"credences: {unknown_id_message(node, graph)}")
        elif not is_number(value) or not 0 <= value <= 1:
            check.error(_value_line(raw, node),
                        f"credence {quote(value)} of {quote(node)} must be a number in [0, 1]")
        else:
            credences[node] = float(value)
    return credences


def _check_weights(check, data, graph):
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    raw = data.get("weights")
    if raw is None:
        return {}, {}
    if not isinstance(raw, CommentedSeq):
        check.error(_value_line(data, "weights"),
                    "weights must be a list of {source, target, weight, note}")
        return {}, {}
    weights, notes, lines = {}, {}, {}
    for i, entry in enumerate(raw):
        line = raw.lc.item(i)[0] + 1
        if not isinstance(entry, CommentedMap):
            check.error(line, f"weights entry {i + 1} must be a mapping with source, target, weight")
            continue
        pair = _check_weight_entry(check, entry, line, graph)
        if pair is None:
            continue
        if pair in weights:
            check.error(line, f"the edge {pair[0]} -> {pair[1]} is listed twice "
                              f"(first on line {lines[pair]})")
            continue
        weights[pair], lines[pair] = float(entry["weight"]), line
        if entry.get("note"):
            notes[pair] = str(entry["note"])
    return weights, notes


def _check_weight_entry(check, entry, line, graph):
    """The (source, target) of a valid weights entry, else None (problems recorded)."""
    ok = True
    for key in entry:
        if key not in WEIGHT_KEYS:
            _unknown_key(check, entry, key, WEIGHT_KEYS)
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
            check.error(_value_line(entry, key), f"{key}: {unknown_id_message(node, graph)}")
            ok = False
    if ok and not graph.has_edge(source, target):
        targets = sorted(graph.successors(source))
        hint = (did_you_mean(target, targets, n=3) or
                (f"its edges go to {', '.join(targets)}" if targets else f"{quote(source)} has no edges"))
        check.error(_value_line(entry, "target"),
                    f"the corpus has no edge {source} -> {target} ({hint})")
        ok = False
    if not is_number(weight) or not 0 <= weight <= 1:
        check.error(_value_line(entry, "weight"),
                    f"weight {quote(weight)} of {source} -> {target} must be a number in [0, 1]")
        ok = False
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        check.error(_value_line(entry, "note"), "note must be text")
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


# ---- applying ----------------------------------------------------------------------------

def apply_perspective(graph, perspective):
    """A copy of ``graph`` with the perspective's credences and edge weights in place.

    Overrides of nodes or edges that ``graph`` lacks (e.g. left out by ``--as-of``) are
    skipped. The base perspective returns ``graph`` itself.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph; it is not modified.
    perspective : Perspective

    Returns
    -------
    networkx.MultiDiGraph
    """
    if not perspective.credences and not perspective.weights:
        return graph
    out = graph.copy()
    # An override is a point: it replaces the file's distribution too (see graph/uncertainty.py).
    for node, value in perspective.credences.items():
        if node in out:
            out.nodes[node]["credence"] = value
            out.nodes[node].pop("credence_dist", None)
    for (source, target), value in perspective.weights.items():
        if out.has_edge(source, target):
            for attrs in out[source][target].values():
                attrs["weight"] = value
                attrs.pop("weight_dist", None)
    return out


def scope(corpus, *, as_of=None, perspective=None):
    """``corpus`` seen through a perspective and as of a date: what ``--perspective`` and
    ``--as-of`` give every command.

    Parameters
    ----------
    corpus : graph.model.Corpus
    as_of : datetime.date, optional
        Leave out the nodes dated after this day (see :func:`graph.timeline.as_of_graph`).
    perspective : str or Perspective, optional
        A perspective name (or ``"base"``) or a loaded perspective.

    Returns
    -------
    graph.model.Corpus
        A corpus with the same root and problems whose graph is a changed copy (or the
        original graph if neither option is given).
    """
    from graph.timeline import as_of_graph

    graph = corpus.graph
    if perspective is not None:
        if isinstance(perspective, str):
            perspective = load_perspective(corpus, perspective)
        graph = apply_perspective(graph, perspective)
    graph = as_of_graph(graph, as_of)
    return dataclasses.replace(corpus, graph=graph)


# ---- comparing ---------------------------------------------------------------------------

def differing_overrides(graph, first, second):
    """``{item: (value under first, value under second)}`` for every override on which the
    two perspectives disagree (an item one of them leaves alone takes the corpus value)."""
    a, b = first.overrides(), second.overrides()
    out = {}
    for item in sorted(set(a) | set(b)):
        if item[0] == "weight" and not graph.has_edge(item[1], item[2]) or (
                item[0] == "credence" and item[1] not in graph):
            continue  # left out by --as-of
        va, vb = a.get(item, base_value(graph, item)), b.get(item, base_value(graph, item))
        if va != vb:
            out[item] = (va, vb)
    return out


class _Mixes:
    """The models' strengths under many mixes of override values, one column per mix, solved
    together by the engine (:class:`graph.batch.Engine`) on one system of the graph.

    A mix ``{item: value}`` becomes a column of credences and, if it changes weights, a column
    of weights (an edge override sets every parallel edge of its first relation, as
    :func:`apply_perspective` does); other items keep the corpus value. The corpus's own
    strengths are the reference, so a stage no override reaches is not solved again. That is
    what :func:`graph.propagation.score_graph` gives with the same overrides, to the tolerance
    (the tests hold the two together).
    """

    def __init__(self, graph, semantics, tolerance, models):
        from graph.batch import Engine
        from graph.propagation import build_system, solve

        self.graph, self.semantics, self.tolerance = graph, semantics, tolerance
        self.system = build_system(graph)
        self.engine = Engine(self.system)
        self.rows = [self.system.index[m] for m in models]
        self.reference, _ = solve(self.system, semantics, tolerance=tolerance)

    def solve(self, mixes):
        """``(strengths, converged)``: models x mixes, and per mix."""
        import numpy as np

        system = self.system
        base = np.repeat(system.base[:, None], len(mixes), axis=1)
        weighted = any(item[0] == "weight" for mix in mixes for item in mix)
        weights = np.repeat(system.weight[:, None], len(mixes), axis=1) if weighted else None
        for c, mix in enumerate(mixes):
            for item, value in mix.items():
                if item[0] == "credence":
                    base[system.index[item[1]], c] = value
                else:
                    relation = next(iter(self.graph[item[1]][item[2]]))
                    weights[system.edge_positions(item[1], item[2], relation), c] = value
        strengths = np.empty((len(self.rows), len(mixes)))
        converged = np.empty(len(mixes), dtype=bool)
        for cols in self.engine.batches(len(mixes)):
            S, converged[cols] = self.engine.solve(
                self.semantics, base=base[:, cols],
                weights=None if weights is None else weights[:, cols],
                reference=self.reference, tolerance=self.tolerance)
            strengths[:, cols] = S[self.rows]
        return strengths, converged


def batched_shapley(solve_many, players, **options):
    """:func:`shapley` with every coalition's value computed in one call.

    ``solve_many(list of frozensets) -> array (outputs x coalitions)``. :func:`shapley` asks
    for coalitions in an order fixed by its arguments (and seed), so a first pass with a
    recording game learns which it needs; they are solved together, and the second pass reads
    the answers. Returns what :func:`shapley` returns, and ``{coalition: value}`` of every
    coalition solved (the empty and the full one among them).
    """
    import numpy as np

    needed = {frozenset(): None, frozenset(players): None}
    shapley(lambda c: needed.setdefault(c) or np.zeros(1), players, **options)
    coalitions = list(needed)
    values = solve_many(coalitions)
    table = {c: values[:, j] for j, c in enumerate(coalitions)}
    return (*shapley(table.__getitem__, players, **options), table)


def shapley(value, players, *, exact_limit=EXACT_LIMIT, samples=SAMPLES, seed=0):
    """Shapley values of ``players`` in the game ``value``.

    Parameters
    ----------
    value : callable
        ``value(frozenset of players) -> numpy array`` (one number per output, here per model).
    players : sequence
        The players (here: the overrides on which two perspectives differ).
    exact_limit : int
        Up to this many players the values are exact: every coalition is evaluated
        (``2**n`` calls) and weighted by ``|S|! (n - |S| - 1)! / n!``. Above it they are
        estimated from ``samples`` random orders of the players, taken in antithetic pairs (an
        order and its reverse), which cancels most of the noise when the game is close to
        additive (``samples * n`` calls at most).
    samples : int
        Random orders for the estimate (rounded up to an even number).
    seed : int
        Seed of the random orders, so that the estimate is reproducible.

    Returns
    -------
    (dict, dict or None, str)
        ``{player: numpy array}``; for the estimate, the standard error of each value
        (``{player: numpy array}``, from the spread over the antithetic pairs), else None; and
        the method: ``"exact"`` or ``"sampled"``. The values add up to
        ``value(all) - value(none)`` either way.

    References
    ----------
    L. S. Shapley, "A value for n-person games", 1953. Sampling by random orders: Castro,
    Gomez & Tejada, "Polynomial calculation of the Shapley value based on sampling", 2009;
    antithetic orders: Mitchell, Cooper, Frank & Holmes, "Sampling permutations for Shapley
    value estimation", JMLR 2022.
    """
    import numpy as np

    players = list(players)
    n = len(players)
    if n <= exact_limit:
        weights = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
                   for s in range(n)]
        totals = {p: 0.0 for p in players}
        for size in range(n):
            for coalition in itertools.combinations(players, size):
                before = value(frozenset(coalition))
                for p in players:
                    if p not in coalition:
                        gain = value(frozenset(coalition + (p,))) - before
                        totals[p] = totals[p] + weights[size] * gain
        return totals, None, "exact"
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range((samples + 1) // 2):
        order = rng.permutation(n)
        pair = [_marginals(value, players, o) for o in (order, order[::-1])]
        pairs.append({p: (pair[0][p] + pair[1][p]) / 2 for p in players})
    mean = {p: sum(x[p] for x in pairs) / len(pairs) for p in players}
    spread = {p: np.sqrt(sum((x[p] - mean[p]) ** 2 for x in pairs) / max(len(pairs) - 1, 1)
                         / len(pairs)) for p in players}
    return mean, spread, "sampled"


def _marginals(value, players, order):
    """Each player's marginal contribution when they join in ``order``."""
    out, coalition, before = {}, frozenset(), value(frozenset())
    for index in order:
        coalition = coalition | {players[index]}
        after = value(coalition)
        out[players[index]] = after - before
        before = after
    return out


def shapley_reference(value, players):
    """Exact Shapley values by averaging marginal contributions over all ``n!`` orders."""
    players = list(players)
    totals = {p: 0.0 for p in players}
    orders = list(itertools.permutations(players))
    for order in orders:
        coalition = frozenset()
        for p in order:
            totals[p] = totals[p] + value(coalition | {p}) - value(coalition)
            coalition = coalition | {p}
    return {p: t / len(orders) for p, t in totals.items()}


def _ranks(strengths, ids):
    order = sorted(ids, key=lambda n: (-strengths[n], n))
    return {n: i + 1 for i, n in enumerate(order)}


def compare(corpus, first, second, *, semantics="qe", tolerance=1e-9, as_of=None,
            exact_limit=EXACT_LIMIT, samples=SAMPLES, seed=0, top=3):
    """Compare two perspectives on the models of ``corpus``.

    Parameters
    ----------
    corpus : graph.model.Corpus
        A valid corpus.
    first, second : str or Perspective
        Perspective names (``"base"`` for the corpus as written) or loaded perspectives.
    semantics, tolerance
        As for :func:`graph.propagation.score_graph`.
    as_of : datetime.date, optional
        Compare the corpus as it stood on this day.
    exact_limit, samples, seed
        How the attribution is computed; see :func:`shapley`.
    top : int
        How many drivers to list per model.

    Returns
    -------
    dict
        ``{"first", "second": name, "semantics", "as_of", "method": "exact"|"sampled"|"none",
        "solves": int, "converged": bool, "rank_agreement": {"kendall_tau", "changed"},
        "models": [{"id", "title", "strength": {first, second}, "difference" (second - first),
        "rank": {first, second}, "drivers": [{"override", "contribution"}]}],
        "overrides": [{"override", "kind", "node" | "source"+"target", "values": {first,
        second}, "contributions": {model id: float}, "total": sum of absolute
        contributions}]}``, models in the first perspective's rank order, overrides by total.
        A model's contributions add up to its difference.

    Examples
    --------
    >>> first = compare(corpus, "rlvr-optimist", "bottlenecks-sceptic")["models"][0]
    >>> first["id"], round(first["difference"], 3)
    ('bottlenecks', 0.044)
    """
    import numpy as np

    from graph.timeline import as_of_graph

    p = first if isinstance(first, Perspective) else load_perspective(corpus, first)
    q = second if isinstance(second, Perspective) else load_perspective(corpus, second)
    graph = as_of_graph(corpus.graph, as_of)
    models = sorted(n for n, kind in graph.nodes(data="kind") if kind == "model")
    differing = differing_overrides(graph, p, q)
    start = {item: a for item, (a, _) in differing.items()}
    shared = {i: v for i, v in p.overrides().items() if i not in differing and _in(graph, i)}
    mixes = _Mixes(graph, semantics, tolerance, models)
    converged = []

    def solve_many(coalitions):
        values, ok = mixes.solve([{**shared, **start, **{i: differing[i][1] for i in c}}
                                  for c in coalitions])
        converged.extend(ok.tolist())
        return values

    attribution, error, method, values = batched_shapley(
        solve_many, list(differing), exact_limit=exact_limit, samples=samples, seed=seed)
    if not differing:
        method = "none"
    s_first, s_second = values[frozenset()], values[frozenset(differing)]
    data = _comparison(graph, p, q, models, s_first, s_second, differing, attribution, method,
                       semantics, as_of, len(values), all(converged), top)
    data["standard_error"] = max((float(e.max()) for e in error.values()), default=0.0) \
        if error else None
    data["samples"] = samples if method == "sampled" else None
    return data


def _in(graph, item):
    return item[1] in graph if item[0] == "credence" else graph.has_edge(item[1], item[2])


def _comparison(graph, p, q, models, s_first, s_second, differing, attribution, method,
                semantics, as_of, solves, converged, top):
    first = dict(zip(models, map(float, s_first)))
    second = dict(zip(models, map(float, s_second)))
    rank_p, rank_q = _ranks(first, models), _ranks(second, models)
    overrides = []
    for item, (a, b) in differing.items():
        contributions = {m: float(c) for m, c in zip(models, attribution[item])}
        row = {"override": item_label(item), "kind": item[0], "values": {p.name: a, q.name: b},
               "contributions": contributions,
               "total": sum(abs(c) for c in contributions.values())}
        row.update({"node": item[1]} if item[0] == "credence" else
                   {"source": item[1], "target": item[2]})
        overrides.append(row)
    overrides.sort(key=lambda r: (-r["total"], r["override"]))
    rows = []
    for m in sorted(models, key=rank_p.get):
        drivers = sorted(((r["override"], r["contributions"][m]) for r in overrides),
                         key=lambda d: -abs(d[1]))
        rows.append({
            "id": m, "title": graph.nodes[m]["title"],
            "strength": {p.name: first[m], q.name: second[m]},
            "difference": second[m] - first[m], "rank": {p.name: rank_p[m], q.name: rank_q[m]},
            "drivers": [{"override": o, "contribution": c} for o, c in drivers[:top]
                        if abs(c) > 1e-12],
        })
    return {
        "first": p.name, "second": q.name, "semantics": semantics,
        "as_of": as_of.isoformat() if as_of else None, "method": method, "solves": solves,
        "converged": converged,
        "rank_agreement": {"kendall_tau": _kendall_tau([rank_p[m] for m in models],
                                                       [rank_q[m] for m in models]),
                           "changed": sum(rank_p[m] != rank_q[m] for m in models)},
        "models": rows, "overrides": overrides,
    }


def _kendall_tau(a, b):
    """Kendall's tau between two rankings without ties (1.0 = same order, -1.0 = reversed;
    None for fewer than two). Rankings are permutations, so tau-a is the whole formula; this
    saves importing scipy.stats (over a second) for a handful of models."""
    n = len(a)
    if n < 2:
        return None
    pairs = list(itertools.combinations(range(n), 2))
    concordant = sum(1 if (a[i] - a[j]) * (b[i] - b[j]) > 0 else -1 for i, j in pairs)
    return concordant / len(pairs)


# ---- writing -----------------------------------------------------------------------------

TEMPLATE = """\
# Perspective {name}: overrides of the corpus's credences and edge weights.
#   credences: node id -> credence in [0, 1]
#   weights:   a list of {{source, target, weight in [0, 1], note}} for edges of the corpus
# Edit with `takeoff perspective set {name} ...` or by hand; comments are kept.
description: {description}
"""


def new_perspective(root, name, description=""):
    """Create an empty perspective file ``claims/perspectives/NAME.yaml``.

    Returns
    -------
    pathlib.Path
        The new file.
    """
    from graph.edit import apply_change

    path = perspective_path(root, name)
    text = TEMPLATE.format(name=name, description=_yaml_scalar(description))

    def change(corpus):
        if os.path.lexists(path):
            raise TakeoffError(f"{display_path(path)} exists already")
        return {path: text}

    apply_change(root, change, f"perspective new {name}")
    return path


def _yaml_scalar(text):
    """``text`` as a one-line YAML scalar (quoted as needed)."""
    stream = io.StringIO()
    y = _yaml()
    y.dump({"d": text}, stream)
    return stream.getvalue()[len("d: "):].rstrip("\n")


def set_override(root, name, item, value):
    """Set one override in perspective ``name``: ``item`` is ``("credence", id)`` or
    ``("weight", source, target)``; ``value`` a number in [0, 1].

    The file is edited in round-trip mode (comments and order kept), checked, and replaced
    atomically under the corpus lock; on any error nothing is written.
    """
    _check_value(item, value)

    def edit(data, graph):
        _check_item(graph, item)
        if item[0] == "credence":
            credences = _block_map(data, "credences")
            credences[item[1]] = value
            return
        entries = _block_seq(data, "weights")
        entry = _find_weight(entries, item)
        if entry is None:
            from ruamel.yaml.comments import CommentedMap

            entries.append(CommentedMap(source=item[1], target=item[2], weight=value))
        else:
            entry["weight"] = value

    return _edit(root, name, edit, f"set {item_label(item)}")


def unset_override(root, name, item):
    """Remove one override from perspective ``name`` (see :func:`set_override`)."""

    def edit(data, graph):
        if item[0] == "credence":
            credences = data.get("credences")
            if not isinstance(credences, dict) or item[1] not in credences:
                raise TakeoffError(f"perspective {quote(name)} does not set {item_label(item)}")
            del credences[item[1]]
            return
        entries = data.get("weights")
        entry = _find_weight(entries if isinstance(entries, list) else [], item)
        if entry is None:
            raise TakeoffError(f"perspective {quote(name)} does not set {item_label(item)}")
        entries.remove(entry)

    return _edit(root, name, edit, f"unset {item_label(item)}")


def _check_value(item, value):
    if not is_number(value) or not 0 <= value <= 1:
        raise TakeoffError(f"VALUE: {item[0]} {quote(value)} must be a number in [0, 1]")


def _check_item(graph, item):
    for node in item[1:]:
        if node not in graph:
            raise TakeoffError(unknown_id_message(node, graph))
    if item[0] == "weight" and not graph.has_edge(item[1], item[2]):
        raise TakeoffError(f"the corpus has no edge {item[1]} -> {item[2]}")


def _find_weight(entries, item):
    return next((e for e in entries if isinstance(e, dict) and e.get("source") == item[1]
                 and e.get("target") == item[2]), None)


def _block_map(data, key):
    from ruamel.yaml.comments import CommentedMap

    if not isinstance(data.get(key), CommentedMap) or not data[key]:
        data[key] = CommentedMap()  # block style even if the file had `key: {}`
    return data[key]


def _block_seq(data, key):
    from ruamel.yaml.comments import CommentedSeq

    if not isinstance(data.get(key), CommentedSeq) or not data[key]:
        data[key] = CommentedSeq()
    return data[key]


def _edit(root, name, edit, action):
    """Read, edit in round-trip mode and rewrite a perspective file as a corpus transaction
    (:func:`graph.edit.apply_change`): refused, nothing written, if the result has an error
    the corpus did not have before, so a file broken by a corpus change can still be mended
    an override at a time."""
    from ruamel.yaml.comments import CommentedMap

    from graph.edit import apply_change

    path = perspective_path(root, name)

    def change(corpus):
        if not path.is_file():
            raise TakeoffError(f"no perspective {quote(name)} (create it with "
                               f"`takeoff perspective new {name}`)")
        text = _read(root, path)
        perspective, problems = parse_perspective(text, path, corpus.graph)
        if perspective is None:  # not YAML within the limits, or not a mapping: nothing to edit
            raise PerspectiveError(problems, f"{action} refused, nothing was written")
        data = _yaml().load(text)
        if data is None:
            data = CommentedMap()
        edit(data, corpus.graph)
        stream = io.StringIO()
        _yaml().dump(data, stream)
        return {path: stream.getvalue()}

    apply_change(root, change, action)
    return path


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
        perspective, problems = parse_perspective(_read(corpus.root, path), path,
                                                  corpus.graph)
        rows.append({"name": name,
                     "description": perspective.description if perspective else "",
                     "credences": len(perspective.credences) if perspective else 0,
                     "weights": len(perspective.weights) if perspective else 0,
                     "problems": [str(p) for p in problems]})
    return rows
