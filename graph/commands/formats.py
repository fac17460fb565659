"""Other formats: export and import (graph.formats.interchange is the registry)."""
import os
from pathlib import Path

import click

from graph.commands.common import (
    as_of_option, base_option, command, complete_words, echo_data, report_warnings, say,
    scoped_corpus, semantics_option, settings,
)
from graph.core.limits import InputError, decode_text
from graph.core.model import TakeoffError
from graph.page.tables import inert


def _format_choice(importable=False):
    from graph.formats.interchange import FORMATS, IMPORTABLE

    return click.Choice(IMPORTABLE if importable else list(FORMATS))


def _format_option(importable=False):
    from graph.formats.interchange import extensions_text

    verb = "read" if importable else "written"
    return click.option(
        "--format", "fmt", type=_format_choice(importable), shell_complete=_complete_formats,
        help=f"The format {verb}. Default: from the file's extension ({extensions_text()}); "
             "node-link for stdin/stdout.")


def _complete_formats(ctx, param, incomplete):
    from graph.formats.interchange import FORMATS

    return complete_words(FORMATS, incomplete)


def _inferred_format(path, fmt, what, param_hint):
    """``fmt`` if given, else the format ``path``'s extension implies (node-link for stdio)."""
    from graph.formats.interchange import FORMATS, IMPORTABLE, format_for_path

    if fmt is not None:
        return fmt, None
    if path is None or str(path) in ("-", "<stdin>", "<stdout>"):
        return "node-link", None
    inferred = format_for_path(path)
    names = IMPORTABLE if what == "import" else FORMATS
    if inferred is None or inferred not in names:
        why = "is not one it can " + what if inferred else "implies no format"
        raise click.BadParameter(f"{path}: its extension {why}; give --format (one of "
                                 f"{', '.join(names)})", param_hint=param_hint)
    return inferred, f"read as {inferred} because of its file name; give --format to read it as another format"


@command()
@_format_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout (its extension gives the format).")
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
    from graph.formats.interchange import export_graph

    fmt, _ = _inferred_format(output, fmt, "export", "-o/--output")
    corpus = scoped_corpus(ctx, as_of)
    score = corpus.score(semantics) if with_strengths else None
    if score is not None and not score.converged:
        click.echo(f"warning: {score.message}", err=True)
    text = export_graph(corpus.graph, fmt, base=base, score=score, store=store,
                        title=settings(ctx).setting("title"))
    losses = getattr(text, "losses", None)  # what the format has no place for, counted
    if losses:
        click.echo(f"warning: {fmt} has no place for {', '.join(losses)}: left out", err=True)
    if output is None:
        echo_data(text)
    else:
        from graph.files.store import atomic_write

        atomic_write(output, text)
        say(f"wrote {output} ({fmt})", ctx)


# An import file larger than this is refused unread (a 2,000-node corpus is about 2 MB of
# node-link JSON); /dev/zero, FIFOs and other files that are not regular files are refused too.
MAX_IMPORT_BYTES = 100 * 1024 * 1024


def _read_import(path):
    """The bytes of FILE through the one guarded read (graph.files.store.read_bytes: a regular file of
    at most MAX_IMPORT_BYTES, opened without blocking), or of standard input up to that cap."""
    if path == "-":
        data = click.get_binary_stream("stdin").read(MAX_IMPORT_BYTES + 1)
        if len(data) > MAX_IMPORT_BYTES:
            raise TakeoffError(f"-: standard input holds more than {MAX_IMPORT_BYTES // 2**20} MB, "
                               "the limit of an import; refused")
        return data
    from graph.files.store import read_bytes

    return read_bytes(path, root=os.sep, limit=MAX_IMPORT_BYTES)  # links may point anywhere


@command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@_format_option(importable=True)
@click.option("--replace", is_flag=True, help="Overwrite nodes whose ids already exist.")
@base_option
@click.option("--thesis", type=click.Choice(["claim", "model"]),
              help="kialo: the kind the thesis becomes (default: claim).")
@click.pass_context
def import_(ctx, file, fmt, replace, base, thesis):
    """Write the nodes of FILE (- for stdin) into the corpus as files."""
    from graph.files.edit import import_graph
    from graph.formats.interchange import guess_format, parse_graph

    name = file
    root = ctx.obj.corpus_path  # no corpus: refused before FILE is read
    data = _read_import(file)
    try:
        text = decode_text(data)
    except InputError as exc:
        raise TakeoffError(f"{name}: {exc}") from None
    guessed = None if fmt is not None else guess_format(name, text)
    fmt, how = guessed or _inferred_format(name, fmt, "import", "FILE")
    try:
        graph = parse_graph(text, fmt, base=base, thesis=thesis)
    except (TakeoffError, InputError) as exc:
        hint = f" ({how})" if how else ""
        raise TakeoffError(f"{name}: {exc}{hint}") from None
    warnings = graph.graph.pop("warnings", [])
    for warning in warnings:
        click.echo(inert(f"warning: {name}: {warning}"), err=True)
    summary = graph.graph.pop("summary", None)  # what the file held, in the format's terms
    report_warnings(ctx, import_graph(root, graph, replace=replace))
    # Nodes only named as an edge's target are corpus nodes the import leaves as they are.
    nodes = sum(1 for _, attrs in graph.nodes(data=True) if attrs)
    counted = [summary] if summary else []
    counted += [f"{len(warnings)} warning(s)"] if warnings else []
    say(f"imported {nodes} nodes and {graph.number_of_edges()} edges ({fmt}) into {root}"
        + (f" ({'; '.join(counted)})" if counted else ""), ctx)
