"""Perspectives: perspective new/set/unset/list/show, and compare."""
import click

from graph.commands.common import (
    as_of_option, command, complete_perspectives, emit_json, filter_options, filtered_corpus,
    group, json_option, load_corpus, parse_weight, print_line, print_table, say,
    semantics_option, signed, styled,
)
from graph.core.limits import quote
from graph.page.tables import Col, inert


# Each sample solves the corpus once per differing override; 10,000 already gives a standard
# error far below the three decimals shown.
MAX_SAMPLES = 10_000


@command("compare")
@click.argument("first", metavar="P", shell_complete=complete_perspectives)
@click.argument("second", metavar="Q", shell_complete=complete_perspectives)
@as_of_option
@semantics_option
@click.option("--samples", type=click.IntRange(1, MAX_SAMPLES), default=200, show_default=True,
              help=f"Random orders for the attribution when more than 10 overrides differ "
                   f"(at most {MAX_SAMPLES:,}).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of those random orders (0 to 2**32 - 1).")
@filter_options
@json_option
@click.pass_context
def compare_command(ctx, first, second, as_of, semantics, samples, seed, as_json):
    """Compare perspectives P and Q (either may be 'base'): each model's strength and rank under
    both, and which overrides drive the difference (Shapley values over the differing overrides)."""
    from graph.explaining.perspective import compare
    from graph.files.perspectives import load_perspective

    corpus = load_corpus(ctx)
    first, second = load_perspective(corpus, first), load_perspective(corpus, second)
    data = compare(filtered_corpus(ctx, corpus), first, second, semantics=semantics, as_of=as_of,
                   samples=samples, seed=seed)
    if as_json:
        emit_json(data)
        return
    _print_comparison(data)


def _attribution_note(data):
    if data["method"] == "exact":
        return "exact Shapley values"
    if data["method"] == "sampled":
        return (f"Shapley values estimated from {data['samples']} random orders "
                f"(standard error <= {data['standard_error']:.3f})")
    return "nothing to attribute"


def _print_comparison(data):
    p, q = data["first"], data["second"]
    agreement = data["rank_agreement"]
    tau = "n/a" if agreement["kendall_tau"] is None else f"{agreement['kendall_tau']:.2f}"
    as_of = f", as of {data['as_of']}" if data["as_of"] else ""
    print_line(styled(("P ", "bold"), (p, ""), ("   Q ", "bold"), (q, "")))
    print_line(styled((f"semantics {data['semantics']}{as_of}; {len(data['overrides'])} "
                      f"override(s) differ; {_attribution_note(data)}, {data['solves']} solves; "
                      f"Kendall tau of the rankings {tau}, {agreement['changed']} of "
                      f"{len(data['models'])} models change rank", "")))
    rows = []
    for row in data["models"]:
        drivers = "\n".join(f"{d['contribution']:+.3f} {d['override']}" for d in row["drivers"])
        rows.append([row["id"], f"{row['strength'][p]:.3f}", f"{row['strength'][q]:.3f}",
                     signed(row["difference"]), str(row["rank"][p]), str(row["rank"][q]),
                     styled((drivers, ""))])
    print_table([Col("model", "id"), Col("P", "num"), Col("Q", "num"), Col("Q - P", "num"),
                 Col("rank P", "num"), Col("rank Q", "num"),
                 Col("main drivers (Shapley share of Q - P)", "ids")],
                rows)
    if data["overrides"]:
        rows = []
        for row in data["overrides"]:
            model, effect = max(row["contributions"].items(), key=lambda kv: abs(kv[1]))
            rows.append([row["override"], f"{row['values'][p]:g}", f"{row['values'][q]:g}",
                         f"{row['total']:.3f}", f"{effect:+.3f} {model}"])
        click.echo()
        print_table([Col("differing override", "ids"), Col("P", "num"), Col("Q", "num"),
                     Col("sum |effect|", "num"), Col("largest effect", "ids")], rows)
    if not data["converged"]:
        click.echo("warning: the solver did not converge for some mixes of overrides", err=True)


@group("perspective")
def perspective_group():
    """Named overlays of credences and edge weights (claims/perspectives/NAME.yaml)."""


@perspective_group.command("new")
@click.argument("name")
@click.option("--description", default="", help="What view the perspective stands for.")
@click.pass_context
def perspective_new(ctx, name, description):
    """Create an empty perspective NAME."""
    from graph.files.perspective_edit import new_perspective

    load_corpus(ctx, strict=False)  # the corpus folder must exist
    path = new_perspective(ctx.obj.corpus_path, name, description)
    say(f"created {path}")


def _override_args(args, with_value):
    """``ID credence [X]`` or ``SRC TARGET weight [W]`` as (item, value or None)."""
    n = 1 if with_value else 0
    if len(args) == 2 + n and args[1] == "credence":
        item, rest = ("credence", args[0]), args[2:]
    elif len(args) == 3 + n and args[2] == "weight":
        item, rest = ("weight", args[0], args[1]), args[3:]
    else:
        value = " X" if with_value else ""
        raise click.UsageError(f"expected ID credence{value} or SRC TARGET weight{value.replace('X', 'W')}")
    if not with_value:
        return item, None
    if item[0] == "weight":
        return item, parse_weight(rest[0], "W", off_allowed=True)
    try:
        return item, float(rest[0])
    except ValueError:
        raise click.BadParameter(f"{quote(rest[0])} is not a number", param_hint="VALUE") from None


@perspective_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("name", shell_complete=complete_perspectives)
@click.argument("args", nargs=-1, required=True, metavar="ID credence X | SRC TARGET weight W")
@click.pass_context
def perspective_set(ctx, name, args):
    """Override a credence (ID credence X) or an edge weight (SRC TARGET weight W) in NAME."""
    from graph.files.perspectives import item_label
    from graph.files.perspective_edit import set_override

    item, value = _override_args(args, with_value=True)
    set_override(ctx.obj.corpus_path, name, item, value)
    say(f"{name}: {item_label(item)} = {value:g}")


@perspective_group.command("unset")
@click.argument("name", shell_complete=complete_perspectives)
@click.argument("args", nargs=-1, required=True, metavar="ID credence | SRC TARGET weight")
@click.pass_context
def perspective_unset(ctx, name, args):
    """Remove an override from NAME (the corpus value applies again)."""
    from graph.files.perspectives import item_label
    from graph.files.perspective_edit import unset_override

    item, _ = _override_args(args, with_value=False)
    unset_override(ctx.obj.corpus_path, name, item)
    say(f"{name}: removed {item_label(item)}")


@perspective_group.command("list")
@json_option
@click.pass_context
def perspective_list(ctx, as_json):
    """List the perspectives of the corpus."""
    from graph.files.perspectives import list_perspectives

    rows = list_perspectives(load_corpus(ctx))
    if as_json:
        emit_json(rows)
        return

    table = []
    for row in rows:
        state = f" ({len(row['problems'])} problem(s))" if row["problems"] else ""
        table.append([row["name"], str(row["credences"]), str(row["weights"]),
                      row["description"] + state])
    print_table([Col("name", "id"), Col("credences", "num"), Col("weights", "num"),
                 Col("description")], table)
    for row in rows:
        for problem in row["problems"]:
            click.echo(inert(problem), err=True)


@perspective_group.command("show")
@click.argument("name", shell_complete=complete_perspectives)
@json_option
@click.pass_context
def perspective_show(ctx, name, as_json):
    """Show the overrides of perspective NAME beside the corpus values."""
    from graph.files.perspectives import describe_perspective

    info = describe_perspective(load_corpus(ctx), name)
    if as_json:
        emit_json(info)
        return

    print_line(styled((info["name"], "bold"), (f"  {info['path'] or ''}", "dim")))
    if info["description"]:
        print_line(info["description"])
    print_table([Col("override", "ids"), Col("corpus", "num"), Col("here", "num"), Col("note")],
                [[row["override"], f"{row['base']:g}", f"{row['value']:g}",
                  styled((row["note"], "dim"))] for row in info["overrides"]])
