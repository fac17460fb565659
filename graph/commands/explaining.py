"""Why a node is as strong as it is: why, cruxes, tree, paths, lint (graph.explaining.explain)."""
import json

import click

from graph.commands.common import (
    as_of_option, by_option, command, complete_ids, console, emit_json, filter_json,
    filter_options, json_option, load_corpus, parts_columns, perspective_option, print_line,
    print_table, say, scoped_corpus, semantics_option, styled,
)
from graph.core.limits import quote
from graph.page.tables import Col, inert, inert_json


def _explain_corpus(ctx, semantics, *ids, as_of=None, perspective=None):
    """The corpus, its scores, and a check that every id in ``ids`` names a node."""
    corpus = scoped_corpus(ctx, as_of, perspective)
    for node_id in ids:
        corpus.node(node_id)
    result = corpus.score(semantics)
    if not result.converged:
        click.echo(f"warning: {result.message}", err=True)
    return corpus, result


RELATION_STYLE = {"supports": "green", "undermines": "red"}


def _chain_text(chain):
    parts = [(chain["nodes"][0], "")]
    for relation, weight, node in zip(chain["relations"], chain["weights"], chain["nodes"][1:]):
        parts += [(f" -{relation} {weight:g}-> ", RELATION_STYLE[relation]), (node, "")]
    return styled(*parts)


@command("tree")
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@click.option("--depth", type=click.IntRange(min=1), help="Levels of edges to show (default: all).")
@click.option("--direction", type=click.Choice(["in", "out"]), default="in", show_default=True,
              help="in: what supports or undermines ID; out: what ID supports or undermines.")
@semantics_option
@json_option
@click.pass_context
def tree_command(ctx, node_id, depth, direction, semantics, as_json):
    """Show the argument into (or out of) node ID as an indented tree."""
    from graph.explaining.explain import tree

    corpus, result = _explain_corpus(ctx, semantics, node_id)
    root = tree(corpus.graph, node_id, depth=depth, direction=direction,
                strengths=result.strengths)
    if as_json:
        emit_json({"semantics": semantics, "direction": direction, "depth": depth, "tree": root})
        return
    from rich.tree import Tree

    def label(row):
        parts = []
        if row["relation"]:
            parts.append((f"{row['relation']} {row['weight']:g}  ", RELATION_STYLE[row["relation"]]))
        parts += [(row["id"], "bold"), (f" ({row['kind']}) strength {row['strength']:.3f}  ", ""),
                  (inert(row["title"]), "dim")]
        if row["cycle"]:
            parts.append(("  [cycle: already on this branch]", "yellow"))
        elif row["repeat"]:
            parts.append(("  [shown above]", "yellow"))
        return styled(*parts)

    def add(branch, row):
        for child in row["children"]:
            add(branch.add(label(child)), child)

    shown = Tree(label(root))
    add(shown, root)
    console().print(shown)


@command("paths")
@click.argument("source", metavar="FROM", shell_complete=complete_ids)
@click.argument("target", metavar="TO", shell_complete=complete_ids)
@click.option("--max-length", type=click.IntRange(min=1), default=6, show_default=True,
              help="The most edges a chain may have.")
@click.option("--top", type=click.IntRange(min=1), help="Show only the N strongest chains.")
@json_option
@click.pass_context
def paths_command(ctx, source, target, max_length, top, as_json):
    """List the chains of edges from FROM to TO, strongest first."""
    from graph.explaining.explain import paths

    corpus = load_corpus(ctx)
    chains = paths(corpus.graph, source, target, max_length=max_length, top=top)
    if as_json:
        emit_json(chains)
        return
    if not chains:
        click.echo(f"no chain of at most {max_length} edges from {source} to {target}", err=True)
        return

    print_table([Col("sign", "id"), Col("weight", "num"), Col("edges", "num"),
                 Col("chain", "ids")],
                [[styled((chain["sign"], RELATION_STYLE[chain["sign"]])), f"{chain['weight']:.3f}",
                  str(chain["length"]), _chain_text(chain)] for chain in chains])


WHY_TOP = 20   # rows `why` prints in the terminal unless --top or --all says otherwise


@command("why")
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@click.option("--top", type=click.IntRange(min=1),
              help=f"Show only the N most influential nodes (default {WHY_TOP} in the terminal, "
                   "all with --json).")
@click.option("--all", "show_all", is_flag=True, help="Show every node that reaches ID.")
@semantics_option
@as_of_option
@perspective_option
@filter_options
@by_option
@json_option
@click.pass_context
def why_command(ctx, node_id, top, show_all, semantics, as_of, perspective, by, as_json):
    """Attribute the strength of ID to every node that reaches it.

    For each: its removal impact (ID's strength with the node present minus with it removed),
    its gradient (d strength(ID) / d credence(node)), and its strongest chain to ID. The
    terminal shows the 20 most influential unless --top or --all says otherwise; --json gives
    every node unless --top says otherwise.
    """
    from graph.explaining.explain import iter_why

    if top is not None and show_all:
        raise click.BadParameter("give --top or --all, not both", param_hint="--top/--all")
    if top is None and not show_all and not as_json:
        top = WHY_TOP
    corpus, result = _explain_corpus(ctx, semantics, node_id, as_of=as_of, perspective=perspective)
    if by == "group":
        _why_by_group(ctx, corpus, node_id, semantics, as_json)
        return
    count, rows = iter_why(corpus.graph, node_id, semantics, top=top, result=result)
    strength = result.strengths[node_id]
    if as_json:
        _stream_json({"id": node_id, "semantics": semantics, "strength": strength}, "nodes", rows)
        return
    rows = _with_chain_sources(corpus.graph, rows)
    print_line(styled((node_id, "bold"), (f": strength {strength:.3f} ({semantics}), credence "
                                          f"{corpus.graph.nodes[node_id]['credence']:.3f}", "")))
    if not count:
        print_line("nothing reaches this node: its strength comes from its credence alone")
        return

    table = []
    for row in rows:
        chain = row["chain"]
        via = chain["nodes"][1:-1]
        table.append([row["id"], row["kind"], f"{row['impact']:+.3f}", f"{row['gradient']:+.3f}",
                      styled((f"{chain['sign']} {chain['weight']:.2f}", RELATION_STYLE[chain["sign"]]),
                            (f" via {' > '.join(via)}" if via else " direct", "dim")),
                      ", ".join(dict.fromkeys(s or "-" for s in chain["from"]))])
    print_table([Col("node", "id"), Col("kind", "id"), Col("impact", "num"),
                 Col("gradient", "num"), Col("strongest chain", "ids"), Col("from", "ids")], table)
    if len(table) < count:
        more = count - len(table)
        print_line(f"{more} more node{'s' if more != 1 else ''} reach {node_id} (of {count}); "
                   f"--top N or --all shows them", style="dim")


def _with_chain_sources(graph, rows):
    """The rows of `why`, each chain with the source (``from``) of each of its edges."""
    from graph.files.provenance import chain_sources

    for row in rows:
        row["chain"]["from"] = chain_sources(graph, row["chain"]["nodes"])
        yield row


def _why_by_group(ctx, corpus, node_id, semantics, as_json):
    """`why ID --by group`: the parts of ID's strength, one row per part."""
    from graph.solving.shares import EVIDENCE, strength_shares

    row = strength_shares(corpus.graph, semantics).row(node_id)
    if as_json:
        emit_json({"id": node_id, "semantics": semantics, "parts": row,
                   "filter": filter_json(ctx, corpus.graph)})
        return

    print_line(styled((node_id, "bold"), (f": strength {row['strength']:.3f} ({semantics}) = "
                                          "base + reasoning + evidence", "")))
    parts = [p for p in parts_columns([row]) if p != EVIDENCE] + [EVIDENCE]
    print_table([Col("part", "id"), Col("value", "num")],
                [[p, f"{row[p]:.3f}" if p == "base" else f"{row[p]:+.3f}"] for p in parts])


def _stream_json(head, key, rows):
    """``head`` with ``key`` holding the rows, as emit_json prints it, written row by row so
    that a long list is never held whole."""
    text = inert_json(json.dumps({**head, key: []}, indent=2, ensure_ascii=False, default=str))
    opening = text[:text.rindex("[") + 1]
    write = click.get_text_stream("stdout").write
    write(opening)
    first = True
    for row in rows:
        item = inert_json(json.dumps(row, indent=2, ensure_ascii=False, default=str)).replace("\n", "\n    ")
        write(("\n    " if first else ",\n    ") + item)
        first = False
    write(("\n  ]" if not first else "]") + "\n}\n")


@command("cruxes")
@click.argument("first", metavar="A", shell_complete=complete_ids)
@click.argument("second", metavar="B", shell_complete=complete_ids)
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many cruxes to show.")
@semantics_option
@filter_options
@json_option
@click.pass_context
def cruxes_command(ctx, first, second, top, semantics, as_json):
    """Name the nodes whose credence decides whether A or B ranks higher.

    For each: the gradient of the gap strength(A) - strength(B) with respect to its credence,
    the range of the gap as its credence goes from 0 to 1, and the credence at which the
    ranking flips, if one does.
    """
    from graph.explaining.explain import cruxes

    if first == second:
        raise click.BadParameter(f"A and B are the same node ({quote(first)}); give two different ids",
                                 param_hint="A B")
    corpus, result = _explain_corpus(ctx, semantics, first, second)
    rows = cruxes(corpus.graph, first, second, semantics, top=top, result=result)
    gap = result.strengths[first] - result.strengths[second]
    if as_json:
        emit_json({"a": first, "b": second, "semantics": semantics,
                   "strengths": {first: result.strengths[first], second: result.strengths[second]},
                   "gap": gap, "cruxes": rows})
        return
    leader, other = (first, second) if gap >= 0 else (second, first)
    print_line(styled((f"{first} {result.strengths[first]:.3f}  vs  {second} "
                      f"{result.strengths[second]:.3f} ({semantics}): ", ""),
                     (f"{leader} ranks higher by {abs(gap):.3f}", "bold")))
    if not rows:
        print_line("no node's credence changes the gap")
        return

    table = []
    for row in rows:
        flip = "never" if row["flip"] is None else f"{row['flip']:.3f}"
        if row["flip"] is not None and round(row["flip"], 3) != row["flip"]:
            flip = f"{row['flip']:.6f}"  # rounding would cross back over the flip
        table.append([row["id"], row["kind"], f"{row['credence']:.3f}", f"{row['gradient']:+.3f}",
                      f"{row['gap_at_0']:+.3f} / {row['gap_at_1']:+.3f}", flip])
    print_table([Col("node", "id"), Col("kind", "id"), Col("credence", "num"),
                 Col("gradient", "num"), Col("gap at 0 / 1", "ids"), Col("flips at", "num")],
                table)
    print_line(f"gap = strength({first}) - strength({second}); flips at: the credence of the "
               f"node at which {other} would rank higher", style="dim")


@command("lint")
@click.option("--strict", is_flag=True, help="Exit with status 1 if there is any warning.")
@semantics_option
@json_option
@click.pass_context
def lint_command(ctx, strict, semantics, as_json):
    """Warn about structural weak spots: unsupported claims, evidence that reaches no model,
    models no evidence reaches, contested nodes, cycles, isolated nodes, double counting,
    edge notes that cite nothing, undated claims fed by dated nodes (docs/bundled-corpus.md)."""
    from graph.explaining.explain import lint

    corpus, result = _explain_corpus(ctx, semantics)
    warnings = lint(corpus.graph, result.strengths)
    if as_json:
        emit_json(warnings)
    else:
        for warning in warnings:
            click.echo(inert(f"warning: [{warning['check']}] {warning['message']}"))
        say(f"{len(warnings)} warning(s)")
    if strict and warnings:
        ctx.exit(1)
