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

from graph.model import KINDS, RELATIONS, Corpus, TakeoffError

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

    return Console(highlight=False, soft_wrap=False)


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
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="When it was observed or published.")
@click.option("--tag", "tags", multiple=True, help="A theme tag (repeatable).")
@click.option("--source", "sources", multiple=True, metavar="URL", help="A source URL (repeatable).")
@click.option("--supports", multiple=True, metavar="TARGET[:WEIGHT]", help="An id this node supports.")
@click.option("--undermines", multiple=True, metavar="TARGET[:WEIGHT]", help="An id this node undermines.")
@click.option("--body", help="The Markdown annotation.")
@click.option("--edit", "use_editor", is_flag=True, help="Write the annotation in $EDITOR.")
@click.pass_context
def add(ctx, kind, node_id, title, credence, date_text, tags, sources, supports, undermines,
        body, use_editor):
    """Add a node of KIND (model, claim, evidence) with the id ID."""
    from graph.edit import add_node
    from graph.model import parse_date

    if body is not None and use_editor:
        raise click.UsageError("give either --body or --edit, not both")
    date = None
    if date_text is not None:
        date = parse_date(date_text)
        if date is None:
            raise click.BadParameter(f"{date_text!r} is not an ISO date (YYYY-MM-DD)", param_hint="--date")
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
@click.pass_context
def unlink(ctx, source, target):
    """Remove the edge from SRC to TARGET."""
    from graph.edit import unlink as unlink_nodes

    unlink_nodes(ctx.obj.corpus_path, source, target)
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
@click.option("--force", is_flag=True, help="Also remove the edges other nodes have to ID.")
@click.pass_context
def rm(ctx, node_id, force):
    """Remove node ID (refused while other nodes point at it, unless --force)."""
    from graph.edit import remove_node

    remove_node(ctx.obj.corpus_path, node_id, force=force)
    click.echo(f"removed {node_id}", err=True)


@cli.command()
@json_option
@click.pass_context
def check(ctx, as_json):
    """Validate the corpus: every problem as path:line: message (exit 1 on errors)."""
    corpus = load_corpus(ctx, strict=False)
    graph = corpus.graph
    summary = {kind: sum(1 for _, k in graph.nodes(data="kind") if k == kind) for kind in KINDS}
    if as_json:
        emit_json({"ok": not corpus.errors, "nodes": graph.number_of_nodes(),
                   "edges": graph.number_of_edges(), "kinds": summary,
                   "problems": [p.to_json() for p in corpus.problems]})
    else:
        for problem in corpus.problems:
            click.echo(str(problem), err=True)
        counts = ", ".join(f"{n} {k}" for k, n in summary.items())
        state = "ok" if not corpus.errors else f"{len(corpus.errors)} error(s)"
        click.echo(f"{state}: {graph.number_of_nodes()} nodes ({counts}), "
                   f"{graph.number_of_edges()} edges, {len(corpus.warnings)} warning(s)")
    if corpus.errors:
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
        out.print(f"source: {source.get('title') or ''} <{source['url']}> {source.get('date') or ''}".replace("  ", " "),
                  markup=False)
        if source.get("quote"):
            out.print(f'  "{source["quote"]}"', markup=False)
    for title, edges, arrow in (("out", info["out"], "->"), ("in", info["in"], "<-")):
        for edge in edges:
            other = edge["target"] if title == "out" else edge["source"]
            note = f"  ({edge['note']})" if edge["note"] else ""
            out.print(f"{arrow} {edge['relation']} {other} w={edge['weight']:g}{note}", markup=False)
    if info["body"].strip():
        out.print("")
        out.print(info["body"].rstrip(), markup=False)
    out.print(f"\n{info['path']}", markup=False, style="dim")


def _format_choice(importable=False):
    from graph.interchange import FORMATS

    return click.Choice([n for n, f in FORMATS.items() if f.importer or not importable])


@cli.command()
@click.option("--format", "fmt", default="node-link", show_default=True, type=_format_choice(),
              help="The output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
@click.pass_context
def export(ctx, fmt, output):
    """Print the corpus in another format."""
    from graph.interchange import export_graph

    text = export_graph(load_corpus(ctx).graph, fmt)
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
@click.pass_context
def import_(ctx, file, fmt, replace):
    """Write the nodes of FILE (- for stdin) into the corpus as files."""
    from graph.edit import import_graph
    from graph.interchange import parse_graph

    try:
        graph = parse_graph(file.read(), fmt)
    except TakeoffError as exc:
        raise TakeoffError(f"{file.name}: {exc}") from None
    except UnicodeDecodeError:
        raise TakeoffError(f"{file.name}: not UTF-8 text") from None
    import_graph(ctx.obj.corpus_path, graph, replace=replace)
    click.echo(f"imported {graph.number_of_nodes()} nodes and {graph.number_of_edges()} edges "
               f"into {ctx.obj.corpus_path}", err=True)


# ==== section: propagation ====

# ==== section: html ====

# ==== section: rdf ====

# ==== section: explain ====

# ==== section: history ====


def main():
    cli()
