"""Writing Argdown that the official parser reads as the corpus: every node a statement or an
argument with its takeoff fields as YAML data, arguments with premise-conclusion structures
where the corpus has them, and every text escaped so that Argdown shows the user's text."""
from __future__ import annotations

import json
import re

from graph.formats.argdown_text import escape, is_tag
from graph.formats.common import edge_provenance, node_extras
from graph.core.model import DEFAULT_WEIGHT, KINDS


def export_argdown(graph, title="takeoff-graph corpus"):
    """Argdown text of the corpus graph.

    Each node is a statement ``[name]: title`` or, for arguments, ``<name>: title`` (the name
    is the node's label when it has one that no other node uses, else its id), with its tags
    as hashtags and the takeoff fields as YAML data, followed by its outgoing relations
    (``+>`` supports, ``->`` undermines, ``_>`` undermines an argument that has a
    premise-conclusion structure: an undercut). An argument whose only outgoing edge supports
    a statement and that some statements support is written with a premise-conclusion
    structure instead: its supporters numbered as premises, the note of the conclusion edge as
    the inference rule, the conclusion last. Weights and notes go into the data's ``edges`` map,
    keyed by target.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    title : str
        The document's title (the corpus's ``takeoff.toml`` title).

    Returns
    -------
    str
    """
    structures = {node: _pcs_of(graph, node) for node, kind in graph.nodes(data="kind")
                  if kind == "argument"}
    steps = _inline_steps(graph, structures)
    names = _names(graph)
    parts = [f"===\ntitle: {json.dumps(title, ensure_ascii=False)}\n===\n"]  # JSON: YAML-safe
    for kind in KINDS:
        ids = sorted(n for n, k in graph.nodes(data="kind") if k == kind and n not in steps)
        if ids:
            parts.append(f"// {kind} nodes\n")
            parts += [_argdown_member(graph, names, node, structures, steps) for node in ids]
    return "\n".join(parts)


def _names(graph):
    """``{node: the title it has in Argdown}``: its label if no other node has that label or
    that id and Argdown reads it back unchanged (one space between words), else its id."""
    labels = {}
    for _, label in graph.nodes(data="label"):
        if label:
            labels[label] = labels.get(label, 0) + 1
    return {node: label if label and labels[label] == 1 and label not in graph
            and label == " ".join(label.split()) else node
            for node, label in graph.nodes(data="label")}


def _pcs_of(graph, argument):
    """``(premises, conclusion)`` if ``argument`` can be written as a premise-conclusion
    structure, else None: its one outgoing edge supports a statement (Argdown reads any other
    relation of a reconstructed argument as its conclusion's), and statements support it."""
    out = list(graph.out_edges(argument, keys=True))
    if len(out) != 1 or out[0][2] != "supports" or graph.nodes[out[0][1]]["kind"] == "argument":
        return None
    premises = sorted(source for source, _, key in graph.in_edges(argument, keys=True)
                      if key == "supports" and graph.nodes[source]["kind"] != "argument")
    return (premises, out[0][1]) if premises else None


def _inline_steps(graph, structures):
    """``{step: argument}`` for the arguments written inside another's premise-conclusion
    structure, as the inference to an intermediate conclusion: an argument ``a-N`` (the id the
    importer gives step N of ``<a>``) whose conclusion is a premise of ``a`` or of another of
    its steps, and which nothing but its premises bears on."""
    steps = {}
    for argument, structure in sorted(structures.items()):
        if structure is None or re.search(r"-\d+$", argument):
            continue
        todo = list(structure[0])
        while todo:
            premise = todo.pop(0)
            for step, _, key in graph.in_edges(premise, keys=True):
                inner = structures.get(step)
                if key == "supports" and inner and step not in steps and re.fullmatch(
                        rf"{re.escape(argument)}-\d+", step) and all(
                        source in inner[0] for source, _ in graph.in_edges(step)):
                    steps[step] = argument
                    todo += inner[0]
    return steps


def _argdown_fields(graph, names, node):
    """The text Argdown shows for a node and the YAML data that keeps its takeoff fields (the
    id when the node is named by its label; the label when it is not)."""
    attrs = graph.nodes[node]
    data = node_extras(attrs)
    if names[node] != node:
        data = {"id": node, **data}
        data.pop("label")  # it is the title in brackets
    title = attrs["title"]
    text = escape(title) or escape(node)
    if title != " ".join(title.split()):  # Argdown joins lines: the exact title goes in the data
        data["title"] = title
    tags = data.get("tags", [])
    if tags and all(is_tag(t) for t in tags):
        text += "".join(f" #{t}" for t in data.pop("tags"))
    edges = {}
    for _, target, edge in sorted(graph.out_edges(node, data=True), key=lambda e: (e[2]["relation"], e[1])):
        extras = {"weight": edge.get("weight_dist") or edge.get("weight", DEFAULT_WEIGHT)}
        if edge.get("note"):
            extras["note"] = edge["note"]
        extras.update(edge_provenance(edge))
        edges[target] = extras
    if edges:
        data["edges"] = edges
    return text, data


def _argdown_ref(graph, names, node):
    name = escape(names[node])
    return f"<{name}>" if graph.nodes[node]["kind"] == "argument" else f"[{name}]"


def _argdown_member(graph, names, node, structures, steps):
    text, data = _argdown_fields(graph, names, node)
    lines = [f"{_argdown_ref(graph, names, node)}: {text}", "  " + _argdown_data(data)]
    out = sorted(graph.out_edges(node, data=True), key=lambda e: (e[2]["relation"], e[1]))
    for _, target, edge in out:
        structure = structures.get(target)
        if structure and node in structure[0] or structures.get(node):
            continue  # a premise of, or the conclusion of, a premise-conclusion structure
        mutual = (edge["relation"] == "undermines" and "argument" not in
                  (graph.nodes[node]["kind"], graph.nodes[target]["kind"])
                  and graph.has_edge(target, node, key="undermines"))
        if mutual and target < node:
            continue  # written once, as a contradiction, under the other statement
        if edge["relation"] == "supports":
            symbol = "+>"
        else:
            symbol = "><" if mutual else "_>" if structure else "->"
        lines.append(f"    {symbol} {_argdown_ref(graph, names, target)}")
    if structures.get(node):
        lines += [""] + _argdown_pcs(graph, names, node, structures, steps)
    return "\n".join(lines) + "\n"


def _argdown_pcs(graph, names, argument, structures, steps):
    """The numbered lines of ``argument``'s premise-conclusion structure, its inlined steps
    first; an inference names the statements it uses when they are not Argdown's default
    (those since the previous conclusion)."""
    inlined = {structures[s][1]: s for s, a in steps.items() if a == argument}
    order, lines, last_conclusion = [], [], 0

    def write(arg):
        nonlocal last_conclusion
        premises, conclusion = structures[arg]
        for premise in sorted(premises, key=lambda p: (p not in inlined, p)):
            if premise in inlined and premise not in order:
                write(inlined[premise])
            elif premise not in order:
                order.append(premise)
                lines.append(f"({len(order)}) {_argdown_ref(graph, names, premise)}")
        uses = sorted(order.index(p) + 1 for p in premises)
        data = {}
        if uses != list(range(last_conclusion or 1, len(order) + 1)):
            data["uses"] = uses
        if arg != argument:  # a step is named by its argument: its label is data
            text, fields = _argdown_fields(graph, {**names, arg: arg}, arg)
            data.update({"id": arg, "title": graph.nodes[arg]["title"], **fields})
        note = graph.edges[arg, conclusion, "supports"].get("note") or ""
        one_rule = note == " ".join(note.split()) and "," not in note and "--" not in note
        rule = escape(note) if one_rule else ""
        inner = " ".join(filter(None, [rule, _argdown_data(data).replace("--", "-\\u002d") if data else ""]))
        lines.append(f"-- {inner} --" if inner else "----")
        order.append(conclusion)
        last_conclusion = len(order)
        lines.append(f"({len(order)}) {_argdown_ref(graph, names, conclusion)}")

    write(argument)
    return lines


def _argdown_data(data):
    """YAML data for an Argdown statement: JSON (a YAML flow mapping) on one line, with what
    Argdown would take for the start of a comment or an include escaped inside its strings."""
    text = json.dumps(data, ensure_ascii=False)
    text = (text.replace(" //", " \\/\\/").replace("/*", "\\/*").replace("<!--", "\\u003c!--")
            .replace("@include", "\\u0040include"))
    # YAML forbids these characters raw or reads them as line breaks (JSON allows them);
    # escaped, they read back the same.
    return re.sub("[\x7f-\x9f\u2028\u2029\ufffe\uffff]", lambda m: f"\\u{ord(m.group()):04x}", text)
