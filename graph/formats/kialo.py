"""Kialo's text export both ways: the numbered outline Kialo writes for a discussion.

::

    Discussion Title: Will AI takeoff be fast?

    1. AI takeoff will be fast.
    1.1. Pro: AI research is mostly coding.
    1.1.1. Con: Experiments need compute.
    1.2. Con: -> See 1.1.1.

Each claim is a node; ``Pro`` supports the claim it is numbered under, ``Con`` undermines it;
``-> See 1.1.1.`` is the claim at 1.1.1 placed here too: one node, with one more edge. The
thesis (``1.``) becomes a claim or a model, as the user picks; a discussion with several
theses (``1.1. Thesis: ...`` under a question ``1.``) gives one node per thesis. Kialo has no
place for credences, kinds, dates, sources, weights or notes: its export carries none (every
node is a claim at credence 0.5, every edge weight 1 on import), and what our export cannot
write is counted in its summary.
"""
from __future__ import annotations

import re

from graph.formats.common import Builder, ExportText, FormatError, Taken, slugify
from graph.core.model import DEFAULT_CREDENCE, DEFAULT_WEIGHT

THESIS_KINDS = ("claim", "model")
_TITLE = re.compile(r"Discussion Title:[ \t]*(.*)")
_CLAIM = re.compile(r"((?:\d{1,9}\.)+)[ \t]+(?:(Pro|Con|Thesis):[ \t]*)?(.*)")
_LINK = re.compile(r"->\s*See\s+((?:\d{1,9}\.)*\d{1,9})\.?\s*$")
_STANCE = {"Pro": "supports", "Con": "undermines"}
# Markdown's backslash escapes (Kialo writes claims in Markdown).
_MARKDOWN_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]()#<>]")


def parse_kialo(text, *, thesis="claim"):
    """A corpus graph from a Kialo text export.

    Parameters
    ----------
    text : str
    thesis : {"claim", "model"}
        The kind the thesis (or each thesis) becomes.

    Returns
    -------
    networkx.MultiDiGraph
        With ``graph.graph["summary"]`` counting claims, theses and cross-links.

    Raises
    ------
    FormatError
        With the line: a number whose parent is missing, a claim without ``Pro:`` or ``Con:``
        below the thesis, a cross-link to a number that no claim has, a line before the first
        claim that is neither the title nor blank.

    Examples
    --------
    >>> G = parse_kialo("1. Takeoff is fast.\\n1.1. Con: Compute is fixed.\\n")
    >>> sorted(G.edges(keys=True))
    [('compute-is-fixed', 'takeoff-is-fast', 'undermines')]
    """
    if thesis not in THESIS_KINDS:
        raise FormatError(f"--thesis {thesis}: one of {', '.join(THESIS_KINDS)}")
    build = Builder("Kialo text export")
    claims = _claims(text, build)
    question = len(claims) > 1 and any(c["stance"] == "Thesis" for c in claims.values()
                                       if len(c["number"]) == 2)
    ids, taken, links = {}, Taken(), 0
    for claim in claims.values():  # nodes first, so a cross-link may point forward
        if claim["link"] is None and not (question and len(claim["number"]) == 1):
            top = len(claim["number"]) == (2 if question else 1)
            ids[claim["number"]] = slugify(claim["text"], taken, fallback="claim")
            build.add_node(ids[claim["number"]], claim["text"],
                           {"kind": thesis if top else "claim"}, f"line {claim['line']}")
    for claim in claims.values():
        if len(claim["number"]) <= (2 if question else 1):
            continue
        source = claim["number"] if claim["link"] is None else _resolve(claim, claims, build)
        if source is None:
            continue
        links += claim["link"] is not None
        build.add_edge(ids[source], ids[claim["number"][:-1]], _STANCE[claim["stance"]],
                       DEFAULT_WEIGHT, "", f"line {claim['line']}")
    if question:
        build.warnings.append("the question (1.) above the theses has no counterpart: each "
                              "thesis is a node of its own")
    build.graph.graph["summary"] = (f"read {len(ids)} claim(s), {links} cross-link(s); "
                                    f"thesis as {thesis}")
    return build.result()


def _claims(text, build):
    """``{number: claim}`` in file order; a claim is a dict of number (a tuple), stance, text,
    link (the number it points to) and line."""
    claims, last = {}, None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _CLAIM.match(line)
        if match is None:
            if last is not None and line.strip():
                last["text"] += "\n" + _unescape(line.strip())  # the claim goes on
            elif not line.strip() or (not claims and _TITLE.match(line)):
                pass
            else:
                build.problems.append(f"line {number}: expected a numbered claim (1.1. Pro: ...)")
            continue
        key = tuple(int(n) for n in match.group(1).rstrip(".").split("."))
        stance, body = match.group(2), match.group(3).strip()
        link = _LINK.match(body)
        where, problems = f"line {number}", len(build.problems)
        if key in claims:
            build.problems.append(f"{where}: {match.group(1)} is numbered twice")
        elif len(key) > 1 and key[:-1] not in claims:
            build.problems.append(f"{where}: {match.group(1)} has no parent {_dotted(key[:-1])}")
        elif len(key) > 1 and claims[key[:-1]]["link"] is not None:
            build.problems.append(f"{where}: {match.group(1)} is below a cross-link, which has "
                                  "no claims of its own")
        elif len(key) > 1 and stance not in ("Pro", "Con") and not (len(key) == 2 and stance == "Thesis"):
            build.problems.append(f"{where}: {match.group(1)} needs Pro: or Con: (Thesis: only "
                                  "directly under the question, as 1.1.)")
        elif len(key) == 1 and link:
            build.problems.append(f"{where}: the thesis cannot be a cross-link")
        elif not body:
            build.problems.append(f"{where}: {match.group(1)} has no text")
        if len(build.problems) > problems:
            last = None
            continue
        last = claims[key] = {"number": key, "stance": stance, "line": number,
                              "text": _unescape(body),
                              "link": tuple(int(n) for n in link.group(1).split(".")) if link else None}
    if not claims and not build.problems:
        build.problems.append("line 1: no claims: a Kialo export numbers them 1., 1.1., 1.2. ...")
    return claims


def _resolve(claim, claims, build):
    """The number of the claim a cross-link finally points to (following links), or None."""
    seen, target = {claim["number"]}, claim["link"]
    while target in claims and claims[target]["link"] is not None and target not in seen:
        seen.add(target)
        target = claims[target]["link"]
    if target not in claims or claims[target]["link"] is not None:
        build.problems.append(f"line {claim['line']}: -> See {_dotted(claim['link'])}. names no "
                              "claim of this discussion")
        return None
    return target


def _dotted(number):
    return ".".join(str(n) for n in number)


def _unescape(text):
    return _MARKDOWN_ESCAPED.sub(r"\1", text)


def _escape(text):
    """A title as Kialo claim text: Markdown's specials escaped, each line break a new line
    that cannot be read as a numbered claim, and no stance word read off its start."""
    lines = [_MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(), line.strip())
             for line in text.strip().splitlines() if line.strip()]
    # A first line that starts as a stance would lose it on reading ("Pro: x" is x, pro).
    return "\n".join(re.sub(r"^(\d+)\.", r"\1\\.", line) if i
                     else re.sub(r"^(Pro|Con|Thesis):", r"\1\\:", line)
                     for i, line in enumerate(lines))


def export_kialo(graph, *, title=None):
    """Kialo's text export of the corpus graph, which Kialo and :func:`parse_kialo` read.

    The theses are the nodes that support or undermine nothing (the models, mostly), and for
    nodes that lead to none of them (a cycle) the first such node by id; several theses go
    under a question ``1.`` as ``1.N. Thesis:``. Below a claim come the nodes that support it
    (``Pro``) and undermine it (``Con``); a node met again is a cross-link ``-> See N.``, so
    every node is written once and every edge once.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    title : str, optional
        The discussion title (default: the thesis, or "takeoff-graph corpus").

    Returns
    -------
    ExportText
        The text, with ``losses``: what Kialo has no place for, counted.
    """
    theses = _theses(graph)
    lines, position = [], {}
    if len(theses) == 1:
        _write(graph, theses[0], (1,), None, lines, position)
        heading = title or graph.nodes[theses[0]]["title"]
    else:
        heading = title or "takeoff-graph corpus"
        lines.append(f"1. {_escape(heading)}")
        for i, node in enumerate(theses, start=1):
            _write(graph, node, (1, i), "Thesis", lines, position)
    text = f"Discussion Title: {' '.join(heading.split())}\n\n" + "\n".join(lines) + "\n"
    return ExportText(text, export_losses(graph, theses))


def _theses(graph):
    """The nodes written as theses, in order (see :func:`export_kialo`)."""
    order = sorted(graph)
    theses = [n for n in order if graph.out_degree(n) == 0]
    reached = set()

    def reach(node):
        todo = [node]
        while todo:
            here = todo.pop()
            if here not in reached:
                reached.add(here)
                todo += [source for source, _ in graph.in_edges(here)]

    for node in theses:
        reach(node)
    for node in order:
        if node not in reached:
            theses.append(node)
            reach(node)
    return theses


def _write(graph, thesis, number, stance, lines, position):
    """Append the outline below ``thesis`` (depth first, without recursion)."""
    todo = [(thesis, number, stance)]
    while todo:
        node, number, stance = todo.pop()
        dotted = "".join(f"{n}." for n in number)
        head = f"{dotted} {stance}: " if stance else f"{dotted} "
        if node in position:
            lines.append(f"{head}-> See {position[node]}")
            continue
        position[node] = dotted
        lines.append(head + _escape(graph.nodes[node]["title"]))
        children = sorted(graph.in_edges(node, keys=True), key=lambda e: (e[2], e[0]))
        todo += reversed([(child, number + (i,), "Pro" if relation == "supports" else "Con")
                          for i, (child, _, relation) in enumerate(children, start=1)])


def export_losses(graph, theses=()):
    """What a Kialo export of ``graph`` leaves out, as ``["3 credence", ...]``: the values
    that are not what an import of the export gives back (a thesis may be a model)."""
    thesis = set(theses)
    counts = {
        "kind": sum(1 for n, k in graph.nodes(data="kind")
                    if k != "claim" and not (k == "model" and n in thesis)),
        "credence": sum(1 for _, a in graph.nodes(data=True) if a.get("credence_dist")
                        or a.get("credence", DEFAULT_CREDENCE) != DEFAULT_CREDENCE),
        "date": sum(1 for _, d in graph.nodes(data="date") if d is not None),
        "tags": sum(1 for _, t in graph.nodes(data="tags") if t),
        "sources": sum(1 for _, s in graph.nodes(data="sources") if s),
        "body": sum(1 for _, b in graph.nodes(data="body") if b),
        "label": sum(1 for _, b in graph.nodes(data="label") if b),
        "weight": sum(1 for *_, a in graph.edges(data=True) if a.get("weight_dist")
                      or a.get("weight", DEFAULT_WEIGHT) != DEFAULT_WEIGHT),
        "note": sum(1 for *_, n in graph.edges(data="note") if n),
    }
    return [f"{n} {what}" for what, n in counts.items() if n]
