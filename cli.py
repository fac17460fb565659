"""The ``takeoff`` command: a thin click layer over the ``graph`` package.

Each command parses its arguments, makes one call of the Python API and prints the result:
a table for people, or JSON with ``--json``. Errors the user can act on are raised as
``TakeoffError`` and printed without a traceback (exit 1); usage errors exit 2, as click does.
"""
import json
import os
import sys
from pathlib import Path

import click

from graph.model import KINDS, Corpus, TakeoffError

# The solver works on sparse arrays; BLAS threads (OpenBLAS, used for a few dense steps) only
# spin on the other core for problems this size, burning CPU for no gain. One thread unless
# the user asks for more; set before numpy is first imported (docs/performance.md).
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

BUNDLED_CORPUS = Path(__file__).resolve().parent / "claims"


class TakeoffGroup(click.Group):
    """Turns every ``TakeoffError`` and OS error into a message and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TakeoffError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except OSError as exc:
            click.echo(f"Error: {exc.filename or ''}: {exc.strerror or exc}", err=True)
            ctx.exit(1)


class Settings:
    def __init__(self, corpus_path):
        self.corpus_path = Path(corpus_path)


def load_corpus(ctx, *, strict=True):
    """The corpus named by ``--corpus``; with ``strict`` its errors end the command (exit 1)."""
    corpus = Corpus.load(ctx.obj.corpus_path)
    if strict:
        corpus.require_valid()
    return corpus


def emit_json(data):
    """Print ``data`` as JSON on stdout (the ``--json`` convention of every command)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def console():
    from rich.console import Console

    # Piped output (a file, a pager, a test) has no width of its own: give tables room rather
    # than rich's 80 columns, which folds ids and notes mid-word.
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, soft_wrap=False, width=160 if piped else None)


def weighted_target(value, param_name):
    """``TARGET[:WEIGHT]`` as (target, weight or None)."""
    target, _, weight = value.partition(":")
    if not weight:
        return target, None
    try:
        return target, float(weight)
    except ValueError:
        raise click.BadParameter(f"{value!r}: WEIGHT must be a number", param_hint=param_name)


@click.group(cls=TakeoffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--corpus", "corpus_path", envvar="TAKEOFF_CORPUS", default="claims",
              show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="The corpus folder (default: $TAKEOFF_CORPUS, else ./claims).")
@click.version_option(package_name="takeoff-graph")
@click.pass_context
def cli(ctx, corpus_path):
    """Argue about AI takeoff with an annotated, scored knowledge graph.

    The corpus is a folder of Markdown files, one per node (model, claim or evidence), with
    YAML front matter holding its credence, sources and supports/undermines edges.
    """
    ctx.obj = Settings(corpus_path)


# ==== section: history (options shared with score, why, html, export) ====
# Defined before the other sections (foundation's export included) so their commands can use them.

class IsoDate(click.ParamType):
    """A ``YYYY-MM-DD`` argument as a :class:`datetime.date`; ``YYYY-MM`` means the last day
    of that month (the day from which a month-dated node counts)."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        from graph.model import DATE_FORMS, parse_date

        date = parse_date(value)
        if date is None:
            self.fail(f"{value!r} is not an ISO date ({DATE_FORMS})", param, ctx)
        return date.as_day() if hasattr(date, "as_day") else date


def as_of_option(f):
    return click.option(
        "--as-of", "as_of", type=IsoDate(), metavar="YYYY-MM-DD",
        help="The corpus as it stood on this day: nodes dated later, and their edges, are "
             "left out; undated nodes always count, a month-dated node from the month's last "
             "day (YYYY-MM here means that day).")(f)


def perspective_option(f):
    return click.option(
        "--perspective", metavar="NAME",
        help="Apply the credences and weights of claims/perspectives/NAME.yaml "
             "('base': the corpus as written).")(f)


def semantics_option(f):
    return click.option("--semantics", default="qe", show_default=True, metavar="NAME",
                        callback=_check_semantics,
                        help="The gradual semantics: qe (quadratic energy), dfquad (DF-QuAD) "
                             "or eb (Euler-based).")(f)


def _check_semantics(ctx, param, value):
    # Checked against the registry, not a fixed list: adding a semantics adds its name here.
    from graph.propagation import SEMANTICS

    if value not in SEMANTICS:
        raise click.BadParameter(f"{value!r} is not one of {', '.join(SEMANTICS)}")
    return value


def scoped_corpus(ctx, as_of=None, perspective=None):
    """The valid corpus seen through ``--perspective`` and ``--as-of`` (see graph.perspective.scope)."""
    corpus = load_corpus(ctx)
    if as_of is None and perspective is None:
        return corpus
    from graph.perspective import scope

    scoped = scope(corpus, as_of=as_of, perspective=perspective)
    if as_of is not None:
        left_out = corpus.graph.number_of_nodes() - scoped.graph.number_of_nodes()
        click.echo(f"as of {as_of}: {left_out} node(s) dated later left out", err=True)
    return scoped


# ==== section: foundation ====

@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", is_flag=True, help="Copy the bundled corpus instead of starting empty.")
@click.pass_context
def init(ctx, folder, example):
    """Create a new corpus in FOLDER (default: the --corpus folder)."""
    from graph.edit import init_corpus

    folder = folder or ctx.obj.corpus_path
    if example and not BUNDLED_CORPUS.is_dir():
        raise TakeoffError(f"the bundled corpus is not installed ({BUNDLED_CORPUS})")
    init_corpus(folder, example_from=BUNDLED_CORPUS if example else None)
    click.echo(f"created {'a copy of the bundled corpus' if example else 'an empty corpus'} in {folder}",
               err=True)


@cli.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("node_id", metavar="ID")
@click.option("--title", required=True, help="A one-line statement of the node.")
@click.option("--credence", type=click.FloatRange(0, 1), help="Base score in [0, 1] (default 0.5).")
@click.option("--date", "date_text", metavar="YYYY-MM-DD",
              help="When it was observed or published (YYYY-MM if only the month is known).")
@click.option("--tag", "tags", multiple=True, help="A theme tag (repeatable).")
@click.option("--source", "sources", multiple=True, metavar="URL", help="A source URL (repeatable).")
@click.option("--supports", multiple=True, metavar="TARGET[:WEIGHT]", help="An id this node supports.")
@click.option("--undermines", multiple=True, metavar="TARGET[:WEIGHT]", help="An id this node undermines.")
@click.option("--body", help="The Markdown annotation.")
@click.option("--edit", "use_editor", is_flag=True, help="Write the annotation in $EDITOR.")
@click.pass_context
def add(ctx, kind, node_id, title, credence, date_text, tags, sources, supports, undermines,
        body, use_editor):
    """Add a node of KIND (model, claim, evidence, argument) with the id ID."""
    from graph.edit import add_node
    from graph.model import DATE_FORMS, parse_date

    if body is not None and use_editor:
        raise click.UsageError("give either --body or --edit, not both")
    date = None
    if date_text is not None:
        date = parse_date(date_text)
        if date is None:
            raise click.BadParameter(f"{date_text!r} is not an ISO date ({DATE_FORMS})", param_hint="--date")
    if use_editor:
        body = click.edit("\n", extension=".md") or ""
    add_node(ctx.obj.corpus_path, kind, node_id, title, credence=credence, date=date, tags=tags,
             sources=sources, body=body or "",
             supports=[weighted_target(v, "--supports") for v in supports],
             undermines=[weighted_target(v, "--undermines") for v in undermines])
    click.echo(f"added {kind} {node_id}", err=True)


@cli.command()
@click.argument("source", metavar="SRC")
@click.argument("target")
@click.option("--supports", "relation", flag_value="supports", help="SRC supports TARGET.")
@click.option("--undermines", "relation", flag_value="undermines", help="SRC undermines TARGET.")
@click.option("--weight", type=click.FloatRange(0, 1, min_open=True), help="Edge weight in (0, 1] (default 1).")
@click.option("--note", help="Why this edge exists.")
@click.pass_context
def link(ctx, source, target, relation, weight, note):
    """Add an edge from SRC to TARGET, or update its weight and note."""
    from graph.edit import link as link_nodes

    if relation is None:
        raise click.UsageError("say --supports or --undermines")
    link_nodes(ctx.obj.corpus_path, source, target, relation, weight=weight, note=note)
    click.echo(f"{source} {relation} {target}", err=True)


@cli.command()
@click.argument("source", metavar="SRC")
@click.argument("target")
@click.option("--force", is_flag=True,
              help="Also remove the perspectives' overrides of the edge's weight.")
@click.pass_context
def unlink(ctx, source, target, force):
    """Remove the edge from SRC to TARGET (refused while a perspective overrides its weight,
    unless --force)."""
    from graph.edit import unlink as unlink_nodes

    unlink_nodes(ctx.obj.corpus_path, source, target, force=force)
    click.echo(f"removed the edge {source} -> {target}", err=True)


@cli.command("set")
@click.argument("node_id", metavar="ID")
@click.argument("field", metavar="FIELD")
@click.argument("value")
@click.pass_context
def set_(ctx, node_id, field, value):
    """Set FIELD (kind, title, credence, date, tags, body) of node ID to VALUE.

    Tags are comma-separated; an empty VALUE removes the date or the tags.
    """
    from graph.edit import set_field

    set_field(ctx.obj.corpus_path, node_id, field, value)
    click.echo(f"set {node_id} {field}", err=True)


@cli.command()
@click.argument("node_id", metavar="ID")
@click.option("--force", is_flag=True, help="Also remove the edges other nodes have to ID and "
                                            "the perspectives' overrides of ID and its edges.")
@click.pass_context
def rm(ctx, node_id, force):
    """Remove node ID (refused while other nodes or perspectives refer to it, unless --force)."""
    from graph.edit import remove_node

    remove_node(ctx.obj.corpus_path, node_id, force=force)
    click.echo(f"removed {node_id}", err=True)


@cli.command()
@click.option("--shacl", is_flag=True,
              help="Also validate the corpus as RDF against the vocabulary's SHACL shapes "
                   "(needs the shacl extra).")
@json_option
@click.pass_context
def check(ctx, shacl, as_json):
    """Validate the corpus: every problem as path:line: message (exit 1 on errors)."""
    corpus = load_corpus(ctx, strict=False)
    if not corpus.errors:
        from graph.perspective import check_perspectives

        corpus.problems += check_perspectives(corpus)
    violations = []
    if shacl and not corpus.errors:
        from graph.rdf import to_rdf, validate_shacl

        violations = validate_shacl(to_rdf(corpus.graph, store="memory"))
    graph = corpus.graph
    summary = {kind: sum(1 for _, k in graph.nodes(data="kind") if k == kind) for kind in KINDS}
    ok = not corpus.errors and not violations
    if as_json:
        emit_json({"ok": ok, "nodes": graph.number_of_nodes(),
                   "edges": graph.number_of_edges(), "kinds": summary,
                   "problems": [p.to_json() for p in corpus.problems],
                   **({"violations": [v.to_json() for v in violations]} if shacl else {})})
    else:
        for problem in corpus.problems:
            click.echo(str(problem), err=True)
        for violation in violations:
            click.echo(f"SHACL: {violation}", err=True)
        counts = ", ".join(f"{n} {k}" for k, n in summary.items())
        state = "ok" if ok else f"{len(corpus.errors) + len(violations)} error(s)"
        conform = ", conforms to the SHACL shapes" if shacl and ok else ""
        click.echo(f"{state}: {graph.number_of_nodes()} nodes ({counts}), "
                   f"{graph.number_of_edges()} edges, {len(corpus.warnings)} warning(s){conform}")
    if not ok:
        ctx.exit(1)


@cli.command("list")
@click.option("--kind", type=click.Choice(KINDS), help="Only nodes of this kind.")
@click.option("--tag", help="Only nodes with this tag.")
@json_option
@click.pass_context
def list_(ctx, kind, tag, as_json):
    """List the nodes of the corpus."""
    from graph.query import list_nodes

    rows = list_nodes(load_corpus(ctx).graph, kind=kind, tag=tag)
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table("id", "kind", "credence", "date", "title", box=None, header_style="bold")
    for row in rows:
        table.add_row(row["id"], row["kind"], f"{row['credence']:.2f}", row["date"] or "",
                      row["title"])
    console().print(table)


@cli.command()
@click.argument("node_id", metavar="ID")
@json_option
@click.pass_context
def show(ctx, node_id, as_json):
    """Show node ID: its fields, sources and edges."""
    from graph.query import describe_node

    corpus = load_corpus(ctx)
    info = describe_node(corpus, node_id)
    if as_json:
        emit_json(info)
        return
    print_node(info)


def print_node(info):
    out = console()
    out.print(f"[bold]{info['id']}[/bold]  ({info['kind']})", markup=True)
    out.print(info["title"], markup=False)
    line = f"credence {info['credence']:.3f}"
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
            out.print(f"{arrow} {edge['relation']} {other} w={edge['weight']:g}{note}", markup=False)
    if info["links"]:
        out.print("links: " + ", ".join(link["id"] + ("" if link["exists"] else " (unknown id)")
                                        for link in info["links"]), markup=False)
    if info["body"].strip():
        out.print("")
        out.print(info["body"].rstrip(), markup=False)
    out.print(f"\n{info['path']}", markup=False, style="dim")


def _format_choice(importable=False):
    from graph.interchange import FORMATS, IMPORTABLE

    return click.Choice(IMPORTABLE if importable else list(FORMATS))


def base_option(f):
    return click.option("--base", metavar="IRI",
                        help="RDF formats: node ids become IRIs under this base "
                             "(default https://w3id.org/takeoff-graph/node/).")(f)


@cli.command()
@click.option("--format", "fmt", default="node-link", show_default=True, type=_format_choice(),
              help="The output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@base_option
@click.option("--with-strengths", is_flag=True,
              help="RDF and GraphML: include each node's strength under --semantics.")
@semantics_option
@click.option("--store", type=click.Choice(["auto", "memory", "oxigraph"]), default="auto",
              show_default=True,
              help="RDF: rdflib's in-memory store or Oxigraph (much faster at 100,000 triples; "
                   "auto picks it for large corpora when installed).")
@as_of_option
@click.pass_context
def export(ctx, fmt, output, base, with_strengths, semantics, store, as_of):
    """Print the corpus in another format (see --format)."""
    from graph.interchange import export_graph

    corpus = scoped_corpus(ctx, as_of)
    score = corpus.score(semantics) if with_strengths else None
    if score is not None and not score.converged:
        click.echo(f"warning: {score.message}", err=True)
    text = export_graph(corpus.graph, fmt, base=base, score=score, store=store)
    if output is None:
        click.echo(text, nl=False)
    else:
        from graph.store import atomic_write

        atomic_write(output, text)
        click.echo(f"wrote {output}", err=True)


@cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--format", "fmt", default="node-link", show_default=True,
              type=_format_choice(importable=True), help="The input format.")
@click.option("--replace", is_flag=True, help="Overwrite nodes whose ids already exist.")
@base_option
@click.pass_context
def import_(ctx, file, fmt, replace, base):
    """Write the nodes of FILE (- for stdin) into the corpus as files."""
    from graph.edit import import_graph
    from graph.interchange import parse_graph

    try:
        graph = parse_graph(file.read(), fmt, base=base)
    except TakeoffError as exc:
        raise TakeoffError(f"{file.name}: {exc}") from None
    except UnicodeDecodeError:
        raise TakeoffError(f"{file.name}: not UTF-8 text") from None
    for warning in graph.graph.pop("warnings", []):
        click.echo(f"warning: {file.name}: {warning}", err=True)
    summary = graph.graph.pop("summary", None)  # what the file held, in the format's terms
    import_graph(ctx.obj.corpus_path, graph, replace=replace)
    click.echo(f"imported {graph.number_of_nodes()} nodes and {graph.number_of_edges()} edges "
               f"into {ctx.obj.corpus_path}" + (f" ({summary})" if summary else ""), err=True)


# ==== section: propagation ====

def _check_tolerance(ctx, param, value):
    if not 0.0 < value < 1.0:
        raise click.BadParameter(f"{value:g} is out of range: it must be greater than 0 and "
                                 f"less than 1")
    return value


@cli.command()
@semantics_option
@click.option("--tolerance", type=float, default=1e-9, show_default=True, metavar="T",
              callback=_check_tolerance, help="Stop when max |f(s) - s| < T (0 < T < 1).")
@click.option("--all", "all_nodes", is_flag=True, help="Rank every node, not only the models.")
@click.option("--top", type=click.IntRange(min=1), metavar="N",
              help="Show the N strongest (default: 20 in the terminal, all with --json).")
@as_of_option
@perspective_option
@json_option
@click.pass_context
def score(ctx, semantics, tolerance, all_nodes, top, as_of, perspective, as_json):
    """Rank the takeoff paths by strength: how strongly the evidence favours each.

    Shift is strength minus credence. "Pushed up by" and "pushed down by" name the incoming
    edges with the largest positive and negative contribution: the node's strength minus its
    strength with that one edge removed. The terminal shows the 20 strongest unless --top
    says otherwise.
    """
    from graph.propagation import ranking

    corpus = scoped_corpus(ctx, as_of=as_of, perspective=perspective)
    result = corpus.score(semantics, tolerance=tolerance)
    if not result.converged:
        click.echo(f"warning: {result.message}", err=True)
    rows = ranking(corpus.graph, result, kind=None if all_nodes else "model")
    if as_json:
        data = result.to_json(corpus.graph)
        data["ranking"] = [{k: row[k] for k in ("id", "strength", "shift", "up", "down")}
                           for row in rows[:top]]
        emit_json(data)
        return
    _print_ranking(rows[:top or SCORE_TOP], result, all_nodes, len(rows))


def _push_cell(push):
    from rich.text import Text

    if push is None:
        return Text("-", style="dim")
    style = "green" if push["contribution"] > 0 else "red"
    return Text.assemble((f"{push['contribution']:+.3f} ", style), push["source"])


SCORE_TOP = 20   # rows `score` prints in the terminal unless --top says otherwise


def _print_ranking(rows, result, all_nodes, count):
    from rich.table import Column, Table
    from rich.text import Text

    table = Table("#", Column("node" if all_nodes else "model", no_wrap=True),
                  *(["kind"] if all_nodes else []), "credence", "strength", "shift",
                  Column("pushed up by", overflow="fold"),
                  Column("pushed down by", overflow="fold"), box=None, header_style="bold")
    for rank, row in enumerate(rows, 1):
        shift = row["shift"]
        table.add_row(str(rank), Text(row["id"], style="bold"),
                      *([row["kind"] or ""] if all_nodes else []),
                      f"{row['credence']:.3f}", f"{row['strength']:.3f}",
                      Text(f"{shift:+.3f}", style="green" if shift > 0 else "red" if shift < 0
                           else ""),
                      _push_cell(row["up"]), _push_cell(row["down"]))
    out = console()
    out.print(table)
    if count > len(rows):
        out.print(f"{count - len(rows)} more not shown (of {count}); --top N shows more",
                  style="dim", markup=False)
    status = "converged" if result.converged else "NOT converged"
    out.print(f"{result.semantics}: {status}, {result.iterations} iterations, residual "
              f"{result.residual:.1e}", style="dim", markup=False)


# ==== section: html ====

@cli.command("html")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="map.html",
              show_default=True, help="The page to write.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser.")
@semantics_option
@click.option("--title", help="Title and heading of the page (shown as text).")
@click.option("--robustness", "robustness_samples", type=click.IntRange(min=10), metavar="N",
              help="Show each path's 90%% interval and P(first) from N samples (takeoff robustness).")
@click.option("--spread", type=click.FloatRange(0, 0.5), default=0.0,
              help="With --robustness: the spread of plain credences (as for takeoff robustness).")
@as_of_option
@perspective_option
@json_option
@click.pass_context
def html_command(ctx, output, open_page, semantics, title, robustness_samples, spread, as_of,
                 perspective, as_json):
    """Write the argument map as one self-contained HTML page (works offline).

    The page carries every perspective of the corpus; --perspective picks the one it opens
    with. In the page, sliders change credences and weights and the map re-scores live.
    """
    from graph.html import write_html
    from graph.perspective import BASE, apply_perspective, load_perspective, perspective_names

    corpus = scoped_corpus(ctx, as_of=as_of)
    chosen = None if perspective in (None, BASE) else load_perspective(corpus, perspective)
    overlays = []
    for name in perspective_names(corpus.root):
        try:
            overlays.append(load_perspective(corpus, name))
        except TakeoffError as exc:
            click.echo(f"warning: perspective {name!r} left out of the page: {exc}", err=True)
    extra = {}
    if robustness_samples:
        from graph.robustness import robustness

        graph = corpus.graph if chosen is None else apply_perspective(corpus.graph, chosen)
        data = robustness(graph, samples=robustness_samples, semantics=(semantics,), spread=spread)
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

# ==== section: rdf ====
# `takeoff sparql` over the corpus as RDF. The RDF and argument-mapping formats of `export` and
# `import` are rows of graph.interchange.FORMATS; `check --shacl` is in `check`.

def _score_for(graph, with_strengths, semantics):
    """The strengths to add to the RDF, if --with-strengths asked for them."""
    if not with_strengths:
        return None
    from graph.propagation import score_graph

    result = score_graph(graph, semantics)
    if not result.converged:
        click.echo(f"warning: {result.message}", err=True)
    return result


@cli.command()
@click.argument("query", required=False)
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and exit.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (SELECT) instead of a table.")
@json_option
@base_option
@click.option("--with-strengths", is_flag=True, help="Add tg:strength to every node.")
@semantics_option
@click.option("--store", type=click.Choice(["auto", "memory", "oxigraph"]), default="auto",
              show_default=True, help="rdflib's in-memory store or Oxigraph (auto: by size).")
@as_of_option
@perspective_option
@click.pass_context
def sparql(ctx, query, list_queries, as_csv, as_json, base, with_strengths, semantics, store,
           as_of, perspective):
    """Run a SPARQL query on the corpus as RDF.

    QUERY is SPARQL text, @FILE.rq, or the name of a shipped query (see --list). The prefixes
    tg, aif, schema, dcterms, prov, xsd, rdfs, rdf and node (the base) are bound:

        takeoff sparql 'SELECT ?e WHERE { ?e tg:supports ?m . ?m a tg:Model }'
    """
    from graph.rdf import DEFAULT_BASE, named_queries, resolve_query, run_query, to_rdf

    if list_queries:
        named = named_queries()
        _print_rows(["name", "description"], [[n, d] for n, (d, _) in named.items()],
                    json_data=[{"name": n, "description": d} for n, (d, _) in named.items()]
                    if as_json else None, as_csv=as_csv)
        return
    if not query:
        raise click.UsageError("give a QUERY (text, @file.rq or a name from --list)")
    text = resolve_query(query)
    graph = scoped_corpus(ctx, as_of=as_of, perspective=perspective).graph
    base = base or DEFAULT_BASE
    rdf_graph = to_rdf(graph, base, score=_score_for(graph, with_strengths, semantics), store=store)
    result = run_query(rdf_graph, text)
    if result.kind == "SELECT":
        shown = [[_term_text(rdf_graph, t, compact=not as_csv) for t in row] for row in result.rows]
        _print_rows(result.variables, shown, json_data=result.to_json() if as_json else None,
                    as_csv=as_csv)
        if not as_json and not as_csv:
            click.echo(f"{len(result.rows)} row(s)", err=True)
    elif as_json:
        emit_json(result.to_json())
    elif result.kind == "ASK":
        click.echo("true" if result.answer else "false")
    else:
        from graph.rdf import new_graph

        out = new_graph(base, "memory")
        out += result.graph
        click.echo(out.serialize(format="turtle"), nl=False)


def _term_text(rdf_graph, term, compact):
    """A result cell: IRIs as prefixed names (``node:id``) when ``compact``, literals as text."""
    from rdflib import URIRef

    if term is None:
        return ""
    if compact and isinstance(term, URIRef):
        try:
            return rdf_graph.namespace_manager.normalizeUri(term)
        except Exception:  # an IRI rdflib cannot split stays whole
            return str(term)
    return str(term)


def _print_rows(columns, rows, *, json_data=None, as_csv=False):
    """``json_data`` as JSON if given, else the rows as CSV or a rich table."""
    if json_data is not None:
        emit_json(json_data)
    elif as_csv:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        from rich.table import Table
        from rich.text import Text

        table = Table(*columns, box=None, header_style="bold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console().print(table)


# ==== section: explain ====

def _explain_corpus(ctx, semantics, *ids, as_of=None, perspective=None):
    """The corpus, its scores, and a check that every id in ``ids`` names a node."""
    corpus = scoped_corpus(ctx, as_of, perspective)
    for node_id in ids:
        corpus.node(node_id)
    result = corpus.score(semantics)
    if not result.converged:
        click.echo(f"warning: {result.message}", err=True)
    return corpus, result


def _text(*parts):
    """A rich Text from (text, style) pairs: titles are never read as markup."""
    from rich.text import Text

    text = Text()
    for part, style in parts:
        text.append(part, style=style)
    return text


RELATION_STYLE = {"supports": "green", "undermines": "red"}


def _chain_text(chain):
    parts = [(chain["nodes"][0], "")]
    for relation, weight, node in zip(chain["relations"], chain["weights"], chain["nodes"][1:]):
        parts += [(f" -{relation} {weight:g}-> ", RELATION_STYLE[relation]), (node, "")]
    return _text(*parts)


@cli.command("tree")
@click.argument("node_id", metavar="ID")
@click.option("--depth", type=click.IntRange(min=1), help="Levels of edges to show (default: all).")
@click.option("--direction", type=click.Choice(["in", "out"]), default="in", show_default=True,
              help="in: what supports or undermines ID; out: what ID supports or undermines.")
@semantics_option
@json_option
@click.pass_context
def tree_command(ctx, node_id, depth, direction, semantics, as_json):
    """Show the argument into (or out of) node ID as an indented tree."""
    from graph.explain import tree

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
                  (row["title"], "dim")]
        if row["cycle"]:
            parts.append(("  [cycle: already on this branch]", "yellow"))
        elif row["repeat"]:
            parts.append(("  [shown above]", "yellow"))
        return _text(*parts)

    def add(branch, row):
        for child in row["children"]:
            add(branch.add(label(child)), child)

    shown = Tree(label(root))
    add(shown, root)
    console().print(shown)


@cli.command("paths")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.option("--max-length", type=click.IntRange(min=1), default=6, show_default=True,
              help="The most edges a chain may have.")
@click.option("--top", type=click.IntRange(min=1), help="Show only the N strongest chains.")
@json_option
@click.pass_context
def paths_command(ctx, source, target, max_length, top, as_json):
    """List the chains of edges from FROM to TO, strongest first."""
    from graph.explain import paths

    corpus = load_corpus(ctx)
    chains = paths(corpus.graph, source, target, max_length=max_length, top=top)
    if as_json:
        emit_json(chains)
        return
    if not chains:
        click.echo(f"no chain of at most {max_length} edges from {source} to {target}", err=True)
        return
    from rich.table import Table

    table = Table("sign", "weight", "edges", "chain", box=None, header_style="bold")
    for chain in chains:
        table.add_row(_text((chain["sign"], RELATION_STYLE[chain["sign"]])),
                      f"{chain['weight']:.3f}", str(chain["length"]), _chain_text(chain))
    console().print(table)


WHY_TOP = 20   # rows `why` prints in the terminal unless --top or --all says otherwise


@cli.command("why")
@click.argument("node_id", metavar="ID")
@click.option("--top", type=click.IntRange(min=1),
              help=f"Show only the N most influential nodes (default {WHY_TOP} in the terminal, "
                   "all with --json).")
@click.option("--all", "show_all", is_flag=True, help="Show every node that reaches ID.")
@semantics_option
@as_of_option
@perspective_option
@json_option
@click.pass_context
def why_command(ctx, node_id, top, show_all, semantics, as_of, perspective, as_json):
    """Attribute the strength of ID to every node that reaches it.

    For each: its removal impact (ID's strength with the node present minus with it removed),
    its gradient (d strength(ID) / d credence(node)), and its strongest chain to ID. The
    terminal shows the 20 most influential unless --top or --all says otherwise; --json gives
    every node unless --top says otherwise.
    """
    from graph.explain import iter_why

    if top is not None and show_all:
        raise click.BadParameter("give --top or --all, not both", param_hint="--top/--all")
    if top is None and not show_all and not as_json:
        top = WHY_TOP
    corpus, result = _explain_corpus(ctx, semantics, node_id, as_of=as_of, perspective=perspective)
    count, rows = iter_why(corpus.graph, node_id, semantics, top=top, result=result)
    strength = result.strengths[node_id]
    if as_json:
        _stream_json({"id": node_id, "semantics": semantics, "strength": strength}, "nodes", rows)
        return
    out = console()
    out.print(_text((node_id, "bold"), (f": strength {strength:.3f} ({semantics}), credence "
                                         f"{corpus.graph.nodes[node_id]['credence']:.3f}", "")))
    if not count:
        out.print("nothing reaches this node: its strength comes from its credence alone")
        return
    from rich.table import Table

    table = Table("node", "kind", "impact", "gradient", "strongest chain", box=None,
                  header_style="bold")
    shown = 0
    for row in rows:
        chain = row["chain"]
        via = chain["nodes"][1:-1]
        table.add_row(row["id"], row["kind"], f"{row['impact']:+.3f}", f"{row['gradient']:+.3f}",
                      _text((f"{chain['sign']} {chain['weight']:.2f}", RELATION_STYLE[chain["sign"]]),
                            (f" via {' > '.join(via)}" if via else " direct", "dim")))
        shown += 1
    out.print(table)
    if shown < count:
        out.print(f"{count - shown} more node{'s' if count - shown != 1 else ''} reach "
                  f"{node_id} (of {count}); --top N or --all shows them", style="dim",
                  markup=False)


def _stream_json(head, key, rows):
    """``head`` with ``key`` holding the rows, as emit_json prints it, written row by row so
    that a long list is never held whole."""
    text = json.dumps({**head, key: []}, indent=2, ensure_ascii=False, default=str)
    opening = text[:text.rindex("[") + 1]
    write = click.get_text_stream("stdout").write
    write(opening)
    first = True
    for row in rows:
        item = json.dumps(row, indent=2, ensure_ascii=False, default=str).replace("\n", "\n    ")
        write(("\n    " if first else ",\n    ") + item)
        first = False
    write(("\n  ]" if not first else "]") + "\n}\n")


@cli.command("cruxes")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many cruxes to show.")
@semantics_option
@json_option
@click.pass_context
def cruxes_command(ctx, first, second, top, semantics, as_json):
    """Name the nodes whose credence decides whether A or B ranks higher.

    For each: the gradient of the gap strength(A) - strength(B) with respect to its credence,
    the range of the gap as its credence goes from 0 to 1, and the credence at which the
    ranking flips, if one does.
    """
    from graph.explain import cruxes

    if first == second:
        raise click.BadParameter(f"A and B are the same node ({first!r}); give two different ids",
                                 param_hint="A B")
    corpus, result = _explain_corpus(ctx, semantics, first, second)
    rows = cruxes(corpus.graph, first, second, semantics, top=top, result=result)
    gap = result.strengths[first] - result.strengths[second]
    if as_json:
        emit_json({"a": first, "b": second, "semantics": semantics,
                   "strengths": {first: result.strengths[first], second: result.strengths[second]},
                   "gap": gap, "cruxes": rows})
        return
    out = console()
    leader, other = (first, second) if gap >= 0 else (second, first)
    out.print(_text((f"{first} {result.strengths[first]:.3f}  vs  {second} "
                     f"{result.strengths[second]:.3f} ({semantics}): ", ""),
                    (f"{leader} ranks higher by {abs(gap):.3f}", "bold")))
    if not rows:
        out.print("no node's credence changes the gap")
        return
    from rich.table import Table

    table = Table("node", "kind", "credence", "gradient", "gap at 0 / 1", "flips at",
                  box=None, header_style="bold")
    for row in rows:
        flip = "never" if row["flip"] is None else f"{row['flip']:.3f}"
        if row["flip"] is not None and round(row["flip"], 3) != row["flip"]:
            flip = f"{row['flip']:.6f}"  # rounding would cross back over the flip
        table.add_row(row["id"], row["kind"], f"{row['credence']:.3f}", f"{row['gradient']:+.3f}",
                      f"{row['gap_at_0']:+.3f} / {row['gap_at_1']:+.3f}", flip)
    out.print(table)
    out.print(f"gap = strength({first}) - strength({second}); flips at: the credence of the node "
              f"at which {other} would rank higher", style="dim")


@cli.command("lint")
@click.option("--strict", is_flag=True, help="Exit with status 1 if there is any warning.")
@semantics_option
@json_option
@click.pass_context
def lint_command(ctx, strict, semantics, as_json):
    """Warn about structural weak spots: unsupported claims, evidence that reaches no model,
    models no evidence reaches, contested nodes, cycles, isolated nodes, double counting,
    edge notes that cite nothing, undated claims fed by dated nodes (docs/bundled-corpus.md)."""
    from graph.explain import lint

    corpus, result = _explain_corpus(ctx, semantics)
    warnings = lint(corpus.graph, result.strengths)
    if as_json:
        emit_json(warnings)
    else:
        for warning in warnings:
            click.echo(f"warning: [{warning['check']}] {warning['message']}")
        click.echo(f"{len(warnings)} warning(s)", err=True)
    if strict and warnings:
        ctx.exit(1)


# ==== section: history ====

def _strength_cell(value, previous):
    """A strength for the history table, green/red when it rose/fell since the step before."""
    if value is None:
        return _text(("-", "dim"))
    style = ""
    if previous is not None and abs(value - previous) >= 0.0005:
        style = "green" if value > previous else "red"
    return _text((f"{value:.3f}", style))


@cli.command("history")
@click.option("--from", "start", type=IsoDate(), help="First day (default: the earliest dated node).")
@click.option("--to", "end", type=IsoDate(),
              help="Last day (default: today, or the latest dated node if later).")
@click.option("--step", type=click.Choice(["day", "week", "month", "quarter"]), default="month",
              show_default=True, help="Score the corpus as of the end of each such period.")
@click.option("--node", "nodes", multiple=True, metavar="ID",
              help="Follow this node instead of the models (repeatable).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also draw the history to FILE (.png or .svg; needs matplotlib).")
@semantics_option
@perspective_option
@json_option
@click.pass_context
def history_command(ctx, start, end, step, nodes, plot, semantics, perspective, as_json):
    """The strength of each model as evidence arrived: the corpus scored as of every step."""
    from graph.timeline import history, new_evidence

    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter(f"{plot}: the plot file must end in .png or .svg", param_hint="--plot")
    corpus = scoped_corpus(ctx, perspective=perspective)
    data = history(corpus.graph, start=start, end=end, step=step, semantics=semantics,
                   nodes=nodes or None)
    data["perspective"] = perspective or "base"
    if plot is not None:
        _plot_history(data, plot)
    if as_json:
        emit_json(data)
        return
    from rich.table import Table

    ids = [n["id"] for n in data["nodes"]]
    table = Table(box=None, header_style="bold", expand=True)
    table.add_column("as of", no_wrap=True, min_width=10)
    for node in ids:  # ids broken at their hyphens so that narrow terminals show them whole
        header = node.replace("-", "-\n")
        table.add_column(header, justify="right", no_wrap=True,
                         min_width=max(5, *map(len, header.splitlines())))
    table.add_column("new evidence", overflow="ellipsis", no_wrap=True, ratio=1)
    previous = dict.fromkeys(ids)
    for i, (day, arrived) in enumerate(zip(data["dates"], new_evidence(data))):
        row = [data["strengths"][n][i] for n in ids]
        cells = [_strength_cell(v, previous[n]) for n, v in zip(ids, row)]
        flag = "" if data["converged"][i] else " (not converged)"
        arrivals = f"+{len(arrived)} {', '.join(arrived)}" if arrived else ""
        table.add_row(day + flag, *cells, _text((arrivals, "dim")))
        previous = dict(zip(ids, row))
    console().print(table)
    click.echo(f"{len(data['dates'])} steps ({step}), {data['solves']} distinct graphs solved, "
               f"semantics {semantics}, perspective {data['perspective']}", err=True)


def _plot_history(data, path):
    try:
        import matplotlib  # noqa: F401  (only to give a clear message if it is missing)
    except ImportError:
        raise TakeoffError("--plot needs matplotlib: pip install 'takeoff-graph[plot]'") from None
    from graph.timeline import plot_history

    title = None
    if data["perspective"] != "base":
        title = f"Strength of each takeoff path as of each {data['step']} ({data['perspective']})"
    plot_history(data, path, title=title)
    click.echo(f"wrote {path}", err=True)


@cli.command("compare")
@click.argument("first", metavar="P")
@click.argument("second", metavar="Q")
@as_of_option
@semantics_option
@click.option("--samples", type=click.IntRange(min=1), default=200, show_default=True,
              help="Random orders for the attribution when more than 10 overrides differ.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of those random orders.")
@json_option
@click.pass_context
def compare_command(ctx, first, second, as_of, semantics, samples, seed, as_json):
    """Compare perspectives P and Q (either may be 'base'): each model's strength and rank under
    both, and which overrides drive the difference (Shapley values over the differing overrides)."""
    from graph.perspective import compare

    corpus = load_corpus(ctx)
    data = compare(corpus, first, second, semantics=semantics, as_of=as_of, samples=samples,
                   seed=seed)
    if as_json:
        emit_json(data)
        return
    _print_comparison(data)


def _signed(value):
    style = "green" if value > 0.0005 else "red" if value < -0.0005 else "dim"
    return _text((f"{value:+.3f}", style))


def _attribution_note(data):
    if data["method"] == "exact":
        return "exact Shapley values"
    if data["method"] == "sampled":
        return (f"Shapley values estimated from {data['samples']} random orders "
                f"(standard error <= {data['standard_error']:.3f})")
    return "nothing to attribute"


def _print_comparison(data):
    from rich.table import Table

    p, q = data["first"], data["second"]
    out = console()
    agreement = data["rank_agreement"]
    tau = "n/a" if agreement["kendall_tau"] is None else f"{agreement['kendall_tau']:.2f}"
    as_of = f", as of {data['as_of']}" if data["as_of"] else ""
    out.print(_text(("P ", "bold"), (p, ""), ("   Q ", "bold"), (q, "")))
    out.print(_text((f"semantics {data['semantics']}{as_of}; {len(data['overrides'])} "
                     f"override(s) differ; {_attribution_note(data)}, {data['solves']} solves; "
                     f"Kendall tau of the rankings {tau}, {agreement['changed']} of "
                     f"{len(data['models'])} models change rank", "")))
    table = Table(box=None, header_style="bold", expand=True)
    for header in ("model", "P", "Q", "Q - P", "rank P>Q"):
        table.add_column(header, no_wrap=True, justify="left" if header == "model" else "right")
    table.add_column("main drivers (Shapley share of Q - P)", no_wrap=True, overflow="ellipsis",
                     ratio=1)
    for row in data["models"]:
        drivers = "\n".join(f"{d['contribution']:+.3f} {d['override']}" for d in row["drivers"])
        table.add_row(row["id"], f"{row['strength'][p]:.3f}", f"{row['strength'][q]:.3f}",
                      _signed(row["difference"]), f"{row['rank'][p]} > {row['rank'][q]}",
                      _text((drivers, "")))
    out.print(table)
    if data["overrides"]:
        table = Table(box=None, header_style="bold", expand=True)
        table.add_column("differing override", no_wrap=True, overflow="ellipsis", ratio=1)
        for header in ("P", "Q", "sum |effect|", "largest effect"):
            table.add_column(header, no_wrap=True, justify="right")
        for row in data["overrides"]:
            model, effect = max(row["contributions"].items(), key=lambda kv: abs(kv[1]))
            table.add_row(_text((row["override"], "")), f"{row['values'][p]:g}",
                          f"{row['values'][q]:g}", f"{row['total']:.3f}",
                          _text((f"{effect:+.3f} {model}", "")))
        out.print(table)
    if not data["converged"]:
        click.echo("warning: the solver did not converge for some mixes of overrides", err=True)


@cli.command("robustness")
@click.option("--samples", type=click.IntRange(10, 1_000_000), default=2000, show_default=True,
              help="Joint samples of the uncertain inputs (a Latin hypercube).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the sampler: the same seed gives the same numbers.")
@semantics_option
@click.option("--all-semantics", is_flag=True,
              help="Make the semantics one more uncertain input (qe, dfquad, eb equally likely).")
@click.option("--spread", type=click.FloatRange(0, 0.5), default=0.0, show_default=True,
              help="Standard deviation given to every plain-number credence (0: they stay fixed).")
@click.option("--weight-spread", type=click.FloatRange(0, 0.5), default=0.0, show_default=True,
              help="Standard deviation given to every plain-number edge weight.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also draw the intervals and P(first) to FILE (.png or .svg; needs matplotlib).")
@as_of_option
@perspective_option
@json_option
@click.pass_context
def robustness_command(ctx, samples, seed, semantics, all_semantics, spread, weight_spread, plot,
                       as_of, perspective, as_json):
    """How sure is the ranking? Sample every uncertain credence and weight at once and report,
    for each model, its mean strength, 90% interval, the probability that it ranks first and its
    rank distribution; then the inputs whose uncertainty moves the top path most."""
    from graph.propagation import SEMANTICS
    from graph.robustness import robustness

    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter(f"{plot}: the plot file must end in .png or .svg", param_hint="--plot")
    corpus = scoped_corpus(ctx, as_of=as_of, perspective=perspective)
    data = robustness(corpus.graph, samples=samples, seed=seed, spread=spread,
                      weight_spread=weight_spread,
                      semantics=tuple(SEMANTICS) if all_semantics else (semantics,))
    data["perspective"] = perspective or "base"
    if not data["converged"]:
        click.echo("warning: some samples did not converge; their last states were used", err=True)
    if plot is not None:
        _plot_robustness(data, plot)
    if as_json:
        emit_json(data)
        return
    _print_robustness(data)


def _plot_robustness(data, path):
    try:
        import matplotlib  # noqa: F401  (only to give a clear message if it is missing)
    except ImportError:
        raise TakeoffError("--plot needs matplotlib: pip install 'takeoff-graph[plot]'") from None
    from graph.robustness import plot_robustness

    plot_robustness(data, path)
    click.echo(f"wrote {path}", err=True)


def _print_robustness(data):
    from rich.table import Column, Table

    out = console()
    if not data["inputs"] and len(data["semantics"]) == 1:
        out.print("no uncertain input: write a credence as {mean: M, spread: S} or "
                  "{low: L, high: H}, or give --spread / --weight-spread", style="yellow",
                  markup=False)
    n = len(data["models"])
    table = Table("#", Column("model", no_wrap=True), "point", "mean", "90% interval",
                  "P(first)", Column("P(rank 1..%d)" % n, no_wrap=True), box=None,
                  header_style="bold")
    for rank, row in enumerate(data["models"], 1):
        table.add_row(str(rank), row["id"], f"{row['point']:.3f}", f"{row['mean']:.3f}",
                      f"{row['low']:.3f} - {row['high']:.3f}", f"{row['p_first']:.3f}",
                      " ".join(f"{p:.2f}" for p in row["ranks"]))
    out.print(table)
    if data["sensitivity"]:
        inputs = Table(Column(f"what moves {data['top']} (first-order Sobol index)", no_wrap=True),
                       "index", "std. error", box=None, header_style="bold")
        for item in data["sensitivity"]:
            inputs.add_row(item["input"], f"{item['index']:.3f}", f"{item['error']:.3f}")
        out.print(inputs)
    out.print(f"{data['samples']} samples (seed {data['seed']}) of {data['inputs']} uncertain "
              f"input(s); semantics {', '.join(data['semantics'])}; perspective "
              f"{data['perspective']}", style="dim", markup=False)


@cli.group("perspective")
def perspective_group():
    """Named overlays of credences and edge weights (claims/perspectives/NAME.yaml)."""


@perspective_group.command("new")
@click.argument("name")
@click.option("--description", default="", help="What view the perspective stands for.")
@click.pass_context
def perspective_new(ctx, name, description):
    """Create an empty perspective NAME."""
    from graph.perspective import new_perspective

    load_corpus(ctx, strict=False)  # the corpus folder must exist
    path = new_perspective(ctx.obj.corpus_path, name, description)
    click.echo(f"created {path}", err=True)


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
    try:
        return item, float(rest[0])
    except ValueError:
        raise click.BadParameter(f"{rest[0]!r} is not a number", param_hint="VALUE") from None


@perspective_group.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("args", nargs=-1, required=True, metavar="ID credence X | SRC TARGET weight W")
@click.pass_context
def perspective_set(ctx, name, args):
    """Override a credence (ID credence X) or an edge weight (SRC TARGET weight W) in NAME."""
    from graph.perspective import item_label, set_override

    item, value = _override_args(args, with_value=True)
    set_override(ctx.obj.corpus_path, name, item, value)
    click.echo(f"{name}: {item_label(item)} = {value:g}", err=True)


@perspective_group.command("unset")
@click.argument("name")
@click.argument("args", nargs=-1, required=True, metavar="ID credence | SRC TARGET weight")
@click.pass_context
def perspective_unset(ctx, name, args):
    """Remove an override from NAME (the corpus value applies again)."""
    from graph.perspective import item_label, unset_override

    item, _ = _override_args(args, with_value=False)
    unset_override(ctx.obj.corpus_path, name, item)
    click.echo(f"{name}: removed {item_label(item)}", err=True)


@perspective_group.command("list")
@json_option
@click.pass_context
def perspective_list(ctx, as_json):
    """List the perspectives of the corpus."""
    from graph.perspective import list_perspectives

    rows = list_perspectives(load_corpus(ctx))
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table("name", "credences", "weights", "description", box=None, header_style="bold")
    for row in rows:
        state = f" ({len(row['problems'])} problem(s))" if row["problems"] else ""
        table.add_row(row["name"], str(row["credences"]), str(row["weights"]),
                      _text((row["description"] + state, "")))
    console().print(table)
    for row in rows:
        for problem in row["problems"]:
            click.echo(problem, err=True)


@perspective_group.command("show")
@click.argument("name")
@json_option
@click.pass_context
def perspective_show(ctx, name, as_json):
    """Show the overrides of perspective NAME beside the corpus values."""
    from graph.perspective import describe_perspective

    info = describe_perspective(load_corpus(ctx), name)
    if as_json:
        emit_json(info)
        return
    from rich.table import Table

    out = console()
    out.print(_text((info["name"], "bold"), (f"  {info['path'] or ''}", "dim")))
    if info["description"]:
        out.print(_text((info["description"], "")))
    table = Table("override", "corpus", "here", "note", box=None, header_style="bold")
    for row in info["overrides"]:
        table.add_row(_text((row["override"], "")), f"{row['base']:g}", f"{row['value']:g}",
                      _text((row["note"], "dim")))
    out.print(table)


def main():
    cli()
