"""The report of docs/bundled-corpus.md: the bundled map's ranking and each path's evidence share,
under each semantics, for the essay's own edges, the sourced edges and the whole map, counting
observations only and every kind of evidence.

Run from the repository's root::

    python docs/bundled_corpus_report.py           # print the tables
    python docs/bundled_corpus_report.py --write   # and put them in docs/bundled-corpus.md

The numbers come from the same calls as ``takeoff score --by group --edges-from ...
--evidence-kinds ...`` (graph.files.provenance.filter_graph, then graph.solving.shares.strength_shares); the
script only chooses the views and lays out the table. It also writes the page's table of the
bundled perspectives (``takeoff score --perspective NAME [--as-of DATE]``). ``--write`` replaces
the text between each block's markers in the page, so the page holds no number the script did
not compute.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "bundled-corpus.md"
# Each block of generated text sits between "<!-- NAME: start -->" and "<!-- NAME: end -->".
BLOCKS = ("report", "evidence", "perspectives")
# How many evidence items the page lists (`takeoff evidence` lists them all).
TOP_ITEMS = 10
SEMANTICS = ("qe", "dfquad", "eb")
# (label, --edges-from): the essay's own argument; every edge some source makes (the essay,
# the research notes, the papers the notes report); the whole map, the editor's edges included.
EDGE_VIEWS = (
    ("essay's own edges (`--edges-from essay`)", "essay"),
    ("sourced edges (`--edges-from` every source but `editor`)", "sourced"),
    ("whole map", None),
)
# (label, --evidence-kinds): observations only (no forecast, no testimony); every kind.
KIND_VIEWS = (("observations only", ("observation",)), ("all evidence", None))


def views(graph):
    """Every (edge label, kind label, edges_from, evidence_kinds) the report covers."""
    from graph.core.model import EDITOR
    from graph.files.provenance import known_sources

    sourced = tuple(s for s in known_sources(graph) if s != EDITOR)
    for edge_label, edges in EDGE_VIEWS:
        edges_from = sourced if edges == "sourced" else (edges,) if edges else None
        for kind_label, kinds in KIND_VIEWS:
            yield edge_label, kind_label, edges_from, kinds


def rows(corpus):
    """One dict per (view, semantics): the paths ranked, each with strength and evidence share."""
    from graph.files.provenance import filter_graph
    from graph.solving.shares import strength_shares

    models = sorted(n for n, d in corpus.graph.nodes(data=True) if d["kind"] == "model")
    for edge_label, kind_label, edges_from, kinds in views(corpus.graph):
        graph = filter_graph(corpus.graph, edges_from=edges_from, evidence_kinds=kinds)
        for semantics in SEMANTICS:
            shares = strength_shares(graph, semantics)
            paths = [shares.row(m) | {"id": m} for m in models]
            paths.sort(key=lambda r: (-r["strength"], r["id"]))
            yield {"edges": edge_label, "kinds": kind_label, "semantics": semantics,
                   "edges_kept": graph.number_of_edges(), "converged": shares.converged,
                   "paths": paths}


def table(corpus):
    """The report as Markdown: one table per edge view, a row per path, a column per
    (semantics, evidence kinds); each cell the strength, the evidence share and the rank."""
    by_view = {}
    for row in rows(corpus):
        assert row["converged"], row
        by_view.setdefault(row["edges"], []).append(row)
    out = []
    for edge_label, columns in by_view.items():
        edges = sorted({c["edges_kept"] for c in columns})
        out.append(f"**{edge_label}** ({' / '.join(map(str, edges))} edges: observations only "
                   f"/ all evidence)\n")
        out.append("| path | " + " | ".join(f"{c['semantics']}, {c['kinds']}" for c in columns)
                   + " |")
        out.append("|---|" + "---:|" * len(columns))
        # Rows in the order of the last column (all evidence, eb) would hide nothing; the
        # first semantics with all evidence is the corpus's default view.
        order = [p["id"] for p in next(c for c in columns if c["kinds"] == KIND_VIEWS[-1][0]
                                        and c["semantics"] == SEMANTICS[0])["paths"]]
        for path in order:
            cells = []
            for c in columns:
                rank = [p["id"] for p in c["paths"]].index(path)
                p = c["paths"][rank]
                cells.append(f"{p['strength']:.3f} ({round(p['evidence'], 3) or 0.0:+.3f}) #{rank + 1}")
            out.append(f"| {path} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def evidence_table(corpus, semantics=SEMANTICS[0]):
    """The evidence items that move the paths most, on the whole map (``takeoff evidence``)."""
    from graph.solving.shares import evidence_effects

    data = evidence_effects(corpus.graph, semantics)
    first, second = data["top"]
    out = [f"| item | kind | gap {first} - {second} | what it does to the paths |",
           "|---|---|---:|---|"]
    for item in data["items"][:TOP_ITEMS]:
        moved = sorted(((v, m) for m, v in item["contributions"].items() if round(v, 3)),
                       key=lambda vm: -abs(vm[0]))
        effects = ", ".join(f"{m} {v:+.3f}" for v, m in moved)
        out.append(f"| {item['id']} | {item['evidence_kind']} | {round(item['gap'], 3) or 0.0:+.3f} "
                   f"| {effects} |")
    return "\n".join(out) + "\n"


# (label, perspective, as of): the views the page's perspectives table shows.
PERSPECTIVE_VIEWS = (
    ("the corpus as written", None, None),
    ("`essay-author`", "essay-author", None),
    ("`bottlenecks-sceptic`", "bottlenecks-sceptic", None),
    ("`rlvr-optimist`", "rlvr-optimist", None),
    ("the corpus, `--as-of 2024-09-30`", None, "2024-09-30"),
    ("`rlvr-optimist --as-of 2024-09-30`", "rlvr-optimist", "2024-09-30"),
)


def perspectives_table(corpus):
    """The paths ranked under each bundled perspective and date, each semantics (Markdown)."""
    from graph.core.model import parse_date
    from graph.explaining.perspective import scope
    from graph.solving.propagation import score_graph

    out = ["| view | " + " | ".join(SEMANTICS) + " |", "|---|" + "---|" * len(SEMANTICS)]
    for label, perspective, as_of in PERSPECTIVE_VIEWS:
        graph = scope(corpus, perspective=perspective,
                      as_of=as_of and parse_date(as_of)).graph
        models = [n for n, d in graph.nodes(data=True) if d["kind"] == "model"]
        cells = []
        for semantics in SEMANTICS:
            strengths = score_graph(graph, semantics).strengths
            ranked = sorted(models, key=lambda m: (-strengths[m], m))
            cells.append(", ".join(f"{m} {strengths[m]:.2f}" for m in ranked))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def write(blocks, page=PAGE):
    """Put each ``{name: text}`` between its markers in ``page`` (atomically)."""
    import os
    import tempfile

    new = page.read_text(encoding="utf-8")
    for name, text in blocks.items():
        start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
        head, rest = new.split(start, 1)
        _, tail = rest.split(end, 1)
        new = f"{head}{start}\n{text}{end}{tail}"
    fd, tmp = tempfile.mkstemp(dir=page.parent, prefix=".report-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, page)


def main(argv):
    from graph.files.corpus import Corpus

    corpus = Corpus.load(REPO / "claims")
    blocks = {"report": table(corpus), "evidence": evidence_table(corpus),
              "perspectives": perspectives_table(corpus)}
    for text in blocks.values():
        print(text)
    if "--write" in argv:
        write(blocks)


if __name__ == "__main__":
    main(sys.argv[1:])
