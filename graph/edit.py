"""Changes to the corpus: add, link, unlink, set, remove, import.

Every change runs the same cycle under the corpus lock: read the corpus, compute the new text
of each file it touches, load the corpus as it would be (an overlay, nothing on disk yet),
refuse if that adds an error, then replace each file atomically. Edits of existing files go
through ruamel.yaml's round-trip mode, so comments, key order and the body survive byte for byte
except for what changed.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from graph.model import (
    DATE_FORMS, KINDS, MonthDate, NODE_KEYS, RELATIONS, Corpus, CorpusError, TakeoffError, parse_date,
    split_front_matter, unknown_id_message,
)
from graph.store import (
    check_id, confine, corpus_file, corpus_lock, is_perspective_file, read_text, recover_locked,
    write_files,
)

SCALAR_FIELDS = ("kind", "title", "credence", "date")
SETTABLE_FIELDS = SCALAR_FIELDS + ("tags", "body")


def round_trip_yaml():
    """ruamel.yaml set up the way every edited file is written (comments and order kept)."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never fold long titles or notes onto a second line
    # A month-precision date is written as its text (YYYY-MM), which reads back as one.
    y.representer.add_representer(
        MonthDate, lambda rep, value: rep.represent_str(value.isoformat()))
    return y


def load_rt(text):
    """Front matter as a round-trip mapping, and the body, of a node file's text."""
    front, body = split_front_matter(text)
    if front is None:
        raise TakeoffError("the file has no YAML front matter")
    data = round_trip_yaml().load(front)
    return (data if data is not None else CommentedMap()), body


def dump_rt(data, body):
    """The text of a node file from its front-matter mapping and body."""
    stream = io.StringIO()
    round_trip_yaml().dump(data, stream)
    return f"---\n{stream.getvalue()}---\n{body}"


_PLAIN_WORD = re.compile(r"^[A-Za-z0-9_][\w .+/-]*$")


def _flow(items):
    """A list written on one line (``[a, b]``) when every item is a plain word; ruamel.yaml
    writes some other strings in flow style in a way that reads back differently."""
    seq = CommentedSeq(items)
    if all(isinstance(i, str) and _PLAIN_WORD.match(i) and i.strip() == i for i in items):
        seq.fa.set_flow_style()
    return seq


def node_front(kind, title, credence=None, date=None, tags=(), sources=(), edges=()):
    """A new node's front matter in the canonical key order.

    ``edges`` holds ``(relation, target, weight, note)`` tuples; empty parts are left out.
    """
    data = CommentedMap(kind=kind, title=title)
    if credence is not None:
        data["credence"] = _number_or_distribution(credence)
    if date is not None:
        data["date"] = date
    if tags:
        data["tags"] = _flow(list(tags))
    if sources:
        data["sources"] = [_source_map(s) for s in sources]
    for relation in RELATIONS:
        entries = [_edge_map(t, w, n) for r, t, w, n in edges if r == relation]
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


def _edge_map(target, weight, note):
    out = CommentedMap(target=target)
    if weight is not None:
        out["weight"] = _number_or_distribution(weight)
    if note:
        out["note"] = note
    return out


def apply_change(root, change, action):
    """Run ``change(corpus) -> {path: text or None}`` under the lock and write its result as
    one transaction (:func:`graph.store.write_files`): every file or none, even after a crash.

    ``path`` is a node file or a perspective file (``perspectives/NAME.yaml``); each must lie
    inside the corpus and be named by a valid id. The result is refused, and nothing is
    written, when the corpus it would leave, perspective files included, holds an error the
    corpus did not have before (so a broken corpus can still be mended one fix at a time).
    """
    from graph.perspective import perspective_problems

    root = Path(root)
    with corpus_lock(root):
        recover_locked(root)
        before = Corpus.load(root)
        overlay = {Path(p): t for p, t in change(before).items()}
        for path, text in overlay.items():
            corpus_file(root, path, delete=text is None)
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


def _edit_file(path, edit, root=None):
    data, body = load_rt(read_text(path, root))
    body = edit(data, body)
    return dump_rt(data, body)


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
    """Create node ``node_id``; ``supports``/``undermines`` hold ``(target, weight)`` pairs."""
    if kind not in KINDS:
        raise TakeoffError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    check_id(node_id)
    edges = [("supports", t, w, None) for t, w in supports]
    edges += [("undermines", t, w, None) for t, w in undermines]
    front = node_front(kind, title, credence, date, tags, [{"url": u} for u in sources], edges)
    text = dump_rt(front, body if not body or body.endswith("\n") else body + "\n")

    def change(corpus):
        if node_id in corpus.graph:
            raise TakeoffError(f"{node_id!r} already exists ({corpus.graph.nodes[node_id]['path']})")
        return {new_node_path(root, kind, node_id): text}

    return apply_change(root, change, f"add {node_id}")


def link(root, source, target, relation, *, weight=None, note=None):
    """Add the edge ``source -relation-> target``, or update its weight and note if it exists."""
    if relation not in RELATIONS:
        raise TakeoffError(f"unknown relation {relation!r} (one of {', '.join(RELATIONS)})")

    def edit(data, body):
        entries = data.setdefault(relation, [])
        entry = next((e for e in entries if isinstance(e, dict) and e.get("target") == target), None)
        if entry is None:
            entries.append(_edge_map(target, weight, note))
        else:
            if weight is not None:
                entry["weight"] = weight
            if note is not None:
                entry["note"] = note
        return body

    def change(corpus):
        path = _file_of(corpus, source)
        if target not in corpus.graph:
            raise TakeoffError(f"target: {unknown_id_message(target, corpus.graph)}")
        return {path: _edit_file(path, edit, corpus.root)}

    return apply_change(root, change, f"link {source} {target}")


def unlink(root, source, target, *, force=False):
    """Remove every edge from ``source`` to ``target``; with ``force`` also the perspective
    overrides of their weight (else those refuse the change)."""

    def change(corpus):
        path = _file_of(corpus, source)
        if not corpus.graph.has_edge(source, target):
            raise TakeoffError(f"{source!r} has no edge to {target!r}")
        overlay = {path: _edit_file(path, lambda data, body: _drop_targets(data, {target}) or body,
                                    corpus.root)}
        overlay.update(_perspective_updates(corpus, (), {(source, target)}, force,
                                            "use --force"))
        return overlay

    return apply_change(root, change, f"unlink {source} {target}")


def _perspective_updates(corpus, nodes, edges, force, hint):
    """The perspective files rewritten without their overrides of ``nodes`` and ``edges``
    (with ``force``); without it, a refusal naming each override by file and line."""
    from graph.perspective import drop_overrides

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
        raise TakeoffError(f"FIELD: cannot set {field!r} (one of {', '.join(SETTABLE_FIELDS)}; "
                           "edges are changed with `takeoff link` / `takeoff unlink`)")
    if field == "credence":
        if value.lstrip().startswith("{"):
            return _number_or_distribution(_distribution_value(value))
        try:
            number = float(value)
        except ValueError:
            raise TakeoffError(f"VALUE: credence {value!r} is not a number or a distribution "
                               "like '{mean: 0.7, spread: 0.1}'") from None
        if not 0 <= number <= 1:
            raise TakeoffError(f"VALUE: credence {value!r} must be in [0, 1]")
        return number
    if field == "date":
        if value.strip() == "":
            return None
        date = parse_date(value)
        if date is None:
            raise TakeoffError(f"VALUE: {value!r} is not an ISO date ({DATE_FORMS})")
        return date
    if field == "tags":
        tags = [t.strip() for t in value.split(",") if t.strip()]
        return _flow(tags) if tags else None
    if field == "kind" and value not in KINDS:
        raise TakeoffError(f"VALUE: unknown kind {value!r} (one of {', '.join(KINDS)})")
    if field == "title" and not value.strip():
        raise TakeoffError("VALUE: the title cannot be empty")
    return value


def _distribution_value(text):
    """``{mean: 0.7, spread: 0.1}`` or ``{low: 0.5, high: 0.9}`` from the command line."""
    import yaml

    from graph.uncertainty import UncertaintyError, parse_distribution

    try:
        value = yaml.safe_load(text)
        if not isinstance(value, dict):
            raise UncertaintyError("not a mapping")
        return parse_distribution(value)[1]
    except (yaml.YAMLError, UncertaintyError) as exc:
        reason = str(exc).splitlines()[0]
        raise TakeoffError(f"VALUE: credence {text[:80]!r}: {reason}") from None


def set_field(root, node_id, field, value):
    """Set one scalar field, the tags (comma-separated) or the body of a node."""
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

    def change(corpus):
        path = _file_of(corpus, node_id)
        return {path: _edit_file(path, edit, corpus.root)}

    return apply_change(root, change, f"set {node_id} {field}")


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
            raise TakeoffError(f"{node_id!r} is the target of edges from {', '.join(sources)}; "
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


def node_text(attrs, out_edges):
    """The file text of a node from graph attributes and its ``(target, attrs)`` out-edges."""
    date = attrs.get("date")
    sources = [{**s, "date": _as_date(s.get("date"))} for s in attrs.get("sources") or []]
    edges = [(e.get("relation"), t, e.get("weight_dist") or e.get("weight"), e.get("note"))
             for t, e in out_edges]
    front = node_front(attrs.get("kind"), attrs.get("title"),
                       attrs.get("credence_dist") or attrs.get("credence"),
                       _as_date(date), attrs.get("tags") or (), sources, edges)
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
        clash = sorted(str(n) for n, attrs in graph.nodes(data=True) if attrs and n in corpus.graph)
        if clash and not replace:
            raise TakeoffError(f"ids already in the corpus: {', '.join(clash[:10])}"
                               f"{' ...' if len(clash) > 10 else ''} (use --replace to overwrite them)")
        overlay = {}
        for node, attrs in graph.nodes(data=True):
            if not attrs:
                continue  # only named as an edge's end: an existing node, or an error below
            node = str(node)
            path = (Path(corpus.graph.nodes[node]["path"]) if node in corpus.graph
                    else new_node_path(root, attrs.get("kind"), node))
            out = [(str(t), e) for _, t, e in graph.out_edges(node, data=True)]
            overlay[path] = node_text(attrs, out)
        return overlay

    return apply_change(root, change, "import")


def init_corpus(folder, *, example_from=None):
    """Create an empty corpus folder, or a copy of the corpus at ``example_from``."""
    import shutil

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise TakeoffError(f"{folder}: the folder exists and is not empty")
    if example_from is not None:
        shutil.copytree(example_from, folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".takeoff.lock", ".takeoff", ".*.tmp"))
    else:
        folder.mkdir(parents=True, exist_ok=True)
    return folder
