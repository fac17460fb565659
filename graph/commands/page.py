"""The HTML page: html (graph.page.html)."""
from pathlib import Path

import click

from graph.commands.common import (
    as_of_option, command, emit_json, filter_json, filter_options, json_option, load_corpus,
    perspective_option, scoped_corpus, semantics_option, settings,
)
from graph.core.model import TakeoffError


@command("html")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="map.html",
              show_default=True, help="The page to write.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser.")
@semantics_option
@click.option("--title", help="Title and heading of the page (shown as text).")
@click.option("--robustness", "robustness_samples", type=click.IntRange(min=10), metavar="N",
              help="Show each path's 90%% interval and P(first) from N samples (takeoff robustness).")
@click.option("--spread", type=click.FloatRange(0, 0.5),
              help="With --robustness: the spread of plain credences (as for takeoff robustness).")
@as_of_option
@perspective_option
@filter_options
@json_option
@click.pass_context
def html_command(ctx, output, open_page, semantics, title, robustness_samples, spread, as_of,
                 perspective, as_json):
    """Write the argument map as one self-contained HTML page (works offline).

    The page carries every perspective of the corpus; --perspective picks the one it opens
    with. In the page, sliders change credences and weights and the map re-scores live.
    """
    from graph.page.html import write_html
    from graph.files.perspectives import BASE, load_perspective, perspective_names
    from graph.explaining.perspective import apply_perspective

    # Perspectives are checked against the whole corpus: under --as-of they may name nodes
    # dated later, whose overrides simply do not apply yet (as for every other command).
    whole = load_corpus(ctx)
    chosen = None if perspective in (None, BASE) else load_perspective(whole, perspective)
    overlays = []
    for name in perspective_names(whole.root):
        try:
            overlays.append(load_perspective(whole, name))
        except TakeoffError as exc:
            click.echo(f"warning: perspective {name!r} left out of the page: {exc}", err=True)
    corpus = scoped_corpus(ctx, as_of=as_of, corpus=whole)
    title = title or settings(ctx).setting("title")
    extra = {"filter": filter_json(ctx, whole.graph)}
    if robustness_samples:
        from graph.solving.robustness import robustness

        graph = corpus.graph if chosen is None else apply_perspective(corpus.graph, chosen)
        data = robustness(graph, samples=robustness_samples, semantics=(semantics,),
                          spread=settings(ctx).setting("spread", 0.0) if spread is None else spread,
                          weight_spread=settings(ctx).setting("weight_spread", 0.0))
        extra["robustness"] = {"samples": data["samples"], "semantics": data["semantics"],
                               "models": {r["id"]: {k: r[k] for k in ("low", "high", "mean", "p_first")}
                                          for r in data["models"]}}
    info = write_html(output, corpus.graph, semantics=semantics, title=title, as_of=as_of,
                      extra=extra, perspectives=overlays,
                      perspective=None if chosen is None else chosen.name)
    if as_json:
        emit_json(info)
    else:
        click.echo(info["path"])
    if open_page:
        click.launch(info["path"])
