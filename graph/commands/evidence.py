"""What the evidence does and how sure the ranking is: evidence, robustness."""
from pathlib import Path

import click

from graph.commands.common import (
    IsoDate, as_of_option, by_option, command, emit_json, filter_json, filter_options,
    json_option, perspective_option, plain_output, print_line, print_table, require_matplotlib,
    say, scoped_corpus, semantics_option, settings,
)
from graph.page.tables import Col


@command("robustness")
@click.option("--samples", type=click.IntRange(10, 1_000_000), default=2000, show_default=True,
              help="Joint samples of the uncertain inputs (a Latin hypercube).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the sampler: the same seed gives the same numbers.")
@semantics_option
@click.option("--all-semantics", is_flag=True,
              help="Make the semantics one more uncertain input (qe, dfquad, eb equally likely).")
@click.option("--spread", type=click.FloatRange(0, 0.5),
              help="Standard deviation given to every plain-number credence (default: takeoff.toml's "
                   "spread, else 0: they stay fixed).")
@click.option("--weight-spread", type=click.FloatRange(0, 0.5),
              help="Standard deviation given to every plain-number edge weight (default: "
                   "takeoff.toml's weight_spread, else 0).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also draw the intervals and P(first) to FILE (.png or .svg; needs matplotlib).")
@as_of_option
@perspective_option
@filter_options
@by_option
@json_option
@click.pass_context
def robustness_command(ctx, samples, seed, semantics, all_semantics, spread, weight_spread, plot,
                       as_of, perspective, by, as_json):
    """How sure is the ranking? Sample every uncertain credence and weight at once and report,
    for each model, its mean strength, 90% interval, the probability that it ranks first and its
    rank distribution; then the inputs whose uncertainty moves the top path most."""
    from graph.solving.propagation import SEMANTICS
    from graph.solving.robustness import robustness

    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter(f"{plot}: the plot file must end in .png or .svg", param_hint="--plot")
    corpus = scoped_corpus(ctx, as_of=as_of, perspective=perspective)
    spread = settings(ctx).setting("spread", 0.0) if spread is None else spread
    if weight_spread is None:
        weight_spread = settings(ctx).setting("weight_spread", 0.0)
    data = robustness(corpus.graph, samples=samples, seed=seed, spread=spread,
                      weight_spread=weight_spread,
                      semantics=tuple(SEMANTICS) if all_semantics else (semantics,),
                      shares=by == "group")
    data["perspective"] = perspective or "base"
    if not data["converged"]:
        click.echo("warning: some samples did not converge; their last states were used", err=True)
    if plot is not None:
        _plot_robustness(data, plot)
    if as_json:
        emit_json(data)
        return
    _print_robustness(data)
    if by == "group":
        _print_share_intervals(data["shares"])


def _print_share_intervals(shares):
    """`robustness --by group`: each part's 90% interval, one row per model."""
    parts = sorted({p for row in shares.values() for p in row},
                   key=lambda p: (p == "evidence", p != "base", p != "reasoning", p))
    print_line("Parts of each strength, 90% interval over the samples (--by group):")
    print_table([Col("model", "id"), *(Col(p, "num") for p in parts)],
                [[node, *(f"{row[p]['low']:.3f} .. {row[p]['high']:.3f}" if p in row else "-"
                          for p in parts)] for node, row in shares.items()])


def _plot_robustness(data, path):
    require_matplotlib()
    from graph.page.plots import plot_robustness

    plot_robustness(data, path)
    say(f"wrote {path}")


def _print_robustness(data):
    if not data["inputs"] and len(data["semantics"]) == 1:
        print_line("no uncertain input: write a credence as {mean: M, spread: S} or "
                   "{low: L, high: H}, or give --spread / --weight-spread", style="yellow")
    n = len(data["models"])
    print_table([Col("#", "num"), Col("model", "id"), Col("point", "num"), Col("mean", "num"),
                 Col("90% interval", "num"), Col("P(first)", "num"),
                 Col("P(rank 1..%d)" % n, "ids")],
                [[str(rank), row["id"], f"{row['point']:.3f}", f"{row['mean']:.3f}",
                  f"{row['low']:.3f} - {row['high']:.3f}", f"{row['p_first']:.3f}",
                  " ".join(f"{p:.2f}" for p in row["ranks"])]
                 for rank, row in enumerate(data["models"], 1)])
    if data["sensitivity"]:
        if plain_output():
            click.echo()
        print_table([Col(f"what moves {data['top']} (first-order Sobol index)", "ids"),
                     Col("index", "num"), Col("std. error", "num")],
                    [[item["input"], f"{item['index']:.3f}", f"{item['error']:.3f}"]
                     for item in data["sensitivity"]])
    print_line(f"{data['samples']} samples (seed {data['seed']}) of {data['inputs']} uncertain "
               f"input(s); semantics {', '.join(data['semantics'])}; perspective "
               f"{data['perspective']}", style="dim")


@command("evidence")
@click.option("--since", type=IsoDate(), metavar="YYYY-MM-DD",
              help="Only the evidence dated after this day: what arrived since, and what it changed.")
@click.option("--top", type=click.IntRange(min=1), metavar="N",
              help="Show the N items with the largest effect (default: all).")
@semantics_option
@as_of_option
@perspective_option
@filter_options
@json_option
@click.pass_context
def evidence_command(ctx, since, top, semantics, as_of, perspective, as_json):
    """List the evidence by what it does to the ranking: each item's contribution to each
    model's strength and to the gap between the top two models.

    A contribution is the strength with every item minus the strength with that item switched
    off (its edges weighed 0): leave-one-out. With 8 items or fewer (e.g. under --since) the
    contributions are exact Shapley values over the items instead, which add up to what the
    items add together; the output says which.
    """
    from graph.solving.shares import evidence_effects

    corpus = scoped_corpus(ctx, as_of=as_of, perspective=perspective)
    data = evidence_effects(corpus.graph, semantics, since=since)
    data["items"] = data["items"][:top]
    data["filter"] = filter_json(ctx, corpus.graph)
    if not data["converged"]:
        click.echo("warning: some solves did not converge; their last states were used", err=True)
    if as_json:
        emit_json(data)
        return
    _print_evidence(data)


EVIDENCE_MODELS = 6   # model columns `evidence` prints in the terminal (all with --json)


def _print_evidence(data):
    models = [m["id"] for m in data["models"]]
    shown = models[:EVIDENCE_MODELS]
    first, second = (data["top"] + [None, None])[:2]
    gap = f"gap {first} - {second}" if second else "gap"
    method = ("exact Shapley values over the items" if data["method"] == "shapley"
              else "leave-one-out: the strength with every item minus without this one")
    print_line(f"{len(data['items'])} evidence item(s){' since ' + data['since'] if data['since'] else ''}; "
               f"contributions are {method} ({data['semantics']})")
    if not data["items"]:
        return

    def number(value):   # "-": the item does not reach that model
        return "-" if value is None else f"{value:+.3f}"

    rows = [[item["id"], item["evidence_kind"] or "-", item["date"] or "-", number(item["gap"]),
             *(number(item["contributions"].get(m)) for m in shown)] for item in data["items"]]
    together = data["together"]
    rows.append(["(together)", "", "", number(together["gap"]),
                 *(number(together["contributions"][m]) for m in shown)])
    print_table([Col("evidence", "id"), Col("kind", "id"), Col("date", "id"), Col(gap, "num"),
                 *(Col(m, "num") for m in shown)], rows)
    if len(models) > len(shown):
        print_line(f"the {len(shown)} strongest of {len(models)} models shown; --json lists "
                   "every model an item reaches", style="dim")
