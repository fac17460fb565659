"""The corpus scored and listed: score, list, show."""
import click

from graph.commands.common import (
    as_of_option, by_option, command, complete_ids, console, emit_json, filter_json,
    filter_options, json_option, load_corpus, parts_columns, perspective_option, print_line,
    print_table, scoped_corpus, semantics_option, settings, styled, value_text,
)
from graph.core.model import KINDS
from graph.page.tables import Col, inert_all


@command("list")
@click.option("--kind", type=click.Choice(KINDS), help="Only nodes of this kind.")
@click.option("--tag", help="Only nodes with this tag.")
@json_option
@click.pass_context
def list_(ctx, kind, tag, as_json):
    """List the nodes of the corpus."""
    from graph.explaining.query import list_nodes

    rows = list_nodes(load_corpus(ctx).graph, kind=kind, tag=tag)
    if as_json:
        emit_json(rows)
        return

    print_table([Col("id", "id"), Col("kind", "id"), Col("credence", "num"), Col("date", "id"),
                 Col("title")],
                [[row["id"], row["kind"], f"{row['credence']:.2f}", row["date"] or "",
                  row["title"]] for row in rows])


@command()
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@json_option
@click.pass_context
def show(ctx, node_id, as_json):
    """Show node ID: its fields, sources and edges."""
    from graph.explaining.query import describe_node

    corpus = load_corpus(ctx)
    info = describe_node(corpus, node_id)
    if as_json:
        emit_json(info)
        return
    print_node(info)


def print_node(info):
    info = inert_all(info)  # titles, bodies, notes and sources come from files
    out = console()
    kind = info["kind"] + (f", {info['evidence_kind']}" if info.get("evidence_kind") else "")
    out.print(f"[bold]{info['id']}[/bold]  ({kind})", markup=True)
    out.print(info["title"], markup=False)
    line = f"credence {info['credence']:.3f}"
    if info.get("credence_dist"):
        line += " " + value_text(info["credence_dist"])
    if info.get("strength") is not None:
        line += f"   strength {info['strength']:.3f} ({info['semantics']})"
    if info["date"]:
        line += f"   date {info['date']}"
    out.print(line, markup=False)
    if info["tags"]:
        out.print("tags: " + ", ".join(info["tags"]), markup=False)
    for source in info["sources"]:
        link = f"<{source['url']}>" if source.get("url") else "(no url)"
        out.print(f"source: {source.get('title') or ''} {link} {source.get('date') or ''}".replace("  ", " "),
                  markup=False)
        if source.get("quote"):
            out.print(f'  "{source["quote"]}"', markup=False)
    for title, edges, arrow in (("out", info["out"], "->"), ("in", info["in"], "<-")):
        for edge in edges:
            other = edge["target"] if title == "out" else edge["source"]
            note = f"  ({edge['note']})" if edge["note"] else ""
            by = f" from {edge['from']}" if edge.get("from") else ""
            out.print(f"{arrow} {edge['relation']} {other} w={edge['weight']:g}{by}{note}", markup=False)
            if edge.get("quote"):
                out.print(f'    "{edge["quote"]}"', markup=False)
    if info["links"]:
        out.print("links: " + ", ".join(link["id"] + ("" if link["exists"] else " (unknown id)")
                                        for link in info["links"]), markup=False)
    if info["body"].strip():
        out.print("")
        out.print(info["body"].rstrip(), markup=False)
    out.print(f"\n{info['path']}", markup=False, style="dim")


def _check_tolerance(ctx, param, value):
    if not 0.0 < value < 1.0:
        raise click.BadParameter(f"{value:g} is out of range: it must be greater than 0 and "
                                 f"less than 1")
    return value


@command()
@semantics_option
@click.option("--tolerance", type=float, default=1e-9, show_default=True, metavar="T",
              callback=_check_tolerance, help="Stop when max |f(s) - s| < T (0 < T < 1).")
@click.option("--all", "all_nodes", is_flag=True, help="Rank every node, not only the models.")
@click.option("--top", type=click.IntRange(min=1), metavar="N",
              help="Show the N strongest (default: 20 models in the terminal; all with --all or --json).")
@as_of_option
@perspective_option
@filter_options
@by_option
@json_option
@click.pass_context
def score(ctx, semantics, tolerance, all_nodes, top, as_of, perspective, by, as_json):
    """Rank the takeoff paths by strength: how strongly the evidence favours each.

    Shift is strength minus credence. "Pushed up by" and "pushed down by" name the incoming
    edges with the largest positive and negative contribution: the node's strength minus its
    strength with that one edge removed. The terminal shows the 20 strongest unless --top
    says otherwise. With --by group, the columns split each strength into its parts instead:
    the credence it starts from, what reasoning adds, what evidence adds by kind.
    """
    from graph.solving.propagation import ranking

    corpus = scoped_corpus(ctx, as_of=as_of, perspective=perspective)
    result = corpus.score(semantics, tolerance=tolerance)
    if not result.converged:
        click.echo(f"warning: {result.message}", err=True)
    kinds = corpus.kinds   # not the graph: a load from the cache's columns builds none
    rows = ranking(kinds, result, kind=None if all_nodes else "model")
    shares = None
    if by == "group":
        from graph.solving.shares import strength_shares

        shares = strength_shares(corpus.graph, semantics, tolerance=tolerance)
    if as_json:
        data = result.to_json(kinds)
        data["ranking"] = [{k: row[k] for k in ("id", "strength", "shift", "up", "down")}
                           | ({"parts": shares.row(row["id"])} if shares else {})
                           for row in rows[:top]]
        data["filter"] = None if corpus.columns is not None else filter_json(ctx, corpus.graph)
        emit_json(data)
        return
    shown = top or (None if all_nodes else SCORE_TOP)   # --all: every node, as asked
    if shares:
        _print_parts([shares.row(row["id"]) | {"id": row["id"]} for row in rows[:shown]],
                     "node" if all_nodes else "model")
        return
    _print_ranking(rows[:shown], result, all_nodes, len(rows))


def _print_parts(rows, what):
    parts = parts_columns(rows)
    table = [[str(rank), styled((row["id"], "bold")), *(
        f"{row[p]:.3f}" if p == "base" else f"{row[p]:+.3f}" for p in parts),
        f"{row['strength']:.3f}"] for rank, row in enumerate(rows, 1)]
    print_table([Col("#", "num"), Col(what, "id"), *(Col(p, "num") for p in parts),
                 Col("strength", "num")], table)
    print_line("base + reasoning + evidence = strength; evidence is the sum of its kinds "
               "(exact Shapley values: docs/evidence.md)", style="dim")


def _push_cell(push):
    from rich.text import Text

    if push is None:
        return Text("-", style="dim")
    style = "green" if push["contribution"] > 0 else "red"
    return Text.assemble((f"{push['contribution']:+.3f} ", style), push["source"])


SCORE_TOP = 20   # rows `score` prints in the terminal unless --top says otherwise


def _print_ranking(rows, result, all_nodes, count):
    from rich.text import Text

    columns = [Col("#", "num"), Col("node" if all_nodes else "model", "id"),
               *([Col("kind", "id")] if all_nodes else []), Col("credence", "num"),
               Col("strength", "num"), Col("shift", "num"), Col("pushed up by", "ids"),
               Col("pushed down by", "ids")]
    table = []
    for rank, row in enumerate(rows, 1):
        shift = row["shift"]
        table.append([str(rank), Text(row["id"], style="bold"),
                      *([row["kind"] or ""] if all_nodes else []),
                      f"{row['credence']:.3f}", f"{row['strength']:.3f}",
                      Text(f"{shift:+.3f}", style="green" if shift > 0 else "red" if shift < 0
                           else ""),
                      _push_cell(row["up"]), _push_cell(row["down"])])
    print_table(columns, table)
    if count > len(rows):
        print_line(f"{count - len(rows)} more not shown (of {count}); --top N shows more",
                   style="dim")
    if not settings().quiet:  # a failure to converge is a warning, printed by the caller
        status = "converged" if result.converged else "NOT converged"
        print_line(f"{result.semantics}: {status}, {result.iterations} iterations, residual "
                   f"{result.residual:.1e}", style="dim")
