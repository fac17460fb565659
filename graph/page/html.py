"""Render the argument graph as one self-contained, offline, safe HTML page.

The page is built with pyvis (its ``Network`` holds the vis-network node and edge lists and the
options, and renders them through ``generate_html``) but avoids the traps of pyvis 0.3.2:

* its own template links Bootstrap and vis-network from CDNs in every mode, prints the heading
  unescaped and switches tooltips to ``innerHTML`` when a title contains ``href``; we render with
  our template (``graph/page/assets/page.html.j2``) in a Jinja environment with autoescape on, and
  inline the vis-network JS/CSS that pyvis bundles, so nothing is requested from another host;
* ``add_node``/``add_edge`` are quadratic and ``from_nx`` mutates its input; we fill
  ``Network.nodes``/``Network.edges`` directly and never hand it the user's graph.

Everything from the corpus reaches the page as JSON escaped for a ``<script>`` context and is put
into the DOM with ``textContent``. The Markdown annotations are rendered when a panel opens, by
markdown-it (the JavaScript library markdown-it-py ports, inlined from ``graph/page/assets``) with
raw HTML and images disabled and only http(s)/mailto links allowed: rendering 5,000 annotations
with markdown-it-py while writing the page took about 3 s on its own. A Content-Security-Policy
allows exactly the page's own four scripts (by hash) and no network access at all.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
import math
import pathlib
import re
from collections import Counter
from collections.abc import Mapping
from urllib.parse import urlsplit

import networkx as nx

from graph.core.model import DEFAULT_CREDENCE, DEFAULT_WEIGHT, gc_paused
from graph.core.uncertainty import describe
from graph.files.provenance import known_sources
from graph.files.store import atomic_write
from graph.solving.timeline import default_range, history, step_dates

ASSETS = pathlib.Path(__file__).with_name("assets")
TEMPLATE = "page.html.j2"
DEFAULT_TITLE = "Argument map"

#: Above this many nodes the page draws straight edges and shows labels (other than the takeoff
#: paths') and arrowheads only once zoomed in: that keeps the first draw of 5,000 nodes quick.
LARGE_GRAPH = 300

#: Shape and colours per node kind (vis-network ``groups``); the legend is drawn from these.
KIND_STYLE = {
    "model": {"shape": "diamond", "background": "#7c5cd6", "border": "#4b2f9e", "label": "Takeoff path (model)"},
    "claim": {"shape": "dot", "background": "#3a8fd0", "border": "#1f5f91", "label": "Claim"},
    "evidence": {"shape": "square", "background": "#f0b43c", "border": "#a8760f", "label": "Evidence"},
    "argument": {"shape": "hexagon", "background": "#8fd19e", "border": "#2a7a44", "label": "Argument (inference)"},
}
#: Colour and dash pattern per relation; undermines is dashed so it reads without colour too.
RELATION_STYLE = {
    "supports": {"color": "#2a9d56", "dashes": False},
    "undermines": {"color": "#d64541", "dashes": [7, 5]},
}
#: Node size = base + span * strength, per kind (the page's timeline replay uses the same rule).
NODE_SIZE = {"model": (16, 30), "claim": (8, 22), "evidence": (8, 22), "argument": (8, 22)}
#: The date slider replays monthly strengths, or quarterly ones past this many months.
TIMELINE_MAX_STEPS = 60
#: The side panel's "why" lists this many nodes; it is computed for graphs up to WHY_LIMIT nodes.
WHY_TOP = 6
WHY_LIMIT = LARGE_GRAPH
#: Labels are drawn from this size on screen (px; smaller ones are illegible) up to the largest.
LABEL_MIN_PX, LABEL_MAX_PX = 11, 22
_LABEL_CHARS = 56
_X_GAP, _Y_GAP, _ROW_GAP = 160.0, 240.0, 125.0


def render_html(graph, result, *, title=DEFAULT_TITLE, extra=None, perspectives=(), perspective=None):
    """Render the argument graph as a self-contained HTML page.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The corpus graph (node attributes ``kind, title, credence, date, tags, sources, body``;
        edge attributes ``relation, weight, note``). It is not modified.
    result : graph.solving.propagation.ScoreResult
        The scores to show; only ``.strengths`` ({id: float}) and ``.semantics`` are read.
    title : str, optional
        Page title and heading (shown as text, never as markup).
    extra : mapping, optional
        Further JSON-serialisable sections for the page (see `page_sections`). The page reads
        ``"why"`` ({id: [{"node": id, "impact": float, "gradient": float, "via": [id...]}]},
        listed in the side panel) and ``"timeline"`` ({"dates": [iso...], "strengths":
        {id: [float or None per date]}}, replayed by a date slider); other keys are embedded
        but unused.
    perspectives : iterable of graph.files.perspectives.Perspective, optional
        Overlays the page offers in its what-if (overrides of nodes or edges not in `graph` are
        left out).
    perspective : str, optional
        The name of the one selected when the page opens (its strengths are shown).

    Returns
    -------
    str
        The page. It requests nothing from any host: vis-network and all styles are inline.

    Examples
    --------
    >>> from graph.files.corpus import Corpus
    >>> corpus = Corpus.load("claims")
    >>> page = render_html(corpus.graph, corpus.score("qe"), title="My map")
    >>> page.startswith("<!DOCTYPE html>")
    True
    """
    return _render(graph, result, title=title, extra=extra, perspectives=perspectives,
                   perspective=perspective).generate_html()


def _render(graph, result, *, title=DEFAULT_TITLE, extra=None, perspectives=(), perspective=None):
    """The pyvis Network of `render_html`, ready for its ``generate_html``."""
    nodes = sorted(graph)
    net = _network(graph, nodes, result)
    net.heading = str(title)
    page = _page_data(graph, nodes, result, extra or {})
    page["perspectives"] = [_perspective_data(graph, p) for p in perspectives]
    page["perspective"] = perspective
    env = _environment()
    env.globals.update(_static_assets())
    env.globals["page"] = page
    env.globals["kind_style"] = KIND_STYLE
    env.globals["relation_style"] = RELATION_STYLE
    net.templateEnv = env
    net.path = TEMPLATE
    return net


def write_html(path, graph, result=None, *, semantics="qe", title=None, extra=None, sections=True,
               as_of=None, perspectives=(), perspective=None):
    """Score the graph if need be, render its page and write it atomically to `path`.

    This is what ``takeoff html`` runs.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (missing folders are created).
    graph : networkx.MultiDiGraph
        The corpus graph (see `render_html`).
    result : graph.solving.propagation.ScoreResult, optional
        Scores to show; by default ``score_graph(graph, semantics)``.
    semantics : str
        Semantics used when `result` is not given.
    title : str, optional
        Page title; default `DEFAULT_TITLE`.
    extra : mapping, optional
        Page sections added to (and overriding) those of `page_sections`.
    sections : bool
        Compute the optional page sections (timeline replay, why) with `page_sections`.
    as_of : datetime.date, optional
        The day the graph stands as of (``takeoff html --as-of``): the timeline ends there.
    perspectives, perspective
        The perspectives offered in the page and the one it opens with (see `render_html`).

    Returns
    -------
    dict
        ``{"path": absolute path, "nodes": int, "edges": int, "semantics": str,
        "bytes": int, "sections": [names of the optional sections embedded]}``.

    Examples
    --------
    >>> from graph.files.corpus import Corpus
    >>> write_html("map.html", Corpus.load("claims").graph)["path"]     # doctest: +SKIP
    '/home/me/map.html'
    """
    from graph.solving.propagation import score_graph

    # The history and the page make millions of small objects and no cycles: the cyclic
    # collector would take as long again, for nothing.
    with gc_paused():
        if result is None:
            result = score_graph(graph, semantics)
        page_extra = dict(page_sections(graph, result, as_of=as_of) if sections else {})
        page_extra.update(extra or {})
        net = _render(graph, result, title=DEFAULT_TITLE if title is None else title,
                      extra=page_extra, perspectives=perspectives, perspective=perspective)
        data = net.generate_html().encode("utf-8")
    path = pathlib.Path(path).absolute()
    atomic_write(path, data)
    # The counts of the page's own lists: a multigraph's number_of_edges walks every node.
    return {"path": str(path), "nodes": len(net.nodes), "edges": len(net.edges),
            "semantics": result.semantics, "bytes": len(data), "sections": sorted(page_extra)}


def page_sections(graph, result, *, as_of=None):
    """The optional sections of the page, computed by other modules.

    ``"timeline"``: the models' strengths at the end of each month (each quarter when that
    would be more than `TIMELINE_MAX_STEPS` steps) since the earliest dated node, from
    :func:`graph.solving.timeline.history`; the page's date slider replays them. Left out when no node
    is dated.

    ``"why"``: for every node, the `WHY_TOP` nodes with the largest removal impact on its
    strength, from :func:`graph.explaining.explain.why`. Left out above `WHY_LIMIT` nodes, where it would
    take seconds per takeoff path (``takeoff why ID`` answers for one node).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    result : graph.solving.propagation.ScoreResult
        The scores of `graph`; its semantics is used for the history.
    as_of : datetime.date, optional
        Last day of the timeline; default today (or the latest dated node, if later).

    Returns
    -------
    dict
        Sections for `render_html`'s `extra`.
    """
    sections = {}
    span = default_range(graph)
    if span is not None and (as_of is None or span[0] <= as_of):
        span = (span[0], as_of or span[1])
        step = "month" if len(step_dates(*span, "month")) <= TIMELINE_MAX_STEPS else "quarter"
        data = history(graph, start=span[0], end=span[1], step=step, semantics=result.semantics,
                       system=result.system)
        sections["timeline"] = {"dates": data["dates"], "strengths": data["strengths"], "step": step}
    if graph.number_of_nodes() <= WHY_LIMIT:
        sections["why"] = _why_section(graph, result)
    return sections


def _why_section(graph, result):
    from graph.explaining.explain import why

    section = {}
    for node in sorted(graph):
        rows = why(graph, node, result.semantics, top=WHY_TOP, result=result)
        rows.sort(key=lambda row: -abs(row["impact"]))  # the order of the number shown
        if rows:
            section[node] = [{"node": r["id"], "impact": _round(r["impact"]),
                              "gradient": _round(r["gradient"]), "via": r["chain"]["nodes"][1:-1]}
                             for r in rows]
    return section


#: Control characters and spaces let browsers "repair" a URL into another scheme.
_UNSAFE_URL_CHAR = re.compile("[\x00-\x20\x7f]")
#: http(s) with a host of plain ASCII (no IPv6 brackets, nothing urlsplit would normalise).
_PLAIN_WEB_URL = re.compile(r"(?i:https?)://[A-Za-z0-9.\-_~%!$&'()*+,;=:@]+(?:[/?#]|\Z)")


def safe_url(url):
    """Return `url` if it may become a link (http(s) with a host, or mailto), else None.

    Parameters
    ----------
    url : object
        Candidate URL from the corpus.

    Returns
    -------
    str or None
        The stripped URL, or None for anything else (javascript:, data:, relative, malformed).

    Examples
    --------
    >>> safe_url("https://example.org/a")
    'https://example.org/a'
    >>> safe_url("JavaScript:alert(1)") is None
    True
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or _UNSAFE_URL_CHAR.search(url):
        return None
    if _PLAIN_WEB_URL.match(url):   # what urlsplit would pass; most sources are such
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and parts.netloc:
        return url
    if scheme == "mailto" and parts.path:
        return url
    return None


def script_json(value):
    """Serialise `value` as JSON that can sit inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` (which could end the element or start a comment) and U+2028/U+2029
    are written as ``\\uXXXX`` escapes, which JSON.parse reads back unchanged. Encoded by orjson
    (a page of 50,000 nodes is 36 MB of JSON): numpy numbers are numbers, anything else it
    cannot encode is written as its ``str``; a value orjson refuses (an integer beyond 64 bits)
    falls back to the json module.

    Parameters
    ----------
    value : object
        JSON-serialisable value (or, via `escape_json_text`, JSON text).

    Returns
    -------
    markupsafe.Markup
        The escaped JSON, marked safe for Jinja.
    """
    import orjson

    try:
        text = orjson.dumps(value, default=str,
                            option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return escape_json_text(text)


_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def escape_json_text(text):
    """Escape JSON text for a ``<script>`` element (see `script_json`).

    The characters escaped can only occur inside JSON strings, where ``\\uXXXX`` means the same.
    """
    from markupsafe import Markup

    for char, escape in _JSON_ESCAPES.items():   # str.replace: one pass in C per character
        text = text.replace(char, escape)
    return Markup(text)


def layered_positions(graph, *, x_gap=_X_GAP, y_gap=_Y_GAP, row_gap=_ROW_GAP, max_row=None):
    """Place nodes in layers following the direction of the edges.

    Each strongly connected component gets the length of the longest path from it to a sink of
    the condensation (at least 1 unless it holds a takeoff path), so the takeoff paths form the
    top layer and every edge between components points upwards. Nodes within a layer are
    ordered by the barycentre of their neighbours (two sweeps each way) to reduce crossings. A
    layer wider than `max_row` is spread over several staggered rows: node i of the layer goes
    to row ``i % rows``, keeping its place in the left-to-right order.

    Parameters
    ----------
    graph : networkx.DiGraph or networkx.MultiDiGraph
    x_gap, y_gap, row_gap : float
        Distance between neighbours in a row, between layers and between staggered rows.
    max_row : int, optional
        Most nodes on one row; default ``max(8, 1.3 * sqrt(n))``, which keeps the drawing
        about as wide as a screen is.

    Returns
    -------
    dict
        {node: (x, y)} in vis-network coordinates (y grows downwards).

    Examples
    --------
    >>> pos = layered_positions(nx.DiGraph([("e", "c"), ("c", "m")]))
    >>> pos["m"][1] < pos["c"][1] < pos["e"][1]
    True

    References
    ----------
    .. [1] K. Sugiyama, S. Tagawa, M. Toda, "Methods for visual understanding of hierarchical
       system structures", IEEE Trans. SMC 11(2), 1981.
    """
    nodes = sorted(graph)
    x, y = _positions(_Arrays(graph, nodes), x_gap=x_gap, y_gap=y_gap, row_gap=row_gap,
                      max_row=max_row)
    return dict(zip(nodes, zip(x.tolist(), y.tolist())))


class _Arrays:
    """The graph as integer arrays for the layout: node ``i`` is ``nodes[i]``; ``succ`` and
    ``pred`` are ``(node, neighbour)`` index pairs of distinct neighbours other than the node
    itself, each node's in the order networkx lists them (the barycentres add them in that
    order, so they are the same to the last bit as sums over ``graph.successors``)."""

    def __init__(self, graph, nodes):
        import numpy as np

        index = {node: i for i, node in enumerate(nodes)}
        self.nodes = nodes
        self.n = len(nodes)
        # adjacency() walks networkx's own dicts: the views of graph.succ cost three times more.
        self.succ = self._pairs(np, index, graph.adjacency())
        self.pred = self._pairs(np, index, nx.reverse_view(graph).adjacency())
        rank = {kind: i for i, kind in enumerate(KIND_STYLE)}
        kinds = dict(graph.nodes(data="kind"))
        self.rank = np.array([rank.get(kinds[node], len(rank)) for node in nodes], dtype=np.intp)
        self.model = self.rank == rank["model"]

    @staticmethod
    def _pairs(np, index, adjacency):
        adjacency = list(adjacency)
        first = np.repeat(np.array([index[u] for u, _ in adjacency], dtype=np.intp),
                          [len(near) for _, near in adjacency])
        second = np.array([index[v] for _, near in adjacency for v in near], dtype=np.intp)
        pairs = np.stack([first, second], axis=1).reshape(len(second), 2)
        return pairs[first != second]


def _positions(arrays, *, x_gap=_X_GAP, y_gap=_Y_GAP, row_gap=_ROW_GAP, max_row=None):
    """`layered_positions` as arrays (x, y) in the order of ``arrays.nodes``."""
    import numpy as np

    n = arrays.n
    if n == 0:
        return np.zeros(0), np.zeros(0)
    max_row = max_row or max(8, round(1.3 * math.sqrt(n)))
    layer = _layers(arrays)
    sizes = np.bincount(layer)
    ordered = _order_layers(arrays, layer, sizes)
    width = x_gap * (min(max_row, int(sizes.max())) - 1)
    rows = np.ceil(sizes / max_row).astype(np.intp)
    # A short layer (the takeoff paths, say) spreads out, up to twice the usual gap.
    step = np.where(rows > 1, x_gap / np.maximum(rows, 1),
                    np.minimum(2 * x_gap, np.maximum(x_gap, width / np.maximum(sizes - 1, 1))))
    tops = []
    y = 0.0
    for count in rows.tolist():   # summed in order, as the rows are laid out
        tops.append(y)
        y += (count - 1) * row_gap + y_gap
    of = layer[ordered]
    starts = np.cumsum(sizes) - sizes
    i = np.arange(n) - starts[of]
    xs, ys = np.empty(n), np.empty(n)
    xs[ordered] = (i - (sizes[of] - 1) / 2) * step[of]
    ys[ordered] = np.array(tops)[of] + (i % np.maximum(rows[of], 1)) * row_gap
    return xs, ys


def _layers(arrays):
    """Per node, its layer: the longest distance from its component to a sink of the
    condensation, at least 1 for a component without a takeoff path."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n, src, dst = arrays.n, arrays.succ[:, 0], arrays.succ[:, 1]
    adjacency = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    count, label = connected_components(adjacency, directed=True, connection="strong")
    height = np.ones(count, dtype=np.intp)
    # Only takeoff paths sit on the top layer: a claim or evidence bearing on nothing goes one below.
    height[label[arrays.model]] = 0
    cs, cd = label[src], label[dst]
    between = cs != cd
    cs, cd = cs[between], cd[between]
    pending = np.bincount(cs, minlength=count)   # edges to components not yet placed
    by_target = np.argsort(cd, kind="stable")
    into = np.zeros(count + 1, dtype=np.intp)
    np.cumsum(np.bincount(cd, minlength=count), out=into[1:])
    sources = cs[by_target]
    frontier = np.flatnonzero(pending == 0)
    while len(frontier):   # from the sinks down: a component is placed once all it bears on are
        starts, stops = into[frontier], into[frontier + 1]
        lengths = stops - starts
        edges = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        below = sources[edges]
        np.maximum.at(height, below, np.repeat(height[frontier] + 1, lengths))
        hits = np.bincount(below, minlength=count)
        pending -= hits
        frontier = np.flatnonzero((pending == 0) & (hits > 0))
    return height[label]


def _order_layers(arrays, layer, sizes):
    """Barycentre ordering: down the layers by successors, then up by predecessors, twice.

    Returns the node indices layer by layer, each layer left to right. A layer starts in the
    order of kind, then id; a node's key is the mean place (``i / len(layer)``) of its
    neighbours, or its own place if it has none; ties keep their order."""
    import numpy as np

    n = arrays.n
    order = np.lexsort((np.arange(n), arrays.rank, layer))
    starts = np.cumsum(sizes) - sizes
    slot = np.empty(n, dtype=np.intp)   # a node's fixed place in its layer's first order
    slot[order] = np.arange(n) - starts[layer[order]]
    place = np.empty(n)
    place[order] = slot[order] / np.maximum(sizes[layer[order]], 1)
    by_layer = [(_grouped(pairs, layer), pairs) for pairs in (arrays.succ, arrays.pred)]

    def sweep(layers, grouped):
        (edge_order, edge_ptr), pairs = grouped
        for k in layers:
            size = int(sizes[k])
            if size < 2:   # one node: nothing to order, its place stays 0
                continue
            a, b = starts[k], starts[k] + size
            mine = pairs[edge_order[edge_ptr[k]:edge_ptr[k + 1]]]
            keyed = slot[mine[:, 0]]
            total = np.bincount(keyed, weights=place[mine[:, 1]], minlength=size)
            count = np.bincount(keyed, minlength=size)
            current = order[a:b]
            own = np.empty(size)   # the key of a node without neighbours: its place
            own[slot[current]] = place[current]
            key = np.divide(total, count, out=own, where=count > 0)[slot[current]]
            order[a:b] = current[np.argsort(key, kind="stable")]
            place[order[a:b]] = np.arange(size) / size

    for _ in range(2):
        sweep(range(1, len(sizes)), by_layer[0])
        sweep(range(len(sizes) - 2, -1, -1), by_layer[1])
    return order


def _grouped(pairs, layer):
    """The pairs' order grouped by the layer of their first node (stable), with the offsets."""
    import numpy as np

    of = layer[pairs[:, 0]]
    ptr = np.zeros(layer.max() + 2, dtype=np.intp)
    np.cumsum(np.bincount(of, minlength=len(ptr) - 1), out=ptr[1:])
    return np.argsort(of, kind="stable"), ptr


def _network(graph, nodes, result):
    """A pyvis Network whose node/edge lists are filled directly (add_node is quadratic).

    Items carry only what vis-network draws plus the edge's relation/weight/note; tooltips are
    composed in the page from the same data (keeps a 5,000-node page small and quick to parse).
    `nodes` is ``sorted(graph)``, the order of the items.
    """
    from pyvis.network import Network

    large = len(nodes) > LARGE_GRAPH
    net = Network(directed=True, cdn_resources="in_line", height="100%", width="100%")
    xs, ys = _screen_shaped(*_positions(_Arrays(graph, nodes)))
    strengths = result.strengths
    attrs = graph.nodes
    data = [attrs[node] for node in nodes]
    kinds = [d.get("kind", "claim") for d in data]
    shown = [strengths.get(node) for node in nodes]
    sizes = _node_sizes(kinds, [d.get("credence", DEFAULT_CREDENCE) if s is None else s
                                for d, s in zip(data, shown)])
    net.nodes = [{"id": node, "label": _truncate(d.get("title") or node), "group": kind,
                  "size": size, "x": x, "y": y}
                 for node, d, kind, size, x, y in zip(nodes, data, kinds, sizes, _rounded(xs, 1),
                                                      _rounded(ys, 1))]
    edges = _edges(graph)
    weights = [float(d.get("weight", DEFAULT_WEIGHT)) for _, _, d in edges]
    supports = RELATION_STYLE["supports"]
    for i, ((source, target, d), weight, width) in enumerate(
            zip(edges, weights, _rounded([1 + 4 * w for w in weights], 2))):
        relation = d.get("relation", "supports")
        style = RELATION_STYLE.get(relation, supports)
        net.edges.append({
            "id": i,
            "from": source,
            "to": target,
            "relation": relation,
            "weight": weight,
            "note": d.get("note") or "",
            # Whose argument the edge is (`from`; "from" itself is vis-network's source node).
            "by": d.get("from"),
            "quote": d.get("quote"),
            "color": style["color"],
            "width": width,
            "dashes": style["dashes"],
        })
    net.options = _vis_options(large)
    return net


#: Width over height of the map area, less the room kept for labels (about 960x450 at 1280x720,
#: 1280x730 at 1600x1000): a layout stretched to this shape fills the first view.
_SCREEN_ASPECT = 1.9


def _screen_shaped(xs, ys):
    """The layout (arrays of x and y) stretched sideways to the screen's shape when it is
    taller than that: the first view then shows the map larger, with room between the nodes of
    a layer for their labels (never squeezed: a wide layout keeps its gaps)."""
    if len(xs) < 2:
        return xs, ys
    width, height = float(xs.max() - xs.min()), float(ys.max() - ys.min())
    if width <= 0 or width >= _SCREEN_ASPECT * height:
        return xs, ys
    return xs * (_SCREEN_ASPECT * height / width), ys


def _edges(graph):
    """``(source, target, attributes)`` of every edge, by source, target and relation (parallel
    edges in the graph's order); read from the adjacency, quicker than ``graph.edges``' view."""
    if graph.is_multigraph():
        found = [(u, v, attrs) for u, near in graph.adjacency() for v, keyed in near.items()
                 for attrs in keyed.values()]
    else:
        found = [(u, v, attrs) for u, near in graph.adjacency() for v, attrs in near.items()]
    found.sort(key=_edge_key)
    return found


def _edge_key(edge):
    source, target, data = edge
    return (str(source), str(target), data.get("relation", ""))


def _truncate(text):
    text = " ".join(str(text).split())
    return text if len(text) <= _LABEL_CHARS else text[:_LABEL_CHARS - 1].rstrip() + "…"


def _node_size(kind, strength):
    """A node's size on the map (`NODE_SIZE`) for its kind and strength."""
    return _node_sizes([kind], [strength])[0]


def _node_sizes(kinds, strengths):
    """`_node_size` of each kind and strength (numbers, in [0, 1] or clamped to it)."""
    import numpy as np

    base, span = np.array([NODE_SIZE.get(kind, NODE_SIZE["claim"]) for kind in kinds],
                          dtype=np.intp).reshape(len(kinds), 2).T
    strength = np.array(strengths, dtype=float).reshape(len(kinds))
    return _rounded(base + span * np.maximum(0.0, np.minimum(1.0, strength)), 1)


def _rounded(values, digits):
    """``[round(v, digits) for v in values]`` (Python floats), in numpy.

    ``rint(v * 10**digits) / 10**digits`` is the float ``round`` gives (the nearest to the
    decimal it rounds to) unless ``v * 10**digits`` lies within its own rounding error of a half
    or is too large for that error to be small; those few are rounded by ``round``."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    scaled = values * 10.0 ** digits
    out = (np.rint(scaled) / 10.0 ** digits).tolist()
    with np.errstate(invalid="ignore"):   # inf - inf: an infinity is doubtful, round keeps it
        doubtful = ~(np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) > 1e-6) | ~(np.abs(scaled) < 1e9)
    for i in np.flatnonzero(doubtful).tolist():
        out[i] = round(float(values[i]), digits)
    return out


def _vis_options(large):
    """vis-network options: the precomputed layout is kept (physics off) at every size, because
    layers read as an argument (evidence below, takeoff paths on top) and vis-network's physics
    does not settle on large graphs; large graphs also skip curved edges."""
    font = {"face": "system-ui, -apple-system, 'Segoe UI', sans-serif", "strokeColor": "#ffffff"}
    groups = {
        kind: {"shape": s["shape"], "color": {
            "background": s["background"], "border": s["border"],
            "highlight": {"background": s["background"], "border": "#111111"},
            "hover": {"background": s["background"], "border": "#111111"}}}
        for kind, s in KIND_STYLE.items()
    }
    # Takeoff paths' labels are bold and darker. The page sets every label's size and line
    # breaks for the current zoom (app.js placeLabels), so none is wrapped or sized here.
    groups["model"]["font"] = dict(font, color="#2a1a5e", strokeWidth=6, bold=True)
    return {
        "groups": groups,
        "nodes": {"borderWidth": 1.5, "borderWidthSelected": 3,
                  "font": dict(font, size=14, color="#23252b", strokeWidth=4),
                  # A label under LABEL_MIN_PX on screen is not drawn (the tooltip names the
                  # node), and none grows past LABEL_MAX_PX.
                  "scaling": {"label": {"drawThreshold": LABEL_MIN_PX, "maxVisible": LABEL_MAX_PX}}},
        "edges": {"arrows": {"to": {"enabled": not large, "scaleFactor": 0.55}},
                  "color": {"opacity": 0.8},
                  "smooth": False if large else {"type": "cubicBezier", "forceDirection": "vertical",
                                                 "roundness": 0.45},
                  "selectionWidth": 1.5, "hoverWidth": 0.5},
        "layout": {"improvedLayout": False},
        "physics": {"enabled": False},
        "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False,
                        "hideEdgesOnDrag": large, "hideEdgesOnZoom": large,
                        "keyboard": {"enabled": False}, "multiselect": False},
    }


def _page_data(graph, nodes, result, extra):
    """The JSON blob the page's script reads: details per node and the optional sections."""
    strengths = [result.strengths.get(node) for node in nodes]
    rounded = _rounded([math.nan if s is None else s for s in strengths], 4)
    details = {}
    node_tags = []
    attrs = graph.nodes
    for node, strength, shown in zip(nodes, strengths, rounded):
        data = attrs[node]
        node_tags.append([str(t) for t in data.get("tags") or ()])
        sources = data.get("sources")
        entry = details[node] = {
            "title": str(data.get("title") or node),
            "kind": data.get("kind"),
            "evidence_kind": data.get("evidence_kind"),
            "credence": data.get("credence"),
        }
        if data.get("credence_dist"):
            entry["uncertainty"] = describe(data["credence_dist"])
        entry["strength"] = None if strength is None else shown
        entry["date"] = _iso(data.get("date"))
        entry["tags"] = node_tags[-1]
        entry["body"] = str(data.get("body") or "")
        entry["sources"] = list(map(_source, sources)) if sources else []
    tags = Counter(itertools.chain.from_iterable(node_tags))

    page = {
        "semantics": result.semantics,
        "large": len(nodes) > LARGE_GRAPH,
        # The sources edges name: the page shows their titles beside the edges.
        "sources": {k: {"title": v.get("title"), "url": v.get("url")}
                    for k, v in known_sources(graph).items()},
        "details": details,
        "tags": sorted(tags.items(), key=lambda kv: (-kv[1], kv[0])),
        "sizes": NODE_SIZE,
        # What a node without a credence counts as (its details say none was written).
        "defaultCredence": DEFAULT_CREDENCE,
        "kinds": {kind: {"label": s["label"], "color": s["background"]} for kind, s in KIND_STYLE.items()},
    }
    if not isinstance(extra, Mapping):
        raise TypeError("extra must be a mapping of page sections")
    page.update({k: v for k, v in extra.items() if k not in page})
    return page


def _perspective_data(graph, perspective):
    """A perspective as the page reads it, keeping the overrides of what `graph` holds."""
    return {
        "name": perspective.name,
        "description": perspective.description,
        "credences": {n: x for n, x in perspective.credences.items() if n in graph},
        "weights": [[s, t, w] for (s, t), w in perspective.weights.items() if graph.has_edge(s, t)],
    }


def _round(value):
    return None if value is None else round(float(value), 4)


def _source(source):
    source = source if isinstance(source, Mapping) else {"url": str(source)}
    return {
        "url": safe_url(source.get("url")),
        "text_url": str(source.get("url") or ""),
        "title": str(source.get("title") or ""),
        "date": _iso(source.get("date")),
        "quote": str(source.get("quote") or ""),
    }


def _iso(value):
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _environment():
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(str(ASSETS)), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["script_json"] = script_json
    env.filters["script_json_text"] = escape_json_text
    return env


@functools.lru_cache(maxsize=1)
def _static_assets():
    """Inline vis-network (from pyvis's bundled copy) and our script/style, with CSP hashes."""
    from markupsafe import Markup
    import pyvis

    vis_dir = pathlib.Path(pyvis.__file__).with_name("templates") / "lib" / "vis-9.1.2"
    vis_js = _inline_script((vis_dir / "vis-network.min.js").read_text(encoding="utf-8"))
    markdown_js = _inline_script((ASSETS / "markdown-it.min.js").read_text(encoding="utf-8"))
    solver_js = _inline_script((ASSETS / "solver.js").read_text(encoding="utf-8"))
    app_js = _inline_script((ASSETS / "app.js").read_text(encoding="utf-8"))
    css = (vis_dir / "vis-network.css").read_text(encoding="utf-8") + "\n" + \
        (ASSETS / "app.css").read_text(encoding="utf-8")
    if "</style" in css.lower():
        raise RuntimeError("an inlined stylesheet contains </style")
    csp = "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(_csp_hash(s) for s in (vis_js, markdown_js, solver_js, app_js)),
        "style-src 'unsafe-inline'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
    ])
    return {"vis_js": Markup(vis_js), "markdown_js": Markup(markdown_js),
            "solver_js": Markup(solver_js), "app_js": Markup(app_js),
            "css": Markup(css), "csp": csp}


def _inline_script(text):
    """Check that `text` cannot end its ``<script>`` element early (HTML's script data rules)."""
    # A source-map comment would make developer tools request a file that is not there.
    text = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", text)
    if re.search(r"</script", text, re.IGNORECASE) or (
            "<!--" in text and re.search(r"<script[\s/>]", text, re.IGNORECASE)):
        raise RuntimeError("an inlined script contains </script, or <!-- with <script")
    return text


def _csp_hash(text):
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
