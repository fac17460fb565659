"""Writing the corpus (init, add, link, unlink, set, rm, mv, edit, source add/rm: each one
change through graph.files.edit) and checking it (check)."""
from pathlib import Path

import click

from graph.commands.common import (
    command, complete_ids, complete_words, emit_json, group, json_option, load_corpus,
    parse_weight, report_warnings, say, settings, value_text, weighted_target,
)
from graph.core.model import (
    DATE_FORMS, DEFAULT_WEIGHT, KINDS, TakeoffError, display_path, parse_date,
)
from graph.page.tables import inert


# The bundled corpus: claims/ beside graph/ (this file is graph/commands/corpus.py).
BUNDLED_CORPUS = Path(__file__).resolve().parents[2] / "claims"


def _weight_option(ctx, param, value):
    return None if value is None else parse_weight(value, "--weight")


@command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--example", is_flag=True, help="Copy the bundled corpus instead of starting empty.")
@click.pass_context
def init(ctx, folder, example):
    """Create a corpus in FOLDER (default: --corpus, else $TAKEOFF_CORPUS, else the current
    folder).

    Writes FOLDER/takeoff.toml, the file that marks a corpus. A folder that already holds a
    valid corpus without that file is marked as one; any other non-empty folder is refused.
    """
    from graph.files.edit import init_corpus

    from graph.files.config import env_corpus

    folder = folder or settings(ctx).corpus_option or env_corpus() or Path(".")
    if example and not BUNDLED_CORPUS.is_dir():
        raise TakeoffError(f"the bundled corpus is not installed ({BUNDLED_CORPUS})")
    init_corpus(folder, example_from=BUNDLED_CORPUS if example else None)
    say(f"created {'a copy of the bundled corpus' if example else 'a corpus'} in {folder} "
        f"(marked by {folder / 'takeoff.toml'})", ctx)
    here = Path(folder).resolve() == Path.cwd()
    steps = [] if here else [f"cd {_shell_word(str(folder))}"]
    if example:
        steps += ["takeoff score", "takeoff why software-explosion", "takeoff html -o map.html"]
    else:
        steps += ["takeoff add model my-path --title 'A takeoff path'",
                  "takeoff add evidence my-observation --title 'What was seen' "
                  "--date 2025-01-31 --supports my-path",
                  "takeoff score"]
    if not settings(ctx).quiet:
        click.echo("next:")
        for step in steps[:3]:
            click.echo(f"  {step}")


def _shell_word(text):
    import shlex

    return shlex.quote(text)


def _iso_date(value, param_hint):
    if value is None:
        return None
    date = parse_date(value)
    if date is None:
        raise click.BadParameter(f"{value!r} is not an ISO date ({DATE_FORMS})", param_hint=param_hint)
    return date


@command()
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@click.option("--title", required=True, help="A one-line statement of the node.")
@click.option("--credence", type=click.FloatRange(0, 1), help="Base score in [0, 1] (default 0.5).")
@click.option("--date", "date_text", metavar="YYYY-MM-DD",
              help="When it was observed or published (YYYY-MM if only the month is known).")
@click.option("--tag", "tags", multiple=True, help="A theme tag (repeatable).")
@click.option("--source", "sources", multiple=True, metavar="URL", help="A source URL (repeatable).")
@click.option("--supports", multiple=True, metavar="TARGET[:WEIGHT[:NOTE]]",
              shell_complete=complete_ids,
              help="An id this node supports (repeatable), with the edge's weight and note: "
                   "--supports 'm1:0.8:why it does' (TARGET::NOTE keeps the default weight).")
@click.option("--undermines", multiple=True, metavar="TARGET[:WEIGHT[:NOTE]]",
              shell_complete=complete_ids,
              help="An id this node undermines (repeatable), as --supports.")
@click.option("--body", help="The Markdown annotation.")
@click.option("--edit", "use_editor", is_flag=True, help="Write the annotation in $EDITOR.")
@click.pass_context
def add(ctx, kind, node_id, title, credence, date_text, tags, sources, supports, undermines,
        body, use_editor):
    """Add a node of KIND (model, claim, evidence, argument) with the id ID."""
    from graph.files.edit import add_node

    if body is not None and use_editor:
        raise click.UsageError("give either --body or --edit, not both")
    date = _iso_date(date_text, "--date")
    root = ctx.obj.corpus_path  # before the editor opens: no corpus, no typing for nothing
    if use_editor:
        body = click.edit("\n", extension=".md") or ""
    corpus = add_node(root, kind, node_id, title, credence=credence, date=date, tags=tags,
                      sources=sources, body=body or "",
                      supports=[weighted_target(v, "--supports") for v in supports],
                      undermines=[weighted_target(v, "--undermines") for v in undermines])
    report_warnings(ctx, corpus)
    say(f"added {kind} {node_id} ({_path_of(corpus, node_id)})", ctx)


def _quoted(text):
    """A note in double quotes as the user wrote it: no Python escapes, so an apostrophe, a
    quote or an accent prints as itself."""
    return f'"{text}"'


def _path_of(corpus, node_id):
    return display_path(corpus.graph.nodes[node_id]["path"])


def _edge_text(state):
    """An edge's relation, weight and note as ``undermines weight 0.5 note 'why'``."""
    if state is None:
        return "none"

    weight = DEFAULT_WEIGHT if state["weight"] is None else state["weight"]
    note = f" note {_quoted(state['note'])}" if state.get("note") else ""
    by = f" from {state['from']}" if state.get("from") else ""
    words = f" quote {_quoted(state['quote'])}" if state.get("quote") else ""
    return f"{state['relation']} weight {weight:g}{note}{by}{words}"


@command()
@click.argument("source", metavar="SRC", shell_complete=complete_ids)
@click.argument("target", shell_complete=complete_ids)
@click.option("--supports", "supports", is_flag=True, help="SRC supports TARGET.")
@click.option("--undermines", "undermines", is_flag=True, help="SRC undermines TARGET.")
@click.option("--weight", callback=_weight_option, metavar="W",
              help="Edge weight in (0, 1] (default 1).")
@click.option("--note", help="Why this edge exists.")
@click.option("--from", "by", metavar="SOURCE",
              help="Whose argument the edge is: a source of takeoff.toml's [sources], or 'editor'.")
@click.option("--quote", "words", help="The source's words the edge rests on.")
@click.option("--replace", is_flag=True,
              help="Turn an existing edge of the other relation into this one.")
@click.pass_context
def link(ctx, source, target, supports, undermines, weight, note, by, words, replace):
    """Add an edge from SRC to TARGET, or update what is given (--weight, --note, --from,
    --quote) of it.

    Prints the edge before and after. A new edge needs --supports or --undermines; an existing
    one is updated without them (takeoff link a b --note "why"). An edge is either supports or
    undermines: flipping it needs --replace (its weight and note are kept unless given).
    """
    from graph.files.edit import link as link_nodes

    if supports and undermines:
        raise click.UsageError("give one of --supports or --undermines, not both (an edge is "
                               "one or the other)")
    relation = "supports" if supports else "undermines" if undermines else None
    edit = link_nodes(ctx.obj.corpus_path, source, target, relation, weight=weight, note=note,
                      replace=replace, by=by, words=words)
    report_warnings(ctx, edit.corpus)
    if edit.old is None:
        say(f"added {source} -> {target}: {_edge_text(edit.new)}", ctx)
    elif edit.old == edit.new:
        say(f"unchanged {source} -> {target}: {_edge_text(edit.new)} (give --weight, --note, "
            "--from or --quote to change it)", ctx)
    else:
        say(f"updated {source} -> {target}: {_edge_text(edit.old)} -> {_edge_text(edit.new)}", ctx)


@command()
@click.argument("source", metavar="SRC", shell_complete=complete_ids)
@click.argument("target", shell_complete=complete_ids)
@click.option("--force", is_flag=True,
              help="Also remove the perspectives' overrides of the edge's weight.")
@click.pass_context
def unlink(ctx, source, target, force):
    """Remove the edge from SRC to TARGET (refused while a perspective overrides its weight,
    unless --force)."""
    from graph.files.edit import unlink as unlink_nodes

    report_warnings(ctx, unlink_nodes(ctx.obj.corpus_path, source, target, force=force))
    say(f"removed the edge {source} -> {target}", ctx)


@command("set")
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@click.argument("field", metavar="FIELD",
                shell_complete=lambda ctx, param, incomplete: complete_words(
                    ("kind", "title", "credence", "date", "tags", "body"), incomplete))
@click.argument("value")
@click.pass_context
def set_(ctx, node_id, field, value):
    """Set FIELD (kind, title, credence, date, tags, body) of node ID to VALUE.

    Tags are comma-separated; an empty VALUE removes the date or the tags. Prints the old and
    the new value.
    """
    from graph.files.edit import set_field

    edit = set_field(ctx.obj.corpus_path, node_id, field, value)
    report_warnings(ctx, edit.corpus)
    say(f"{node_id} {field}: {value_text(edit.old)} -> {value_text(edit.new)}", ctx)


@command()
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@click.option("--force", is_flag=True, help="Also remove the edges other nodes have to ID and "
                                            "the perspectives' overrides of ID and its edges.")
@click.pass_context
def rm(ctx, node_id, force):
    """Remove node ID (refused while other nodes or perspectives refer to it, unless --force)."""
    from graph.files.edit import remove_node

    report_warnings(ctx, remove_node(ctx.obj.corpus_path, node_id, force=force))
    say(f"removed {node_id}", ctx)


@command()
@click.argument("old", metavar="OLD", shell_complete=complete_ids)
@click.argument("new", metavar="NEW")
@click.pass_context
def mv(ctx, old, new):
    """Rename node OLD to NEW: its file, and every edge and perspective that names it.

    One change: either every file is rewritten or none is.
    """
    from graph.files.edit import move_node

    edit = move_node(ctx.obj.corpus_path, old, new)
    report_warnings(ctx, edit.corpus)
    say(f"renamed {old} -> {new} ({display_path(edit.old)} -> {display_path(edit.new)}); "
        f"{len(edit.touched)} other file(s) rewritten", ctx)
    for path in edit.touched:
        say(f"  {display_path(path)}", ctx)


@command()
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@click.pass_context
def edit(ctx, node_id):
    """Open node ID's file in your editor and save it if it is still valid.

    The editor is $VISUAL, else $EDITOR, else the first of sensible-editor, vim, nano found,
    else vi. You edit a temporary copy: an invalid result is refused (problems as path:line),
    the node's file is left as it was, and your text is kept in ID.md.rej beside it; the next
    `takeoff edit ID` starts from that text.
    """
    from graph.files.edit import editing_texts, keep_rejected, rejected_path, replace_node_text

    corpus = load_corpus(ctx, strict=False)
    path = Path(corpus.node(node_id)["path"])
    rejected = rejected_path(path)
    original, kept = editing_texts(corpus.root, path)
    if kept is not None:
        say(f"starting from your refused text in {display_path(rejected)}", ctx)
    edited = click.edit(original if kept is None else kept, extension=".md", require_save=True)
    if edited is None or edited in (original, kept):
        # Leaving the editor without a change drops a refused text: else every later edit
        # would restart from it, with no way back to the file but deleting it by hand.
        if kept is not None:
            rejected.unlink(missing_ok=True)
            say(f"{node_id}: no change; your refused text ({display_path(rejected)}) is "
                "dropped, the next edit starts from the file", ctx)
        else:
            say(f"{node_id}: no change", ctx)
        return
    try:
        after = replace_node_text(ctx.obj.corpus_path, node_id, edited, expected=original)
    except TakeoffError:
        keep_rejected(path, edited)  # not a node file (.rej): the corpus never reads it
        click.echo(f"your text is kept in {display_path(rejected)}; run `takeoff edit "
                   f"{node_id}` again to fix it", err=True)
        raise
    rejected.unlink(missing_ok=True)
    report_warnings(ctx, after)
    say(f"saved {display_path(path)}", ctx)


@group("source")
def source_group():
    """Add, update or remove the sources of a node."""


@source_group.command("add")
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@click.argument("url")
@click.option("--title", help="The source's title.")
@click.option("--quote", help="The passage that supports the node, quoted.")
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="When the source was published.")
@click.pass_context
def source_add(ctx, node_id, url, title, quote, date_text):
    """Add source URL to node ID, or update the fields given of that source."""
    from graph.files.edit import add_source

    date = _iso_date(date_text, "--date")
    edit = add_source(ctx.obj.corpus_path, node_id, url, title=title, quote=quote, date=date)
    report_warnings(ctx, edit.corpus)
    if edit.old is None:
        say(f"{node_id}: added source {_source_text(edit.new)}", ctx)
    else:
        say(f"{node_id}: source {_source_text(edit.old)} -> {_source_text(edit.new)}", ctx)


def _source_text(source):
    fields = [f"{key} {_shortened(str(source[key]), 60)}" for key in ("title", "quote", "date")
              if source.get(key)]
    return f"<{source['url']}>" + (f" ({'; '.join(fields)})" if fields else "")


def _shortened(text, width):
    """``text`` cut to ``width`` characters, the cut shown by an ellipsis."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "\u2026"


@source_group.command("rm")
@click.argument("node_id", metavar="ID", shell_complete=complete_ids)
@click.argument("url")
@click.pass_context
def source_rm(ctx, node_id, url):
    """Remove source URL from node ID."""
    from graph.files.edit import remove_source

    report_warnings(ctx, remove_source(ctx.obj.corpus_path, node_id, url))
    say(f"{node_id}: removed source <{url}>", ctx)


@command()
@click.option("--shacl", is_flag=True,
              help="Also validate the corpus as RDF against the vocabulary's SHACL shapes "
                   "(needs the shacl extra).")
@json_option
@click.pass_context
def check(ctx, shacl, as_json):
    """Validate the corpus: every problem as path:line: message (exit 1 on errors)."""
    settings(ctx).warned = True  # check lists every problem itself, warnings included
    corpus = load_corpus(ctx, strict=False)
    corpus.problems[:0] = ctx.obj.config.warnings
    if not corpus.errors:
        from graph.files.perspectives import check_perspectives

        corpus.problems += check_perspectives(corpus)
    if corpus.errors:   # what a merge at HEAD broke, and how to fix it
        from graph.explaining.review import merge_problems  # git and diffs: only for errors

        corpus.problems = merge_problems(corpus)
    violations = []
    if shacl and not corpus.errors:
        from graph.formats.rdf import to_rdf, validate_shacl

        violations = validate_shacl(to_rdf(corpus.graph, store="memory"))
    kinds = list(corpus.kinds.values())   # no graph built for a load from the cache's columns
    summary = {kind: kinds.count(kind) for kind in KINDS}
    nodes, edges = len(kinds), corpus.n_edges
    ok = not corpus.errors and not violations
    if as_json:
        emit_json({"ok": ok, "nodes": nodes, "edges": edges, "kinds": summary,
                   "problems": [p.to_json() for p in corpus.problems],
                   **({"violations": [v.to_json() for v in violations]} if shacl else {})})
    else:
        for problem in corpus.problems:
            click.echo(inert(str(problem)), err=True)
        for violation in violations:
            click.echo(inert(f"SHACL: {violation}"), err=True)
        counts = ", ".join(f"{n} {k}" for k, n in summary.items())
        state = "ok" if ok else f"{len(corpus.errors) + len(violations)} error(s)"
        conform = ", conforms to the SHACL shapes" if shacl and ok else ""
        click.echo(f"{state}: {nodes} nodes ({counts}), {edges} edges, "
                   f"{len(corpus.warnings)} warning(s){conform}")
    if not ok:
        ctx.exit(1)
