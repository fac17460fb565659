"""Changes to the corpus: add, link, unlink, set, remove, import.

Every change runs the same cycle under the corpus lock: read the corpus, compute the new text
of each file it touches, load the corpus as it would be (an overlay, nothing on disk yet),
refuse if that adds an error, then replace each file atomically. Edits of existing files go
through ruamel.yaml's round-trip mode, so comments, key order and the body survive byte for byte
except for what changed.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from graph.core.limits import InputError, decode_text, quote
from graph.core.links import annotation_links, rename_links
from graph.core.model import (
    DATE_FORMS, EDITOR, KINDS, NODE_KEYS, RELATIONS, CorpusError, TakeoffError, check_id,
    id_problem, did_you_mean, display_path, parse_date, unknown_id_message,
)
from graph.core.frontmatter import parse_front
from graph.core.uncertainty import UncertaintyError, parse_distribution
from graph.files.config import MARKER, enclosing_corpus, marker_text
from graph.files.corpus import Corpus
from graph.files.perspectives import (
    drop_overrides, perspective_names, perspective_path, perspective_problems,
)
from graph.files.provenance import read_sources
from graph.files.rewrite import dump_rt, load_rt, round_trip_yaml
from graph.files.store import (
    UnsafeFileError, atomic_write, confine, corpus_file, corpus_lock,
    is_perspective_file, read_bytes, read_text, recover_locked, write_files,
)

SCALAR_FIELDS = ("kind", "evidence_kind", "title", "label", "credence", "date")
SETTABLE_FIELDS = SCALAR_FIELDS + ("tags", "body")


_PLAIN_WORD = re.compile(r"^[A-Za-z0-9_][\w .+/-]*$")


def _flow(items):
    """A list written on one line (``[a, b]``) when every item is a plain word; ruamel.yaml
    writes some other strings in flow style in a way that reads back differently."""
    seq = CommentedSeq(items)
    if all(isinstance(i, str) and _PLAIN_WORD.match(i) and i.strip() == i for i in items):
        seq.fa.set_flow_style()
    return seq


def node_front(kind, title, credence=None, date=None, tags=(), sources=(), edges=(),
               evidence_kind=None, label=None):
    """A new node's front matter in the canonical key order.

    ``edges`` holds ``(relation, target, weight, note)`` tuples, optionally with a fifth item,
    the edge's provenance ``{"from", "quote"}``; empty parts are left out.
    """
    data = CommentedMap(kind=kind)
    if evidence_kind is not None:
        data["evidence_kind"] = evidence_kind
    data["title"] = title
    if label is not None:
        data["label"] = label
    if credence is not None:
        data["credence"] = _number_or_distribution(credence)
    if date is not None:
        data["date"] = date
    if tags:
        data["tags"] = _flow(list(tags))
    if sources:
        data["sources"] = [_source_map(s) for s in sources]
    for relation in RELATIONS:
        entries = [_edge_map(*edge[1:]) for edge in edges if edge[0] == relation]
        if entries:
            data[relation] = entries
    return data


def _number_or_distribution(value):
    """A credence or weight as written: a number, or ``{mean: M, spread: S}`` on one line."""
    if not isinstance(value, dict):
        return value
    out = CommentedMap(value)
    out.fa.set_flow_style()
    return out


def _source_map(source):
    out = CommentedMap()
    for key in ("url", "title", "quote", "date"):
        if source.get(key) not in (None, ""):
            out[key] = source[key]
    return out


def _edge_map(target, weight, note, provenance=None):
    out = CommentedMap(target=target)
    if weight is not None:
        out["weight"] = _number_or_distribution(weight)
    if note:
        out["note"] = note
    for key in ("from", "quote"):
        if (provenance or {}).get(key):
            out[key] = provenance[key]
    return out


def apply_change(root, change, action):
    """Run ``change(corpus) -> {path: text or None}`` under the lock and write its result as
    one transaction (:func:`graph.files.store.write_files`): every file or none, even after a crash.

    ``path`` is a node file or a perspective file (``perspectives/NAME.yaml``); each must lie
    inside the corpus and be named by a valid id. The result is refused, and nothing is
    written, when the corpus it would leave, perspective files included, holds an error the
    corpus did not have before (so a broken corpus can still be mended one fix at a time).
    """
    root = Path(root)
    with corpus_lock(root):
        recover_locked(root)
        before = Corpus.load(root)
        overlay = {Path(p): t for p, t in change(before).items()}
        for path in overlay:
            corpus_file(root, path)
        nodes = {p: t for p, t in overlay.items() if not is_perspective_file(root, p)}
        after = Corpus.load(root, nodes) if nodes else before
        old = {_problem_key(p) for p in before.errors + perspective_problems(before)}
        new = [p for p in after.errors + perspective_problems(after, overlay)
               if _problem_key(p) not in old]
        if new:
            raise CorpusError(new, f"{action} refused, nothing was written")
        write_files(root, overlay)
        return after


def _problem_key(problem):
    """A problem without its line and trailing hint (a did-you-mean changes with the ids
    around it), to tell a new problem from one the corpus had before."""
    return problem.path, re.sub(r"\s*\([^()]*\)$", "", problem.message)


def _file_of(corpus, node_id):
    corpus.node(node_id)  # raises with a did-you-mean
    return Path(corpus.graph.nodes[node_id]["path"])


def _edit_file(path, edit, root):
    data, body = load_rt(read_text(path, root))
    body = edit(data, body)
    return dump_rt(data, body)


def _edit_node(root, node_id, edit, message, state):
    """Rewrite the file of ``node_id`` with ``edit(data, body)`` in one transaction; the
    :class:`Edit` holds ``state(attributes)`` of the node before and after."""
    before = {}

    def change(corpus):
        path = _file_of(corpus, node_id)
        before["state"] = state(corpus.graph.nodes[node_id])
        return {path: _edit_file(path, edit, corpus.root)}

    after = apply_change(root, change, message)
    return Edit(after, before["state"], state(after.graph.nodes[node_id]))


def new_node_path(root, kind, node_id):
    """The file of a new node: ``ROOT/KINDs/ID.md`` (or ``ROOT/KIND/ID.md``) if the corpus
    has such a folder, else ``ROOT/ID.md``.

    The one place a node path is made from an id: an id that is not a slug (``../x``, ``a/b``,
    ``/tmp/x``) is refused by name, and the path must stay inside the corpus once links are
    resolved.
    """
    root = Path(root)
    check_id(node_id)
    folders = (f"{kind}s", kind) if kind in KINDS else ()
    folder = next((root / name for name in folders if (root / name).is_dir()), root)
    return confine(root, folder / f"{node_id}.md")


def add_node(root, kind, node_id, title, *, credence=None, date=None, tags=(), sources=(),
             supports=(), undermines=(), body=""):
    """Create node ``node_id``; ``supports``/``undermines`` hold ``(target, weight, note)``
    triples (weight and note may be None)."""
    if kind not in KINDS:
        raise TakeoffError(f"unknown kind {quote(kind)} (one of {', '.join(KINDS)})")
    check_id(node_id)
    edges = [("supports", *edge) for edge in supports]
    edges += [("undermines", *edge) for edge in undermines]
    front = node_front(kind, title, credence, date, tags, [{"url": u} for u in sources], edges)
    text = dump_rt(front, body if not body or body.endswith("\n") else body + "\n")

    def change(corpus):
        if node_id in corpus.graph:
            raise TakeoffError(f"{quote(node_id)} already exists ({corpus.graph.nodes[node_id]['path']})")
        return {new_node_path(root, kind, node_id): text}

    return apply_change(root, change, f"add {node_id}")


@dataclass
class Edit:
    """What a change did: the corpus after it, and the values before and after (None: absent)."""

    corpus: Corpus
    old: object = None
    new: object = None
    touched: list = field(default_factory=list)


def _edge_entry(entries, target):
    """The index and mapping of the edge to ``target`` in a relation's list (None, None if absent);
    an edge written as a bare id becomes a mapping so that it can be edited."""
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if entry == target:
            entries[i] = CommentedMap(target=target)
            return i, entries[i]
        if isinstance(entry, dict) and entry.get("target") == target:
            return i, entry
    return None, None


def _edge_state(graph, source, target, relation):
    attrs = graph.get_edge_data(source, target, key=relation)
    if attrs is None:
        return None
    return {"relation": relation, "weight": attrs.get("weight"), "note": attrs.get("note"),
            **{k: attrs[k] for k in ("from", "quote") if k in attrs}}


def link(root, source, target, relation=None, *, weight=None, note=None, replace=False,
         by=None, words=None):
    """Add the edge ``source -relation-> target``, or update what is given of it if it exists.

    An edge of the other relation between the same nodes is refused unless ``replace``: then
    it becomes ``relation``, keeping its weight and note unless new ones are given. Without a
    ``relation`` the existing edge is updated, whichever it is (one intention, one command: a
    note on an edge needs no restating of its relation); a new edge needs one.

    ``by`` and ``words`` set the edge's ``from`` (whose argument it is) and ``quote``.

    Returns
    -------
    Edit
        ``old`` and ``new`` are ``{relation, weight, note}``, with ``from`` and ``quote`` if
        the edge has them (``old`` None for a new edge).
    """
    if relation is not None and relation not in RELATIONS:
        raise TakeoffError(f"unknown relation {quote(relation)} (one of {', '.join(RELATIONS)})")
    states = {}

    def edit(data, body):
        chosen, other = states["relation"], states["other"]
        _, moved = _edge_entry(data.get(other), target)
        if moved is not None:
            _drop_relation(data, other, target)
        _, entry = _edge_entry(data.get(chosen), target)
        if entry is None:
            entry = _edge_map(target, None, None)
            if moved is not None:
                entry.update((k, v) for k, v in moved.items() if k != "target")
            if chosen not in data:
                _insert_in_order(data, chosen, CommentedSeq())
            data[chosen].append(entry)
        if weight is not None:
            entry["weight"] = weight
        if note is not None:
            entry["note"] = note
        for key, value in (("from", by), ("quote", words)):
            if value is not None:
                entry[key] = value
        return body

    def change(corpus):
        path = _file_of(corpus, source)
        if target not in corpus.graph:
            raise TakeoffError(f"target: {unknown_id_message(target, corpus.graph)}")
        chosen = relation or next((r for r in RELATIONS
                                   if _edge_state(corpus.graph, source, target, r)), None)
        if chosen is None:
            raise TakeoffError(f"{source} has no edge to {target} yet: say --supports or "
                               "--undermines to add one")
        other = next(r for r in RELATIONS if r != chosen)
        states.update(relation=chosen, other=other)
        existing = _edge_state(corpus.graph, source, target, other)
        if existing is not None and not replace:
            raise TakeoffError(f"{source} already {other} {target}; an edge is either supports "
                               f"or undermines: add --replace to make it {chosen} instead")
        states["old"] = existing or _edge_state(corpus.graph, source, target, chosen)
        return {path: _edit_file(path, edit, corpus.root)}

    after = apply_change(root, change, f"link {source} {target}")
    return Edit(after, states["old"], _edge_state(after.graph, source, target, states["relation"]))


def _drop_relation(data, relation, target):
    entries = data[relation]
    index, _ = _edge_entry(entries, target)
    del entries[index]
    if not entries:
        del data[relation]


def unlink(root, source, target, *, force=False):
    """Remove every edge from ``source`` to ``target``; with ``force`` also the perspective
    overrides of their weight (else those refuse the change)."""

    def change(corpus):
        path = _file_of(corpus, source)
        if not corpus.graph.has_edge(source, target):
            raise TakeoffError(f"{quote(source)} has no edge to {quote(target)}")
        overlay = {path: _edit_file(path, lambda data, body: _drop_targets(data, {target}) or body,
                                    corpus.root)}
        overlay.update(_perspective_updates(corpus, (), {(source, target)}, force,
                                            "use --force"))
        return overlay

    return apply_change(root, change, f"unlink {source} {target}")


def _perspective_updates(corpus, nodes, edges, force, hint):
    """The perspective files rewritten without their overrides of ``nodes`` and ``edges``
    (with ``force``); without it, a refusal naming each override by file and line."""
    changes, found = drop_overrides(corpus, nodes, edges)
    if found and not force:
        lines = "\n".join(f"  {where}: {label}" for where, label in found)
        raise TakeoffError(f"perspectives override what this change removes ({hint} to drop "
                           f"those overrides too):\n{lines}")
    return changes


def _drop_targets(data, targets):
    """Remove the edges to ``targets`` from a front-matter mapping (in place)."""
    for relation in RELATIONS:
        entries = data.get(relation)
        if not isinstance(entries, list):
            continue
        for i in reversed(range(len(entries))):
            entry = entries[i]
            target = entry.get("target") if isinstance(entry, dict) else entry
            if target in targets:
                del entries[i]
        if not entries:
            del data[relation]


def parse_field_value(field, value):
    """The typed value of ``takeoff set ID FIELD VALUE`` (None removes an optional field)."""
    if field not in SETTABLE_FIELDS:
        hint = did_you_mean(field, SETTABLE_FIELDS)
        raise TakeoffError(f"FIELD: cannot set {quote(field)} ({hint + ' ' if hint else ''}"
                           f"one of {', '.join(SETTABLE_FIELDS)}; edges are changed with "
                           "`takeoff link` / `takeoff unlink`)")
    if field == "credence":
        if value.lstrip().startswith("{"):
            return _number_or_distribution(_distribution_value(value))
        try:
            number = float(value)
        except ValueError:
            raise TakeoffError(f"VALUE: credence {quote(value)} is not a number or a distribution "
                               "like '{mean: 0.7, spread: 0.1}'") from None
        if not 0 <= number <= 1:
            raise TakeoffError(f"VALUE: credence {quote(value)} must be in [0, 1]")
        return number
    if field == "date":
        if value.strip() == "":
            return None
        date = parse_date(value)
        if date is None:
            raise TakeoffError(f"VALUE: {quote(value)} is not an ISO date ({DATE_FORMS})")
        return date
    if field == "evidence_kind" and not value.strip():
        return None
    if field == "tags":
        tags = [t.strip() for t in value.split(",") if t.strip()]
        return _flow(tags) if tags else None
    if field == "kind" and value not in KINDS:
        raise TakeoffError(f"VALUE: unknown kind {quote(value)} (one of {', '.join(KINDS)})")
    if field == "title" and not value.strip():
        raise TakeoffError("VALUE: the title cannot be empty")
    if field == "label" and not value.strip():
        return None  # no label
    return value


def _distribution_value(text):
    """``{mean: 0.7, spread: 0.1}`` or ``{low: 0.5, high: 0.9}`` from the command line."""
    try:
        value = parse_front(text)   # the front matter's loader: same limits, same numbers
        if not isinstance(value, dict):
            raise UncertaintyError("not a mapping")
        return parse_distribution(value)[1]
    except (yaml.YAMLError, UncertaintyError) as exc:
        reason = str(exc).splitlines()[0]
        raise TakeoffError(f"VALUE: credence {quote(text)}: {reason}") from None


def set_field(root, node_id, field, value):
    """Set one scalar field, the tags (comma-separated) or the body of a node.

    Returns
    -------
    Edit
        The field's value before and after (None when absent).
    """
    typed = parse_field_value(field, value)

    def edit(data, body):
        if field == "body":
            return typed if not typed or typed.endswith("\n") else typed + "\n"
        if typed is None:
            data.pop(field, None)
        elif field in data:
            data[field] = typed
        else:
            _insert_in_order(data, field, typed)
        return body

    return _edit_node(root, node_id, edit, f"set {node_id} {field}",
                      lambda attrs: _field_as_written(attrs, field))


def _field_as_written(attrs, field):
    """A field's value as the file gives it: an uncertain credence as its distribution
    (``{mean: 0.7, spread: 0.1}``), not only the point the solver uses."""
    if field == "credence" and attrs.get("credence_dist"):
        return dict(attrs["credence_dist"])
    return attrs.get(field)


def _insert_in_order(data, key, value):
    """Insert a missing key where the canonical order puts it, among the keys present."""
    later = NODE_KEYS[NODE_KEYS.index(key) + 1:]
    keys = list(data.keys())
    position = next((i for i, k in enumerate(keys) if k in later), len(keys))
    data.insert(position, key, value)


def remove_node(root, node_id, *, force=False):
    """Delete a node's file; with ``force`` also the edges other nodes have to it and the
    perspective overrides of the node and its edges, in the same transaction."""

    def change(corpus):
        path = _file_of(corpus, node_id)
        sources = sorted({s for s, _ in corpus.graph.in_edges(node_id)})
        if sources and not force:
            raise TakeoffError(f"{quote(node_id)} is the target of edges from {', '.join(sources)}; "
                               "unlink them first or use --force to remove those edges too")
        overlay = {path: None}
        for source in sources:
            src_path = Path(corpus.graph.nodes[source]["path"])
            overlay[src_path] = _edit_file(
                src_path, lambda data, body: _drop_targets(data, {node_id}) or body, corpus.root)
        edges = set(corpus.graph.in_edges(node_id)) | set(corpus.graph.out_edges(node_id))
        overlay.update(_perspective_updates(corpus, {node_id}, edges, force,
                                            "use --force"))
        return overlay

    return apply_change(root, change, f"rm {node_id}")


def move_node(root, old, new):
    """Rename node ``old`` to ``new``: its file, every edge that names it and every perspective
    override that names it, in one change (all or nothing).

    Returns
    -------
    Edit
        ``old`` and ``new`` are the node's file paths, ``touched`` the other files rewritten.
    """
    if id_problem(new):
        raise TakeoffError(f"NEW: {id_problem(new)}")
    states = {}

    def rename(data, body):
        for relation in RELATIONS:
            _, mapping = _edge_entry(data.get(relation), old)
            if mapping is not None:
                mapping["target"] = new
        return rename_links(body, old, new)

    def change(corpus):
        path = _file_of(corpus, old)
        if new in corpus.graph:
            raise TakeoffError(f"NEW: {new!r} already exists "
                               f"({display_path(corpus.graph.nodes[new]['path'])})")
        new_path = path.with_name(f"{new}.md")
        if new_path.exists():
            raise TakeoffError(f"NEW: {display_path(new_path)} exists already")
        overlay = {path: None, new_path: _edit_file(path, rename, root)}
        linking = {n for n, body in corpus.graph.nodes(data="body")
                   if body and old in body and any(i == old for i, _ in annotation_links(body))}
        for source in sorted(({s for s, _ in corpus.graph.in_edges(old)} | linking) - {old}):
            src_path = Path(corpus.graph.nodes[source]["path"])
            overlay[src_path] = _edit_file(src_path, rename, root)
        overlay.update(_renamed_in_perspectives(root, old, new))
        states.update(old=path, new=new_path, touched=sorted(set(overlay) - {path, new_path}))
        return overlay

    after = apply_change(root, change, f"mv {old} {new}")
    return Edit(after, states["old"], states["new"], states["touched"])


def _renamed_in_perspectives(root, old, new):
    """``{path: text}`` of each perspective file that names ``old``, with ``new`` instead."""
    changed = {}
    for name in perspective_names(root):
        path = perspective_path(root, name)
        y = round_trip_yaml()
        text = read_text(path, root)  # the guarded read: a FIFO or a link out is refused
        try:  # the one loader's limits first: ruamel.yaml would expand every alias
            parse_front(text)
            data = y.load(text)
        except Exception:  # a broken perspective file is reported by validation, not renamed
            continue
        if not isinstance(data, dict):
            continue
        touched = False
        credences = data.get("credences")
        if isinstance(credences, CommentedMap) and old in credences:
            _rename_key(credences, old, new)
            touched = True
        for entry in data.get("weights") or []:
            for end in ("source", "target"):
                if isinstance(entry, dict) and entry.get(end) == old:
                    entry[end] = new
                    touched = True
        if touched:
            stream = io.StringIO()
            y.dump(data, stream)
            changed[path] = stream.getvalue()
    return changed


def _rename_key(mapping, old, new):
    """Rename a key in place, keeping its position and the comment on its line."""
    position = list(mapping.keys()).index(old)
    comment = mapping.ca.items.pop(old, None)
    mapping.insert(position, new, mapping.pop(old))
    if comment is not None:
        mapping.ca.items[new] = comment


def replace_node_text(root, node_id, text, *, expected=None):
    """Replace the whole file of node ``node_id`` with ``text`` (what ``takeoff edit`` saves).

    Refused, nothing written, if the result has a new error, or if ``expected`` is given and
    the file no longer holds it (another writer changed it meanwhile). The file keeps its path,
    so the node keeps its id.
    """

    def change(corpus):
        path = _file_of(corpus, node_id)
        if expected is not None and read_text(path, root) != expected:
            raise TakeoffError(f"{display_path(path)} changed while you edited it; "
                               "nothing was written")
        return {path: text}

    return apply_change(root, change, f"edit {node_id}")


def rejected_path(path):
    """Where ``takeoff edit`` keeps a refused text: beside the node file, but not a ``.md``
    file, so the corpus never reads it."""
    path = Path(path)
    return path.with_name(path.name + ".rej")


def editing_texts(root, path):
    """What ``takeoff edit`` needs of node file ``path``: its text, and the text to start
    from (the refused text kept in ``ID.md.rej``, else the same), both read with the guarded
    read; a ``.rej`` that is a link, or another user's, is refused, never followed."""
    original = read_text(path, root)
    rejected = rejected_path(path)
    if not os.path.lexists(rejected):
        return original, None
    data = read_bytes(rejected, root, state=True)
    try:
        return original, decode_text(data)
    except InputError as exc:
        raise UnsafeFileError(rejected, exc.message, exc.line) from None


def keep_rejected(path, text):
    """Keep a refused text in ``ID.md.rej`` (atomically), never through a link."""
    rejected = rejected_path(path)
    if os.path.islink(rejected):
        raise TakeoffError(f"{display_path(rejected)}: a symbolic link; refused")
    atomic_write(rejected, text)
    return rejected


def _find_source(entries, url):
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and str(entry.get("url", "")).strip() == url:
            return i, entry
    return None, None


def _source_state(attrs, url):
    return next((dict(s) for s in attrs.get("sources") or [] if s.get("url") == url), None)


def add_source(root, node_id, url, *, title=None, quote=None, date=None):
    """Add source ``url`` to a node, or update the given fields of that source.

    Returns
    -------
    Edit
        The source (``{url, title, quote, date}``) before (None if new) and after.
    """
    url = url.strip()

    def edit(data, body):
        if "sources" not in data or not isinstance(data["sources"], list):
            _insert_in_order(data, "sources", CommentedSeq())
        _, entry = _find_source(data["sources"], url)
        if entry is None:
            entry = CommentedMap(url=url)
            data["sources"].append(entry)
        for key, value in (("title", title), ("quote", quote), ("date", date)):
            if value is not None:
                entry[key] = value
        return body

    return _edit_node(root, node_id, edit, f"source add {node_id}",
                      lambda attrs: _source_state(attrs, url))


def remove_source(root, node_id, url):
    """Remove source ``url`` from a node (unknown URLs are refused with a did-you-mean)."""
    url = url.strip()

    def edit(data, body):
        index, _ = _find_source(data.get("sources"), url)
        del data["sources"][index]
        if not data["sources"]:
            del data["sources"]
        return body

    def change(corpus):
        path = _file_of(corpus, node_id)
        urls = [s.get("url") for s in corpus.graph.nodes[node_id].get("sources") or []]
        if url not in urls:
            hint = did_you_mean(url, urls, cutoff=0.5)
            listed = f"its sources: {', '.join(urls)}" if urls else "it has no sources"
            raise TakeoffError(f"URL: {node_id} has no source {url!r} ({hint or listed})")
        return {path: _edit_file(path, edit, corpus.root)}

    return apply_change(root, change, f"source rm {node_id}")


def node_text(attrs, out_edges):
    """The file text of a node from graph attributes and its ``(target, attrs)`` out-edges."""
    date = attrs.get("date")
    sources = [{**s, "date": _as_date(s.get("date"))} for s in attrs.get("sources") or []]
    edges = [(e.get("relation"), t, e.get("weight_dist") or e.get("weight"), e.get("note"),
              {k: e[k] for k in ("from", "quote") if e.get(k)}) for t, e in out_edges]
    front = node_front(attrs.get("kind"), attrs.get("title"),
                       attrs.get("credence_dist") or attrs.get("credence"),
                       _as_date(date), attrs.get("tags") or (), sources, edges,
                       evidence_kind=attrs.get("evidence_kind"), label=attrs.get("label"))
    return dump_rt(front, attrs.get("body") or "")


def _as_date(value):
    """ISO text becomes a date (written unquoted); anything else is kept for validation."""
    return (parse_date(value) or value) if isinstance(value, str) else value


def import_graph(root, graph, *, replace=False):
    """Write every node of a MultiDiGraph (corpus attributes) into the corpus as files.

    Ids that exist already are refused unless ``replace``; then their files are overwritten in
    place. The whole result is validated before anything is written.

    Returns
    -------
    Corpus
        The corpus after the import.
    """

    def change(corpus):
        declared.append(declare_sources(root, graph))
        clash = sorted(str(n) for n, attrs in graph.nodes(data=True) if attrs and n in corpus.graph)
        if clash and not replace:
            raise TakeoffError(f"ids already in the corpus: {', '.join(clash[:10])}"
                               f"{' ...' if len(clash) > 10 else ''} (use --replace to overwrite them)")
        stray = sorted({(str(s), str(t)) for s, t in graph.edges() if not graph.nodes[s]})
        if stray:  # its file is not rewritten: the edge would be lost without a word
            raise TakeoffError("edges from nodes the file does not define: "
                               + ", ".join(f"{s} -> {t}" for s, t in stray[:10])
                               + (" ..." if len(stray) > 10 else "")
                               + " (add them with `takeoff link`)")
        overlay = {}
        for node, attrs in graph.nodes(data=True):
            if not attrs:
                continue  # only named as an edge's target: an existing node, or an error below
            node = str(node)
            path = (Path(corpus.graph.nodes[node]["path"]) if node in corpus.graph
                    else new_node_path(root, attrs.get("kind"), node))
            out = [(str(t), e) for _, t, e in graph.out_edges(node, data=True)]
            overlay[path] = node_text(attrs, out)
        return overlay

    declared = []
    with _sources_kept_on_failure(root, declared):
        return apply_change(root, change, "import")


def declare_sources(root, graph):
    """Declare in the corpus's ``takeoff.toml`` every source the edges of ``graph`` name that
    it does not declare yet (an import or a pull brings edges whose ``from`` names them).

    A source keeps the fields the file carried (node-link, RDF and GraphML carry takeoff.toml's
    [sources]); one the file only names gets its id as its title, for the user to complete.

    Returns
    -------
    str or None
        The file's text before (``""`` if there was none), None if nothing was added.
    """
    marker = Path(root) / MARKER
    declared = read_sources(marker)[0]
    named = {e.get("from") for *_, e in graph.edges(data=True)} - {None, EDITOR} - set(declared)
    if not named:
        return None
    old = read_text(marker, root) if os.path.lexists(marker) else ""
    carried = graph.graph.get("sources") or {}
    lines = [old or marker_text(Path(root).resolve().name)]
    for source_id in sorted(named):
        fields = carried.get(source_id) or {"title": source_id}
        lines.append(f"\n[sources.{source_id}]  # declared by an import: the edges name it")
        lines += [f"{key} = {_toml_text(fields[key])}" for key in ("title", "url", "author", "date")
                  if fields.get(key) is not None]
    atomic_write(marker, "\n".join(line.rstrip("\n") for line in lines) + "\n")
    return old


def _toml_text(value):
    """``value`` (text or a date) as a TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value.isoformat() if hasattr(value, "isoformat") else str(value),
                      ensure_ascii=False)


@contextlib.contextmanager
def _sources_kept_on_failure(root, declared):
    """Put ``takeoff.toml`` back as it was if the change it was extended for is refused."""
    try:
        yield
    except BaseException:
        old = next((text for text in declared if text is not None), None)
        if old is not None:
            marker = Path(root) / MARKER
            if old:
                atomic_write(marker, old)
            else:
                marker.unlink(missing_ok=True)
        raise


def sync_corpus(root, graph, *, replace=False, normalize=None):
    """Make the corpus at ``root`` hold exactly ``graph`` (``takeoff pull``), in one change.

    Nodes are compared as ``normalize`` carries them (``takeoff pull`` passes
    :func:`graph.formats.rdf.as_published`, so formatting, comments and defaults written out
    do not count as differences); only nodes that differ are written, nodes missing from
    ``graph`` are deleted. A corpus that differs is refused unless ``replace``.

    Returns
    -------
    dict
        ``added``, ``changed``, ``removed`` (lists of ids) and ``unchanged`` (a count).
    """
    root = Path(root)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    summary = {}

    def record(g, node):
        edges = sorted((t, e["relation"], e["weight"], e["note"]) for _, t, e in g.out_edges(node, data=True))
        return {k: v for k, v in g.nodes[node].items() if k != "path"}, edges

    def change(corpus):
        declared.append(declare_sources(root, graph))
        local = corpus.graph
        seen = normalize(local) if normalize and len(local) else local
        added = sorted(n for n in graph if n not in seen)
        removed = sorted(n for n in seen if n not in graph)
        changed = sorted(n for n in graph if n in seen and record(graph, n) != record(seen, n))
        summary.update(added=added, changed=changed, removed=removed,
                       unchanged=len(graph) - len(added) - len(changed))
        if (changed or removed) and not replace:
            raise TakeoffError(
                f"{root}: {len(changed)} node(s) differ from the published graph and "
                f"{len(removed)} are not in it (e.g. {', '.join((changed + removed)[:5])}); "
                "pass --replace to overwrite them with the published version")
        overlay = {Path(local.nodes[n]["path"]): None for n in removed}
        for node in added + changed:
            attrs = graph.nodes[node]
            path = (Path(local.nodes[node]["path"]) if node in local
                    else new_node_path(root, attrs["kind"], node))
            overlay[path] = node_text(attrs, [(t, e) for _, t, e in graph.out_edges(node, data=True)])
        return overlay

    declared = []
    try:
        with _sources_kept_on_failure(root, declared):
            apply_change(root, change, "pull")
        _mark(root)   # a folder pull made is a corpus: commands run in it find it
    except BaseException:
        if created:  # the folder is this pull's own: a refused pull leaves no trace
            shutil.rmtree(root, ignore_errors=True)
        raise
    return summary


def _mark(folder):
    """Write ``folder``'s ``takeoff.toml`` if it has none (every command that makes a corpus
    marks it)."""
    marker = Path(folder) / MARKER
    if not os.path.lexists(marker):
        atomic_write(marker, marker_text(Path(folder).resolve().name))


def init_corpus(folder, *, example_from=None):
    """Create a corpus in ``folder``: its ``takeoff.toml``, and with ``example_from`` a copy of
    that corpus.

    ``folder`` may be missing or empty; a folder that already holds node files (a corpus made
    before ``takeoff.toml`` existed) is marked as a corpus if it loads without errors.
    """
    folder = Path(folder)
    marker = folder / MARKER
    if marker.exists():
        raise TakeoffError(f"{marker}: this folder is a corpus already")
    outer = enclosing_corpus(folder)
    if outer is not None:
        raise TakeoffError(f"{folder}: lies inside the corpus {outer} (marked by its "
                           f"{MARKER}), which would read the new corpus's files as its own "
                           "nodes; create the new corpus outside it")
    if folder.exists() and not folder.is_dir():
        raise TakeoffError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if example_from is not None:
            raise TakeoffError(f"{folder}: the folder exists and is not empty")
        existing = Corpus.load(folder)
        if existing.errors or not existing.graph:
            raise TakeoffError(f"{folder}: the folder exists and is not empty, and is not a "
                               "corpus (no valid node files); choose an empty or new folder")
    if example_from is not None:
        shutil.copytree(example_from, folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".takeoff.lock", ".takeoff", ".*.tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    _mark(folder)
    return folder
