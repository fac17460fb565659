"""The corpus over time: history (the strengths as of every step; graph.solving.timeline)."""
from pathlib import Path

import click

from graph.commands.common import (
    IsoDate, by_option, command, complete_ids, console, emit_json, filter_options, json_option,
    perspective_option, plain_output, print_line, print_table, require_matplotlib, say,
    scoped_corpus, semantics_option, styled,
)
from graph.core.model import parse_date
from graph.page.tables import GLUE, Col, widths, wrap_words


def _strength_cell(value, previous):
    """A strength for the history table, green/red when it rose/fell since the step before."""
    if value is None:
        return styled(("-", "dim"))
    style = ""
    if previous is not None and abs(value - previous) >= 0.0005:
        style = "green" if value > previous else "red"
    return styled((f"{value:.3f}", style))


@command("history")
@click.option("--from", "start", type=IsoDate(), help="First day (default: the earliest dated node).")
@click.option("--to", "end", type=IsoDate(),
              help="Last day (default: today, or the latest dated node if later).")
@click.option("--step", type=click.Choice(["day", "week", "month", "quarter"]), default="month",
              show_default=True, help="Score the corpus as of the end of each such period.")
@click.option("--node", "nodes", multiple=True, metavar="ID", shell_complete=complete_ids,
              help="Follow this node instead of the models (repeatable).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also draw the history to FILE (.png or .svg; needs matplotlib).")
@semantics_option
@perspective_option
@filter_options
@by_option
@json_option
@click.pass_context
def history_command(ctx, start, end, step, nodes, plot, semantics, perspective, by, as_json):
    """The strength of each model as evidence arrived: the corpus scored as of every step."""
    from graph.solving.timeline import history

    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter(f"{plot}: the plot file must end in .png or .svg", param_hint="--plot")
    corpus = scoped_corpus(ctx, perspective=perspective)
    data = history(corpus.graph, start=start, end=end, step=step, semantics=semantics,
                   nodes=nodes or None)
    data["perspective"] = perspective or "base"
    if by == "group":
        from graph.solving.shares import share_history

        data["parts"] = share_history(corpus.graph, [parse_date(d) for d in data["dates"]],
                                      semantics, nodes=[n["id"] for n in data["nodes"]])
    if plot is not None:
        _plot_history(data, plot)
    if as_json:
        emit_json(data)
        return
    _print_history_table(data)
    if by == "group":
        _print_evidence_share_history(data)
    say(f"{len(data['dates'])} steps ({step}), {data['solves']} distinct graphs solved, "
        f"semantics {semantics}, perspective {data['perspective']}")


def _print_evidence_share_history(data):
    """`history --by group`: what evidence adds to each node's strength at every step."""
    ids = [n["id"] for n in data["nodes"]]
    print_line("Evidence share of each strength (--by group; base + reasoning + evidence = "
               "strength):")
    print_table([Col("date", "id"), *(Col(n, "num") for n in ids)],
                [[day, *("-" if data["parts"][n]["evidence"][j] is None
                         else f"{data['parts'][n]['evidence'][j]:+.3f}" for n in ids)]
                 for j, day in enumerate(data["dates"])])


def _print_history_table(data):
    """One row per run of identical steps (:func:`graph.solving.timeline.runs`), one column per node,
    then the evidence that arrived. On a narrow terminal the node columns get numbers (with a
    key below) and the arrivals go below the table, so that no id is ever cut."""
    from graph.solving.timeline import new_evidence, runs

    ids = [n["id"] for n in data["nodes"]]
    rows, previous, arrivals = [], dict.fromkeys(ids), []
    dates, evidence = data["dates"], new_evidence(data)
    for i, last in runs(data):
        day = dates[i] if i == last else f"{dates[i]} to {dates[last]}"
        arrived = evidence[i]
        row = [data["strengths"][n][i] for n in ids]
        flag = "" if data["converged"][i] else " (not converged)"
        rows.append([day + flag, *(_strength_cell(v, previous[n]) for n, v in zip(ids, row))])
        arrivals.append(f"+{len(arrived)} {', '.join(arrived)}" if arrived else "")
        previous = dict(zip(ids, row))
    new = Col("new evidence", "ids")
    named = [Col("as of", "id"), *(Col(n, "num") for n in ids)]
    numbered = [Col("as of", "id"), *(Col(f"[{k}]", "num") for k in range(1, len(ids) + 1))]
    with_arrivals = [[*row, styled((a, "dim"))] for row, a in zip(rows, arrivals)]
    width = None if plain_output() else console().size.width
    for columns, table in (([*named, new], with_arrivals), ([*numbered, new], with_arrivals),
                           (numbered, rows)):
        if width is None or widths(columns, table, width)[1]:
            break
    print_table(columns, table)
    if columns[1].header != ids[0]:
        legend = "  ".join(f"[{k}]{GLUE}{n}" for k, n in enumerate(ids, 1))
        for line in wrap_words(legend, width, indent=""):
            print_line(line, style="dim")
    if columns[-1] is not new:
        for row, arrived in zip(rows, arrivals):
            for line in wrap_words(f"{row[0]}: {arrived}", width) if arrived else ():
                print_line(line, style="dim")


def _plot_history(data, path):
    require_matplotlib()
    from graph.page.plots import plot_history

    title = None
    if data["perspective"] != "base":
        title = f"Strength of each takeoff path as of each {data['step']} ({data['perspective']})"
    plot_history(data, path, title=title)
    say(f"wrote {path}")
