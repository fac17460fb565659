"""Validation of node files, reported all at once as ``path:line: message`` problems.

Validation is two stages. :func:`check_file` checks one file on its own and gives its
:class:`Verdict`: the node's attributes, its edges, the file's own problems (with their lines)
and the links of its annotation. A verdict depends only on the file's bytes, its name and the
code, so the load cache (:mod:`graph.files.cache`) may keep it for a file that has not
changed. :func:`assemble` then checks what needs the whole corpus (duplicate ids, unknown
targets, self-loops, both relations to one target, undeclared sources, links to unknown ids,
arguments with no conclusion) on every load, and builds the graph in bulk.

Each file is parsed once (:func:`graph.core.model.parse_front`). Only a file that has a problem
is composed a second time, to find the line of the offending key, so a clean corpus pays
nothing for line numbers.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
import re
from urllib.parse import urlsplit

import yaml

from graph.core.frontmatter import compose_front, parse_front
from graph.core.limits import quote
from graph.core.links import annotation_links
from graph.core.model import (
    DATE_FORMS, DEFAULT_CREDENCE, DEFAULT_WEIGHT, EDGE_KEYS, EDITOR, EVIDENCE_KINDS,
    FIRST_YAML_LINE, KINDS, MAX_LABEL, NODE_KEYS, SOURCE_KEYS, Problem, did_you_mean, display_path,
    id_problem, parse_date, unknown_id_message,
)
from graph.core.uncertainty import UncertaintyError, parse_distribution
from graph.files.store import UnsafeFileError, read_node_file


class _Locator:
    """Finds the file line of a key path (``("supports", 2, "weight")``) in front matter.

    ``front`` is the text, or a function giving it (a verdict from the load cache has no text
    at hand: the file is read again only if a problem needs a line)."""

    def __init__(self, front, first_line):
        self.front = front
        self.first_line = first_line
        self._root = None

    def line(self, *keys):
        if self._root is None:
            front = self.front() if callable(self.front) else self.front
            try:
                self._root = compose_front(front or "")
            except yaml.YAMLError:   # changed since it was checked: the best line known
                return 1
        node, best = self._root, self._root.start_mark.line if self._root else 0
        for key in keys:
            node = self._child(node, key)
            if node is None:
                break
            best = node.start_mark.line
        return self.first_line + best

    @staticmethod
    def _child(node, key):
        if isinstance(node, yaml.MappingNode):
            return next((v for k, v in node.value if k.value == key), None)
        if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            return node.value[key]
        return None


class _FileCheck:
    """Collects the problems of one file as ``(line, message, level)``."""

    def __init__(self, front):
        self.problems = []
        self.locator = _Locator(front, FIRST_YAML_LINE)

    def error(self, message, *keys, line=None):
        self._add(message, keys, line, "error")

    def warn(self, message, *keys):
        self._add(message, keys, None, "warning")

    def warn_at(self, message, line):
        self._add(message, (), line, "warning")

    def _add(self, message, keys, line, level):
        if line is None:
            line = self.locator.line(*keys) if keys else 1
        self.problems.append((line, message, level))


_KNOWN = {keys: frozenset(keys) for keys in (NODE_KEYS, EDGE_KEYS, SOURCE_KEYS)}


def is_number(value):
    """A finite int or float, not a bool (YAML reads `true` as one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _unknown_keys(check, mapping, allowed, *where):
    if mapping.keys() <= _KNOWN[allowed]:
        return   # nearly always: nothing to look at key by key
    for key in mapping:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}"
            check.warn(f"unknown key {quote(key)} ({hint}); it is ignored", *where, key)


def _check_date(check, value, what, *keys):
    date = parse_date(value)
    if date is None:
        check.error(f"{what} {quote(value)} is not an ISO date ({DATE_FORMS})", *keys)
    return date


# An http(s) URL with a plain host name and no port, nothing to strip and no space: what
# urlsplit accepts below, at a fraction of its cost (nearly every source url is one).
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?:[/?#]\S*)?")


def _check_url(check, url, *keys):
    if type(url) is str and _PLAIN_URL.fullmatch(url):
        return True
    if not isinstance(url, str) or not url.strip():
        check.error("source has no url (each source needs a url, or, if it has no address, "
                    "a title that names it)", *keys)
        return False
    try:
        parsed = urlsplit(url.strip())
        parsed.port  # noqa: B018 (a port that is not a number raises ValueError here)
    except ValueError:  # an unclosed "[::1", a bracketed host that is not an address
        check.error(f"source url {quote(url)} is not a well-formed http(s) URL", *keys, "url")
        return False
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in url.strip()):
        check.error(f"source url {quote(url)} is not a well-formed http(s) URL", *keys, "url")
        return False
    return True


def _check_sources(check, raw):
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.error("sources must be a list of {url, title, quote, date}", "sources")
        return []
    sources = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            check.error(f"source {i + 1} must be a mapping with a url", "sources", i)
            continue
        _unknown_keys(check, item, SOURCE_KEYS, "sources", i)
        url = item.get("url")
        if url is None and isinstance(item.get("title"), str) and item["title"].strip():
            # A source known only by name (a livestream, a paper without an address in the
            # notes) is cited by its title; it has no link.
            source = {"url": None}
        else:
            ok = _check_url(check, url, "sources", i)
            source = {"url": url.strip() if ok else url}
        for key in ("title", "quote"):
            if item.get(key) is not None:
                if not isinstance(item[key], str):
                    check.error(f"source {key} must be text", "sources", i, key)
                source[key] = str(item[key])
        source["date"] = None
        if item.get("date") is not None:
            source["date"] = _check_date(check, item["date"], "source date", "sources", i, "date")
        sources.append(source)
    return sources


def _check_edges(check, fm, relation):
    """The edges a file lists under ``relation``: ``(target, relation, weight, note, extra,
    index)``, ``extra`` the edge's ``weight_dist``, ``from`` and ``quote`` when given (else
    None), ``index`` its place in the list (for the line of a later problem)."""
    raw = fm.get(relation)
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.error(f"{relation} must be a list of {{target, weight, note}}", relation)
        return []
    edges, seen = [], set()
    for i, item in enumerate(raw):
        if isinstance(item, str):
            item = {"target": item}
        if not isinstance(item, dict):
            check.error(f"{relation} entry {i + 1} must be a mapping with a target", relation, i)
            continue
        _unknown_keys(check, item, EDGE_KEYS, relation, i)
        target = item.get("target")
        if not isinstance(target, str) or not target:
            check.error(f"{relation} entry {i + 1} has no target id", relation, i)
            continue
        weight, weight_dist = item.get("weight", DEFAULT_WEIGHT), None
        if isinstance(weight, dict):
            weight, weight_dist = _check_distribution(
                check, weight, f"weight of the edge to {quote(target)}", (relation, i, "weight"))
            if weight is None:
                continue
        if not is_number(weight) or not 0 < weight <= 1:
            check.error(f"weight {quote(weight)} of the edge to {quote(target)} must be a number in (0, 1]",
                        relation, i, "weight")
            continue
        note = item.get("note", "")
        if note is None:
            note = ""
        if not isinstance(note, str):
            check.error(f"note of the edge to {quote(target)} must be text", relation, i, "note")
            continue
        provenance = _check_provenance(check, item, target, (relation, i))
        if provenance is None:
            continue
        if target in seen:
            check.error(f"{relation} lists {quote(target)} twice", relation, i)
            continue
        seen.add(target)
        extra = {"weight_dist": weight_dist} if weight_dist else {}
        extra.update(provenance)
        edges.append((target, relation, float(weight), note, extra or None, i))
    return edges


def _check_provenance(check, item, target, keys):
    """An edge's ``from`` (a source id, by the id rule) and ``quote`` (text) as edge
    attributes, only those given; None after an error. Whether the source is declared is a
    corpus-wide check (:func:`_add_edges`)."""
    out = {}
    source = item.get("from")
    if source is not None:
        if id_problem(source, "source id"):
            check.error(f"from of the edge to {quote(target)}: {id_problem(source, 'source id')} "
                        f"({EDITOR!r} for the editor's own reasoning)", *keys, "from")
            return None
        out["from"] = source
    words = item.get("quote")
    if words is not None:
        if not isinstance(words, str) or not words.strip():
            check.error(f"quote of the edge to {quote(target)} must be non-empty text", *keys, "quote")
            return None
        out["quote"] = words
    return out


def _check_evidence_kind(check, fm, kind):
    """The ``evidence_kind`` of an evidence node (None if absent); other kinds may not have one."""
    value = fm.get("evidence_kind")
    if value is None:
        return None
    if kind != "evidence":
        check.error(f"evidence_kind is for evidence only, and this node is a {quote(kind)}",
                    "evidence_kind")
        return None
    if value not in EVIDENCE_KINDS:
        hint = did_you_mean(value, EVIDENCE_KINDS) if isinstance(value, str) else None
        check.error(f"unknown evidence_kind {quote(value)} (one of {', '.join(EVIDENCE_KINDS)}"
                    f"{'; ' + hint if hint else ''})", "evidence_kind")
        return None
    return value


def _check_distribution(check, value, what, keys):
    """An uncertain credence or weight ``{mean, spread}`` / ``{low, high}``: (point, dist), or
    (None, None) after reporting why no Beta fits it."""
    try:
        return parse_distribution(value)
    except UncertaintyError as exc:
        check.error(f"{what}: {exc}", *keys)
        return None, None


def check_front(check, fm):
    """Validate one parsed front matter; returns (node attributes, edges) or None if unusable."""
    if not isinstance(fm, dict):
        check.error("front matter must be a YAML mapping of keys to values", line=FIRST_YAML_LINE)
        return None
    _unknown_keys(check, fm, NODE_KEYS)
    attrs = {}
    kind = fm.get("kind")
    if kind is None:
        check.error(f"missing kind (one of {', '.join(KINDS)})")
    elif kind not in KINDS:
        check.error(f"unknown kind {quote(kind)} (one of {', '.join(KINDS)})", "kind")
    attrs["kind"] = kind
    evidence_kind = _check_evidence_kind(check, fm, kind)
    if evidence_kind is not None:
        attrs["evidence_kind"] = evidence_kind
    title = fm.get("title")
    if not isinstance(title, str) or not title.strip():
        check.error("missing title" if title is None else "title must be non-empty text",
                    *(() if title is None else ("title",)))
    attrs["title"] = title if isinstance(title, str) else str(title or "")
    label = fm.get("label")
    if label is not None:
        if not isinstance(label, str) or not label.strip() or "\n" in label or len(label) > MAX_LABEL:
            check.error(f"label {quote(label)} must be one line of text, at most {MAX_LABEL} "
                        "characters", "label")
        else:
            attrs["label"] = label
    credence = fm.get("credence", DEFAULT_CREDENCE)
    if isinstance(credence, dict):
        credence, dist = _check_distribution(check, credence, "credence", ("credence",))
        if dist:
            attrs["credence_dist"] = dist
        credence = DEFAULT_CREDENCE if credence is None else credence
    elif not is_number(credence) or not 0 <= credence <= 1:
        check.error(f"credence {quote(credence)} must be a number in [0, 1]", "credence")
        credence = DEFAULT_CREDENCE
    attrs["credence"] = float(credence)
    attrs["date"] = None
    if fm.get("date") is not None:
        attrs["date"] = _check_date(check, fm["date"], "date", "date")
    elif kind == "evidence":
        check.error("evidence needs a date (when it was observed or published)")
    tags = fm.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        check.error("tags must be a list of text", "tags")
        tags = []
    attrs["tags"] = list(tags)
    attrs["sources"] = _check_sources(check, fm.get("sources"))
    edges = _check_edges(check, fm, "supports") + _check_edges(check, fm, "undermines")
    return attrs, edges


@dataclass(slots=True)
class Verdict:
    """One node file checked on its own: a function of its bytes, its name and the code.

    ``attrs`` are the node's attributes without ``path`` (None: the file gives no node),
    ``edges`` as :func:`_check_edges` gives them, ``problems`` the file's own ``(line, message,
    level)``, ``links`` the ``(target id, line)`` of its annotation's links, and ``front`` its
    front matter text (None when the load cache gave the verdict: the file is read again only
    if a problem found across files needs a line in it)."""

    attrs: dict | None
    edges: list
    problems: list
    links: list
    front: str | None = None

    @property
    def has_errors(self):
        return any(level == "error" for _, _, level in self.problems)


def check_file(nf):
    """Parse and check one node file (a :class:`graph.core.model.NodeFile`) on its own: its
    :class:`Verdict`."""
    check = _FileCheck(nf.front)
    if id_problem(nf.id):
        check.error(f"file name {quote(nf.path.name)}: {id_problem(nf.id)}; rename the file", line=1)
    if nf.front is None:
        check.error("no YAML front matter: the file must start with a '---' line and the "
                    "front matter must end with another '---' line", line=1)
        return Verdict(None, [], check.problems, [], nf.front)
    try:
        fm = parse_front(nf.front)
    except yaml.YAMLError as exc:
        # An unclosed bracket or quote is found at the end of the text; the construct it
        # belongs to (the context) is where the author has to look.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = FIRST_YAML_LINE + mark.line if mark else 1
        reason = "; ".join(filter(None, (getattr(exc, "context", None), getattr(exc, "problem", None))))
        check.error(f"bad YAML: {reason or str(exc).splitlines()[0]}", line=line)
        return Verdict(None, [], check.problems, [], nf.front)
    result = check_front(check, fm if fm is not None else {})
    if result is None:
        return Verdict(None, [], check.problems, [], nf.front)
    attrs, edges = result
    attrs["body"] = nf.body
    return Verdict(attrs, edges, check.problems, _links(nf), nf.front)


def _links(nf):
    """The ``[[id]]`` / ``[text](#id)`` links of a file's annotation, with their file lines."""
    links = annotation_links(nf.body)
    if not links:
        return []
    first_body_line = FIRST_YAML_LINE + nf.front.count("\n") + 1
    return [(target, first_body_line + line - 1) for target, line in links]


def build_graph(files, sources=None):
    """Check every file (:class:`graph.core.model.NodeFile`) and build the corpus graph;
    returns (MultiDiGraph, problems). See :func:`assemble`."""
    return assemble([(nf.path, nf.id, check_file(nf)) for nf in files], sources)


def assemble(files, sources=None):
    """The corpus graph from the verdicts of its files, with every check across files.

    Parameters
    ----------
    files : list of (path, id, Verdict)
        In the order the files were found: of two files with one id, the first wins.
    sources : dict, optional
        The declared sources (``{id: fields}``, from takeoff.toml's [sources]): each edge's
        ``from`` must name one of them or the editor. They are kept as
        ``graph.graph["sources"]``. Without them ``from`` is not checked.

    Returns
    -------
    (networkx.MultiDiGraph, list of Problem)
        The graph (edge keys are the relations) and the problems, file by file: each file's
        own, then those found across files.
    """
    import networkx as nx   # here: a load of unchanged files builds no graph (graph.files.columns)

    graph = nx.MultiDiGraph()
    if sources is not None:
        graph.graph["sources"] = dict(sources)
    declared = graph.graph.get("sources")
    # The graph is filled through its own dictionaries, as add_node / add_edge fill them
    # (tests/test_validate_assemble.py checks the result against theirs): add_edge costs
    # several microseconds an edge, most of a warm load of a large corpus.
    nodes, succ, pred = graph._node, graph._succ, graph._pred
    found = {}   # index in files -> [(line, message, level)] found across files
    pending, first_file = [], {}
    for i, (path, node_id, verdict) in enumerate(files):
        if node_id in first_file:
            found[i] = [(1, f"duplicate id {quote(node_id)}: {display_path(first_file[node_id])} "
                            "has it too", "error")]
            continue
        first_file[node_id] = path
        attrs = verdict.attrs
        if attrs is not None:
            attrs["path"] = path   # the verdict is this load's: its attributes become the node's
            nodes[node_id] = attrs
            succ[node_id] = {}
            pred[node_id] = {}
            pending.append(i)
    for i in pending:
        path, source, verdict = files[i]
        errors = _add_edges(graph, source, verdict.edges, declared) if verdict.edges else None
        if errors:
            locator = _Locator(verdict.front if verdict.front is not None
                               else lambda: _front_of(path), FIRST_YAML_LINE)
            found.setdefault(i, []).extend((locator.line(*keys), message, "error")
                                           for message, keys in errors)
        for target, line in verdict.links:
            if target not in nodes:
                found.setdefault(i, []).append((line, unknown_link(target, graph), "warning"))
        if not succ[source] and nodes[source]["kind"] == "argument":
            found.setdefault(i, []).append((1, no_conclusion(source), "warning"))
    problems = []
    for i, (path, _, verdict) in enumerate(files):
        if verdict.problems or i in found:
            where = display_path(path)
            problems += [Problem(where, line, message, level)
                         for line, message, level in (*verdict.problems, *found.get(i, ()))]
    return graph, problems


def unknown_link(target, ids):
    """The warning of an annotation's link to ``target``, an id not among ``ids``."""
    return f"annotation links to {unknown_id_message(target, ids)}"


def no_conclusion(node_id):
    """The warning of an argument that supports or undermines nothing."""
    return f"argument {node_id!r} has no conclusion: it supports or undermines nothing"


def _front_of(path):
    """The front matter of a file as it is now: a verdict from the load cache has none at
    hand, and the file is read again only when a problem needs a line in it."""
    try:
        return read_node_file(path).front
    except (UnsafeFileError, OSError):
        return None


def _add_edges(graph, source, edges, declared):
    """Add the edges of ``source`` whose targets exist; the others' ``(message, keys)``."""
    nodes, out, pred = graph._node, graph._succ[source], graph._pred
    relation_of, errors = {}, []
    for target, relation, weight, note, extra, index in edges:
        keys = (relation, index)
        if target == source:
            errors.append((f"{quote(source)} {relation} itself (self-loop)", keys))
        elif target not in nodes:
            errors.append((f"{relation} {unknown_id_message(target, graph)}", (*keys, "target")))
        elif target in relation_of:
            errors.append((f"{quote(source)} both supports and undermines {quote(target)}", keys))
        elif extra and (unknown := unknown_source(extra.get("from"), declared, target)):
            errors.append((unknown, (*keys, "from")))
        else:
            relation_of[target] = relation
            data = {"relation": relation, "weight": weight, "note": note}
            if extra:
                data.update(extra)
            keyed = {relation: data}
            out[target] = keyed
            pred[target][source] = keyed
    return errors


def unknown_source(source, declared, target):
    """Why an edge's ``from`` is neither the editor nor a declared source (None if it is)."""
    if source is None or declared is None or source == EDITOR or source in declared:
        return None
    choices = [EDITOR, *declared]
    hint = did_you_mean(source, choices, n=2, cutoff=0.5)
    return (f"edge to {quote(target)} is from unknown source {quote(source)} "
            f"({hint + ' ' if hint else ''}declare it in takeoff.toml as [sources.{source}] "
            f"with a title, or write from: {EDITOR})")


# ---- what a merge broke (takeoff check after `git merge`; graph/explaining/review.py finds the branches) --

# The messages of an unknown or duplicate id are made here (and, through the same
# unknown_id_message, for perspectives): the id is read back from them.
_UNKNOWN_ID = re.compile(r"unknown id '([a-z0-9-]+)'")
_DUPLICATE_ID = re.compile(r"^duplicate id '([a-z0-9-]+)'")


def explain_merge(problems, branches):
    """``problems`` with the ones a merge caused saying so and how to fix them.

    Parameters
    ----------
    problems : list of Problem
        What validation found in the merged corpus.
    branches : list of dict
        For each side of the merge, what it did since the merge base: ``{"name", "renamed":
        {old: new}, "removed": set of ids, "added": {id: file}}``.

    Returns
    -------
    list of Problem
        The same problems; a reference to an id one branch renamed or removed, and an id both
        branches added in different files, carry the cause and the fix.
    """
    return [dataclasses.replace(p, message=f"{p.message}; {hint}")
            if (hint := _merge_hint(p.message, branches)) else p for p in problems]


def _merge_hint(message, branches):
    duplicate = _DUPLICATE_ID.match(message)
    if duplicate:
        node = duplicate[1]
        added = [(b["name"], b["added"][node]) for b in branches if node in b["added"]]
        if len(added) < 2:
            return None
        return (f"the merge brought {quote(node)} twice: {added[0][0]} added {added[0][1]} and "
                f"{added[1][0]} added {added[1][1]}; keep one file (move the other's edges and "
                "sources into it, then delete it) or give one of them another id by renaming "
                "its file")
    unknown = _UNKNOWN_ID.search(message)
    if not unknown:
        return None
    node = unknown[1]
    for branch in branches:
        if node in branch["renamed"]:
            new = branch["renamed"][node]
            return (f"the merge broke it: {branch['name']} renamed {quote(node)} to "
                    f"{quote(new)}; write {quote(new)} here instead")
        if node in branch["removed"]:
            return (f"the merge broke it: {branch['name']} removed {quote(node)}; delete this "
                    "reference, or restore the node")
    return None
