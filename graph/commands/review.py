"""Changes between revisions: diff, log (graph.explaining.review)."""
from pathlib import Path

import click

from graph.commands.common import (
    as_of_option, command, complete_ids, emit_json, json_option, perspective_option, print_line,
    print_table, require_matplotlib, say, semantics_option, settings, signed, styled,
)
from graph.page.tables import Col


@command("diff")
@click.argument("revisions", nargs=-1, metavar="[A [B] | A..B]")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text",
              show_default=True, help="markdown: a pull-request comment (summary first, "
                                      "details folded).")
@click.option("--top", type=click.IntRange(1), help="List at most this many causes per path.")
@click.option("--no-lint", "no_lint", is_flag=True,
              help="Compare check's findings only, not lint's (faster on a large corpus).")
@as_of_option
@semantics_option
@perspective_option
@json_option
@click.pass_context
def diff_command(ctx, revisions, fmt, top, no_lint, as_of, semantics, perspective, as_json):
    """What a change did to the map: nodes, fields, edges, sources and perspectives changed,
    each path's strength before and after with its change split among the changed inputs
    (exact Shapley values), and the findings of check and lint it brings or clears.

    A and B are git revisions of the corpus (read from the repository, nothing checked out) or
    corpus folders; with one, the work tree against it; with none, the work tree against HEAD.
    """
    from graph.explaining.review import diff, to_markdown

    data = diff(settings(ctx).corpus_path, revisions, semantics=semantics,
                perspective=perspective, as_of=as_of, top=top, with_lint=not no_lint)
    if as_json:
        emit_json(data)
    elif fmt == "markdown":
        click.echo(to_markdown(data), nl=False)
    else:
        _print_diff(data)


def _print_diff(data):
    r, s, f = data["ranking"], data["structure"], data["findings"]
    print_line(styled((f"{data['before']} -> {data['after']}: ", "bold"), (data["summary"], "")))
    rows = []
    for p in r["paths"]:
        causes = "\n".join(f"{c['contribution']:+.4f} {c['input']}" for c in p["parts"])
        rows.append([p["id"], _maybe(p["before"]), _maybe(p["after"]),
                     signed(p["change"]) if p["change"] is not None else p["status"],
                     f"{p['rank']['before'] or '-'} > {p['rank']['after'] or '-'}",
                     styled((causes, ""))])
    print_table([Col("path", "id"), Col("before", "num"), Col("after", "num"),
                 Col("change", "num"), Col("rank", "num"),
                 Col("what moved it (Shapley parts of the change)", "ids")], rows)
    grouping = f"; {r['grouping']}" if r["grouping"] else ""
    print_line(styled((f"semantics {r['semantics']}, perspective {r['perspective']}"
                      f"{', as of ' + r['as_of'] if r['as_of'] else ''}; {r['method']}, "
                      f"{r['solves']} solves{grouping}", "dim")))
    for note in r["notes"] + ([] if r["converged"] else
                              ["the solver did not converge for some mixes of changes"]):
        click.echo(f"warning: {note}", err=True)
    changes = [[x["id"], "added", x["kind"] or "", x["title"] or ""] for x in s["added"]]
    changes += [[x["id"], "removed", x["kind"] or "", x["title"] or ""] for x in s["removed"]]
    changes += [[x["new"], "renamed", x["old"], x["new"]] for x in s["renamed"]]
    changes += [[x["id"], x["field"], x["old"], x["new"]] for x in s["fields"]]
    changes += [[x["id"], f"source {x['change']}", x["old"], f"{x['url']} {x['new']}"]
                for x in s["sources"]]
    changes += [[f"{e['source']} -> {e['target']}", f"edge {e['change']}", e["old"], e["new"]]
                for e in s["edges"]]
    changes += [[x["name"], f"perspective {x['change']}", x["old"],
                 f"{x['override']} {x['new']}".strip()] for x in s["perspectives"]]
    if changes:
        click.echo()
        print_table([Col("what", "id"), Col("change", "id"), Col("before", "text"),
                     Col("after", "text")], changes)
    for title, items in (("new finding", f["introduced"]), ("cleared finding", f["removed"])):
        for item in items:
            click.echo(f"{title}: {item}", err=True)


def _maybe(value):
    return "-" if value is None else f"{value:.3f}"


def _moved(path):
    """``id 0.405 -> 0.264 (-0.142, rank 6 > 5)``: a path's move in one commit."""
    rank = path["rank"]
    notes = [f"{path['change']:+.3f}"] if path["change"] else []
    if rank["before"] and rank["after"] and rank["before"] != rank["after"]:
        notes.append(f"rank {rank['before']} > {rank['after']}")
    notes = f" ({', '.join(notes)})" if notes else ""
    return f"{path['id']} {_maybe(path['before'])} -> {_maybe(path['after'])}{notes}"


@command("log")
@click.argument("node_id", metavar="[ID]", required=False, shell_complete=complete_ids)
@click.option("--rev", "revisions", multiple=True, metavar="REV",
              help="Commits reachable from REV (or in A..B; repeatable). Default: HEAD.")
@click.option("-n", "--max-count", type=click.IntRange(1), help="Look at this many commits.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also draw the paths' strengths over the commits to FILE (.png or .svg).")
@as_of_option
@semantics_option
@perspective_option
@json_option
@click.pass_context
def log_command(ctx, node_id, revisions, max_count, plot, as_of, semantics, perspective,
                as_json):
    """The commits that changed the corpus (or node ID, followed through renames made by
    `takeoff mv`), newest first, each with the change it made to the paths' strengths."""
    from graph.explaining.review import log

    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg"):
            raise click.BadParameter(f"{plot}: the plot file must end in .png or .svg",
                                     param_hint="--plot")
        require_matplotlib()
    data = log(settings(ctx).corpus_path, node_id, revisions or ("HEAD",), max_count=max_count,
               semantics=semantics, perspective=perspective, as_of=as_of)
    if plot is not None:
        from graph.explaining.review import plot_log

        plot_log(data, plot)
        say(f"wrote {plot}")
    if as_json:
        emit_json(data)
        return

    rows = []
    for c in data["commits"]:
        moved = "\n".join(_moved(p) for p in c["paths"] if p["change"] != 0.0)
        rows.append([c["short"], c["date"], styled((c["subject"], "")),
                     styled((c["changes"], "")), styled((moved, ""))])
    print_table([Col("commit", "id"), Col("date", "id"), Col("subject", "text"),
                 Col("changes", "text"), Col("strengths moved", "ids")], rows)
