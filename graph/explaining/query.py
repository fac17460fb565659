"""Plain look-ups over a corpus graph: listing nodes and describing one node."""
from __future__ import annotations

from graph.core.links import annotation_links


def _iso(value):
    return value.isoformat() if value is not None else None


def list_nodes(graph, *, kind=None, tag=None):
    """Rows ``{id, kind, title, credence, date, tags}`` of the nodes, sorted by kind then id."""
    from graph.core.model import KINDS

    rows = [
        {"id": n, "kind": a["kind"], "title": a["title"], "credence": a["credence"],
         "date": _iso(a["date"]), "tags": list(a["tags"])}
        for n, a in graph.nodes(data=True)
        if (kind is None or a["kind"] == kind) and (tag is None or tag in a["tags"])
    ]
    return sorted(rows, key=lambda r: (KINDS.index(r["kind"]), r["id"]))


def _edge_rows(edges):
    return [{"source": s, "target": t, "relation": e["relation"], "weight": e["weight"],
             "note": e["note"], **{k: e[k] for k in ("from", "quote") if k in e}}
            for s, t, e in edges]


def describe_node(corpus, node_id, *, result=None):
    """Everything about one node: fields, sources, in- and out-edges, links, and its strength.

    ``result`` is a :class:`graph.solving.propagation.ScoreResult`; without one the corpus is scored
    with the default semantics.
    """
    attrs = corpus.node(node_id)
    graph = corpus.graph
    if result is None:
        result = corpus.score()
    return {
        "id": node_id, "kind": attrs["kind"], "title": attrs["title"],
        "credence": attrs["credence"], "credence_dist": attrs.get("credence_dist"),
        "strength": result.strengths[node_id], "evidence_kind": attrs.get("evidence_kind"),
        "semantics": result.semantics, "date": _iso(attrs["date"]), "tags": list(attrs["tags"]),
        "sources": [{**s, "date": _iso(s.get("date"))} for s in attrs["sources"]],
        "out": _edge_rows(graph.out_edges(node_id, data=True)),
        "in": _edge_rows(graph.in_edges(node_id, data=True)),
        "body": attrs["body"], "path": str(attrs["path"]),
        "links": [{"id": target, "exists": target in graph}
                  for target in dict.fromkeys(t for t, _ in annotation_links(attrs["body"]))],
    }
