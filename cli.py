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

from graph.core.limits import quote
from graph.core.model import KINDS, TakeoffError
from graph.page.tables import inert

# The solver works on sparse arrays; BLAS threads (OpenBLAS, used for a few dense steps) only
# spin on the other core for problems this size, burning CPU for no gain. One thread unless
# the user asks for more; set before numpy is first imported (docs/performance.md).
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

BUNDLED_CORPUS = Path(__file__).resolve().parent / "claims"
# Each sample solves the corpus once per differing override; 10,000 already gives a standard
# error far below the three decimals shown.
MAX_SAMPLES = 10_000


def _check_utf8(ctx, param, value):
    """Refuse a text argument that is not UTF-8 (bytes that are not arrive as surrogate
    escapes, which no corpus file can hold) as a usage error naming the argument."""
    from graph.core.limits import InputError, check_text_arg

    values = value if isinstance(value, (tuple, list)) else (value,)
    for item in values:
        if isinstance(item, str):
            try:
                check_text_arg(item)
            except InputError as exc:
                raise click.BadParameter(exc.message, ctx=ctx, param=param) from None


class Settings:
    """What the global options said; the corpus is found only when a command asks for it."""

    def __init__(self):
        self.corpus_option = None
        self.quiet = False
        self.plain = False
        self.json = False
        self.warned = False
        self.edges_from = None       # --edges-from / --evidence-kinds, as typed
        self.evidence_kinds = None
        self._config = None

    @property
    def config(self):
        """The corpus and its takeoff.toml settings (see graph.files.config for the precedence)."""
        if self._config is None:
            from graph.files.config import find_corpus

            self._config = find_corpus(self.corpus_option)
        return self._config

    @property
    def corpus_path(self):
        return self.config.root

    def setting(self, key, default=None):
        """A takeoff.toml setting, or ``default`` when there is none or no corpus is found."""
        try:
            return self.config.settings.get(key, default)
        except TakeoffError:  # the command itself reports a missing corpus
            return default


def _store(attribute):
    def callback(ctx, param, value):
        if value is not None and value is not False:
            setattr(ctx.ensure_object(Settings), attribute, value)
        return value

    return callback


def global_options(hidden):
    """The options every command takes, before or after its name (``takeoff score --quiet``)."""
    return [
        click.Option(["--corpus", "corpus_option"], type=click.Path(path_type=Path),
                     metavar="FOLDER", is_eager=True, expose_value=False, hidden=hidden,
                     callback=_store("corpus_option"),
                     help="The corpus folder. Default: $TAKEOFF_CORPUS, else the first folder "
                          "holding takeoff.toml (or claims/takeoff.toml) from here upwards."),
        click.Option(["-q", "--quiet"], is_flag=True, default=None, is_eager=True,
                     expose_value=False, hidden=hidden, callback=_store("quiet"),
                     help="Do not print the corpus's warnings or what a command did."),
        click.Option(["--plain"], is_flag=True, default=None, is_eager=True, expose_value=False,
                     hidden=hidden, callback=_store("plain"),
                     help="Tables as tab-separated text (the default when output is piped)."),
    ]


class TakeoffCommand(click.Command):
    """A command that also takes the global options after its name."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("epilog", "Also accepted here: --corpus FOLDER, -q/--quiet, --plain "
                                    "(see takeoff --help).")
        super().__init__(*args, **kwargs)
        self.params += global_options(hidden=True)

    def invoke(self, ctx):
        settings = ctx.ensure_object(Settings)
        if settings.json and not any(p.name == "as_json" for p in self.params):
            raise click.UsageError(f"`{ctx.command_path}` has no JSON output (--json goes with "
                                   "the commands that print data: see their --help)", ctx)
        for param in self.params:  # text arguments must be UTF-8, as the corpus is
            _check_utf8(ctx, param, ctx.params.get(param.name))
        return super().invoke(ctx)


class TakeoffGroup(click.Group):
    """Turns every ``TakeoffError`` and OS error into a message and exit status 1."""

    command_class = TakeoffCommand

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _reader_gone(ctx)
        except TakeoffError as exc:  # messages may quote files and servers: made inert
            click.echo(f"Error: {inert(str(exc))}", err=True)
            ctx.exit(1)
        except OSError as exc:
            click.echo(f"Error: {inert(exc.filename or '')}: {inert(exc.strerror or exc)}", err=True)
            ctx.exit(1)


TakeoffGroup.group_class = TakeoffGroup


def _reader_gone(ctx):
    """The reader of stdout stopped reading (``takeoff list | head -3``): it has what it wanted,
    so the command ends quietly with status 0, as the rows it read were right. Later writes,
    Python's own flush at exit included, go to /dev/null (the recipe of Python's signal docs)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    ctx.exit(0)


def settings(ctx=None):
    return (ctx or click.get_current_context()).ensure_object(Settings)


def say(message, ctx=None):
    """Print what a command did on stderr (silenced by --quiet)."""
    if not settings(ctx).quiet:
        click.echo(inert(message), err=True)


def report_warnings(ctx, corpus):
    """Print the corpus's warnings (and its takeoff.toml's) on stderr, once per command."""
    state = settings(ctx)
    if state.warned or state.quiet:
        return
    state.warned = True
    for problem in [*state.config.warnings, *corpus.warnings]:
        click.echo(inert(str(problem)), err=True)


def load_corpus(ctx, *, strict=True):
    """The corpus the command works on; with ``strict`` its errors end the command (exit 1)."""
    from graph.files.corpus import Corpus  # imports networkx: not for --help or a Tab

    corpus = Corpus.load(ctx.obj.corpus_path)
    if strict:
        corpus.require_valid()
    report_warnings(ctx, corpus)
    return corpus


def emit_json(data):
    """Print ``data`` as JSON on stdout (the ``--json`` convention of every command); the
    characters a terminal would obey are escaped (graph.page.tables.inert_json)."""
    from graph.page.tables import inert_json

    click.echo(inert_json(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


def _json_callback(ctx, param, value):
    return bool(value or settings(ctx).json)


def echo_data(text):
    """Print data (an export, a Turtle graph) on stdout: byte for byte when piped, made inert
    (graph.page.tables.inert) on a terminal, where an escape sequence in a title would be obeyed."""
    click.echo(inert(text) if sys.stdout.isatty() else text, nl=False)


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, callback=_json_callback,
                        help="Print JSON instead of a table.")(f)


def console(width=None):
    from rich.console import Console

    # Piped output (a file, a pager, a test) has no width of its own: give text room rather
    # than rich's 80 columns, which folds ids and notes mid-word.
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, soft_wrap=False, width=width or (160 if piped else None))


def plain_output():
    """Tables as tab-separated text: asked for with --plain, or stdout is not a terminal."""
    return settings().plain or not sys.stdout.isatty()


def print_table(columns, rows):
    """A table (see graph.page.tables): laid out to the terminal's width, or tab-separated text.

    On a terminal too narrow for it, columns of ids move under the table, one line per row,
    rather than an id being cut.
    """
    from graph.page.tables import GAP, plain, rich_table, spill, tsv, wrap_words

    if plain_output():
        click.echo(tsv(columns, rows), nl=False)
        return
    width = console().size.width
    kept, kept_rows, sizes, moved = spill(columns, rows, width)
    needed = sum(sizes) + GAP * (len(sizes) - 1)  # over width only if ids alone do not fit
    console(width=max(width, needed)).print(rich_table(kept, kept_rows, sizes))
    key = next((i for i, c in enumerate(columns) if c.kind == "id"), None)  # the row's id
    for index in sorted({m[0] for m in moved}):
        label = plain(rows[index][key]) if key is not None else f"row {index + 1}"
        text = " ".join([label, *(f"{header}: {plain(cell)}"
                                                    for r, header, cell in moved if r == index)])
        for line in wrap_words(text, width):
            print_line(line, style="dim")


def print_line(text, style=None):
    """A line around a table (a heading, a summary): on stderr when tables are plain, so that
    stdout holds only the tab-separated rows."""
    from graph.page.tables import inert_rich

    if plain_output():
        click.echo(inert(getattr(text, "plain", text)), err=True)
    else:
        console().print(inert_rich(text) if hasattr(text, "plain") else inert(text), style=style,
                        markup=False)


def parse_weight(text, param_hint, *, off_allowed=False):
    """An edge weight from the command line, checked the same way by every command (`link
    --weight`, `add --supports T:W`, `perspective set ... weight W`): a number in (0, 1], or in
    [0, 1] where 0 switches an edge off (a perspective). Anything else is a usage error (exit
    2) with one message."""
    low = "[0" if off_allowed else "(0"
    try:
        weight = float(text)
    except (TypeError, ValueError):
        weight = None
    if weight is None or not (0 <= weight <= 1 if off_allowed else 0 < weight <= 1):
        raise click.BadParameter(f"weight {quote(text)} must be a number in {low}, 1]",
                                 param_hint=param_hint)
    return weight


def _weight_option(ctx, param, value):
    return None if value is None else parse_weight(value, "--weight")


def weighted_target(value, param_name):
    """``TARGET[:WEIGHT[:NOTE]]`` as (target, weight or None, note or None); the note is the
    rest of the text, colons and all (ids and numbers hold none)."""
    target, _, rest = value.partition(":")
    weight, _, note = rest.partition(":")
    return (target, parse_weight(weight, param_name) if weight else None, note or None)


# ---- shell completion (click's protocol: _TAKEOFF_COMPLETE=bash_source takeoff) ----

def _complete_words(words, incomplete):
    return [word for word in words if word.startswith(incomplete)]


def _complete_ids(ctx, param, incomplete):
    """Node ids of the corpus, from the file names alone: no YAML, no settings are read and
    nothing heavy is imported, so that a Tab answers at once. Only names that pass the id rule
    are offered (a file named ``m1;touch x;#.md`` is no node, and completing it would put a
    command on the user's line)."""
    from graph.files.config import locate_corpus
    from graph.core.model import is_id, node_id
    from graph.files.store import iter_node_files

    try:
        root, _ = locate_corpus(settings(ctx).corpus_option)
    except TakeoffError:
        return []
    ids = (node_id(p) for p in iter_node_files(root))
    return _complete_words(sorted(i for i in ids if is_id(i)), incomplete)


def _complete_perspectives(ctx, param, incomplete):
    """``base`` and the perspective files' names that pass the name rule, listed here rather
    than by graph.files.perspectives.perspective_names, whose module imports the solver's stack."""
    from graph.files.config import locate_corpus
    from graph.core.model import PERSPECTIVES_DIR, is_id

    try:
        root, _ = locate_corpus(settings(ctx).corpus_option)
    except TakeoffError:
        return []
    stems = sorted(p.name[:-len(".yaml")] for p in (root / PERSPECTIVES_DIR).glob("*.yaml"))
    return _complete_words(["base", *(s for s in stems if is_id(s))], incomplete)


def _complete_semantics(ctx, param, incomplete):
    from graph.solving.propagation import SEMANTICS

    return _complete_words(SEMANTICS, incomplete)


@click.group(cls=TakeoffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, default=None, expose_value=False,
              callback=_store("json"), help="Print JSON (the same as the command's own --json).")
@click.version_option(package_name="takeoff-graph")
@click.pass_context
def cli(ctx):
    """Argue about AI takeoff with an annotated, scored knowledge graph.

    The corpus is a folder of Markdown files, one per node (model, claim or evidence), with
    YAML front matter holding its credence, sources and supports/undermines edges, marked by a
    takeoff.toml file. Commands find it by walking up from the current folder, as git does.
    The options below may also follow the command's name.
    """
    ctx.ensure_object(Settings)


cli.params[:0] = global_options(hidden=False)

# ==== section: history (options shared with score, why, html, export) ====
# Defined before the other sections (foundation's export included) so their commands can use them.

class IsoDate(click.ParamType):
    """A ``YYYY-MM-DD`` argument as a :class:`datetime.date`; ``YYYY-MM`` means the last day
    of that month (the day from which a month-dated node counts)."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        from graph.core.model import DATE_FORMS, parse_date

        date = parse_date(value)
        if date is None:
            self.fail(f"{quote(value)} is not an ISO date ({DATE_FORMS})", param, ctx)
        return date.as_day() if hasattr(date, "as_day") else date


def as_of_option(f):
    return click.option(
        "--as-of", "as_of", type=IsoDate(), metavar="YYYY-MM-DD",
        help="The corpus as it stood on this day: nodes dated later, and their edges, are "
             "left out; undated nodes always count, a month-dated node from the month's last "
             "day (YYYY-MM here means that day).")(f)


def perspective_option(f):
    return click.option(
        "--perspective", metavar="NAME", shell_complete=_complete_perspectives,
        help="Apply the credences and weights of claims/perspectives/NAME.yaml "
             "('base': the corpus as written).")(f)


def semantics_option(f):
    return click.option("--semantics", metavar="NAME", callback=_check_semantics,
                        shell_complete=_complete_semantics,
                        help="The gradual semantics: qe (quadratic energy), dfquad (DF-QuAD) "
                             "or eb (Euler-based). Default: the corpus's takeoff.toml "
                             "'semantics', else qe.")(f)


def _check_semantics(ctx, param, value):
    # Checked against the registry, not a fixed list: adding a semantics adds its name here.
    if ctx.resilient_parsing:  # shell completion: no settings read, no solver imported
        return value
    from graph.solving.propagation import SEMANTICS

    if value is None:
        return settings(ctx).setting("semantics", "qe")
    if value not in SEMANTICS:
        raise click.BadParameter(f"{quote(value)} is not one of {', '.join(SEMANTICS)}")
    return value


def scoped_corpus(ctx, as_of=None, perspective=None, corpus=None):
    """The valid corpus (``corpus`` if already loaded) seen through ``--perspective`` and
    ``--as-of`` (see graph.explaining.perspective.scope), then ``--edges-from`` / ``--evidence-kinds``."""
    corpus = corpus or load_corpus(ctx)
    if as_of is None and perspective is None:
        return filtered_corpus(ctx, corpus)
    from graph.explaining.perspective import scope

    scoped = scope(corpus, as_of=as_of, perspective=perspective)
    if as_of is not None:
        left_out = corpus.graph.number_of_nodes() - scoped.graph.number_of_nodes()
        say(f"as of {as_of}: {left_out} node(s) dated later left out", ctx)
    return filtered_corpus(ctx, scoped)


def filter_options(f):
    """--edges-from and --evidence-kinds: every command that scores takes them, and
    scoped_corpus applies them (graph.files.provenance.filter_graph)."""
    f = click.option("--evidence-kinds", metavar="KINDS", expose_value=False,
                     callback=_store("evidence_kinds"),
                     help="Count only the evidence of these kinds (comma-separated: "
                          "observation, forecast, testimony); the rest, and evidence of no "
                          "kind, is left out with its edges. 'observation': observations only.")(f)
    return click.option("--edges-from", metavar="SOURCES", expose_value=False,
                        callback=_store("edges_from"),
                        help="Keep only the edges from these sources (comma-separated ids of "
                             "takeoff.toml's [sources], or 'editor'); edges naming no source "
                             "are left out too.")(f)


def evidence_filter(ctx, graph):
    """The (edges_from, evidence_kinds) the options asked for, checked against ``graph``."""
    from graph.files.provenance import parse_evidence_kinds, parse_source_ids

    state = settings(ctx)
    return (None if state.edges_from is None else parse_source_ids(state.edges_from, graph),
            None if state.evidence_kinds is None else parse_evidence_kinds(state.evidence_kinds))


def filtered_corpus(ctx, corpus):
    """``corpus`` with the graph ``--edges-from`` / ``--evidence-kinds`` leave (itself if
    neither is given)."""
    edges_from, kinds = evidence_filter(ctx, corpus.graph)
    if edges_from is None and kinds is None:
        return corpus
    import dataclasses

    from graph.files.provenance import filter_graph

    graph = filter_graph(corpus.graph, edges_from=edges_from, evidence_kinds=kinds)
    say(f"scoring {graph.number_of_edges()} of {corpus.graph.number_of_edges()} edges, "
        f"{graph.number_of_nodes()} of {corpus.graph.number_of_nodes()} nodes"
        + (f"; edges from {', '.join(edges_from)}" if edges_from else "")
        + (f"; evidence: {', '.join(kinds)}" if kinds else ""), ctx)
    return dataclasses.replace(corpus, graph=graph)


def by_option(f):
    """--by group: the parts of each strength (base, reasoning, evidence by kind)."""
    return click.option("--by", type=click.Choice(["node", "group"]), default="node",
                        show_default=True,
                        help="group: split each strength into its base (the credence), what "
                             "reasoning adds and what each kind of evidence adds (exact "
                             "Shapley values; docs/evidence.md).")(f)


# ==== section: foundation ====

@cli.command()
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
    from graph.core.model import DATE_FORMS, parse_date

    if value is None:
        return None
    date = parse_date(value)
    if date is None:
        raise click.BadParameter(f"{value!r} is not an ISO date ({DATE_FORMS})", param_hint=param_hint)
    return date


@cli.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
@click.option("--title", required=True, help="A one-line statement of the node.")
@click.option("--credence", type=click.FloatRange(0, 1), help="Base score in [0, 1] (default 0.5).")
@click.option("--date", "date_text", metavar="YYYY-MM-DD",
              help="When it was observed or published (YYYY-MM if only the month is known).")
@click.option("--tag", "tags", multiple=True, help="A theme tag (repeatable).")
@click.option("--source", "sources", multiple=True, metavar="URL", help="A source URL (repeatable).")
@click.option("--supports", multiple=True, metavar="TARGET[:WEIGHT[:NOTE]]",
              shell_complete=_complete_ids,
              help="An id this node supports (repeatable), with the edge's weight and note: "
                   "--supports 'm1:0.8:why it does' (TARGET::NOTE keeps the default weight).")
@click.option("--undermines", multiple=True, metavar="TARGET[:WEIGHT[:NOTE]]",
              shell_complete=_complete_ids,
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
    from graph.core.model import display_path

    return display_path(corpus.graph.nodes[node_id]["path"])


def _edge_text(state):
    """An edge's relation, weight and note as ``undermines weight 0.5 note 'why'``."""
    if state is None:
        return "none"
    from graph.core.model import DEFAULT_WEIGHT

    weight = DEFAULT_WEIGHT if state["weight"] is None else state["weight"]
    note = f" note {_quoted(state['note'])}" if state.get("note") else ""
    by = f" from {state['from']}" if state.get("from") else ""
    words = f" quote {_quoted(state['quote'])}" if state.get("quote") else ""
    return f"{state['relation']} weight {weight:g}{note}{by}{words}"


@cli.command()
@click.argument("source", metavar="SRC", shell_complete=_complete_ids)
@click.argument("target", shell_complete=_complete_ids)
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


@cli.command()
@click.argument("source", metavar="SRC", shell_complete=_complete_ids)
@click.argument("target", shell_complete=_complete_ids)
@click.option("--force", is_flag=True,
              help="Also remove the perspectives' overrides of the edge's weight.")
@click.pass_context
def unlink(ctx, source, target, force):
    """Remove the edge from SRC to TARGET (refused while a perspective overrides its weight,
    unless --force)."""
    from graph.files.edit import unlink as unlink_nodes

    report_warnings(ctx, unlink_nodes(ctx.obj.corpus_path, source, target, force=force))
    say(f"removed the edge {source} -> {target}", ctx)


def _value_text(value):
    if value is None:
        return "(none)"
    if isinstance(value, dict):  # an uncertain credence, as written in the file
        return "{" + ", ".join(f"{k}: {v:g}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "(none)"
    if isinstance(value, str) and "\n" in value.rstrip("\n"):
        return f"{len(value.splitlines())} lines"
    return repr(value) if isinstance(value, str) else str(value)


@cli.command("set")
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
@click.argument("field", metavar="FIELD",
                shell_complete=lambda ctx, param, incomplete: _complete_words(
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
    say(f"{node_id} {field}: {_value_text(edit.old)} -> {_value_text(edit.new)}", ctx)


@cli.command()
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
@click.option("--force", is_flag=True, help="Also remove the edges other nodes have to ID and "
                                            "the perspectives' overrides of ID and its edges.")
@click.pass_context
def rm(ctx, node_id, force):
    """Remove node ID (refused while other nodes or perspectives refer to it, unless --force)."""
    from graph.files.edit import remove_node

    report_warnings(ctx, remove_node(ctx.obj.corpus_path, node_id, force=force))
    say(f"removed {node_id}", ctx)


@cli.command()
@click.argument("old", metavar="OLD", shell_complete=_complete_ids)
@click.argument("new", metavar="NEW")
@click.pass_context
def mv(ctx, old, new):
    """Rename node OLD to NEW: its file, and every edge and perspective that names it.

    One change: either every file is rewritten or none is.
    """
    from graph.files.edit import move_node
    from graph.core.model import display_path

    edit = move_node(ctx.obj.corpus_path, old, new)
    report_warnings(ctx, edit.corpus)
    say(f"renamed {old} -> {new} ({display_path(edit.old)} -> {display_path(edit.new)}); "
        f"{len(edit.touched)} other file(s) rewritten", ctx)
    for path in edit.touched:
        say(f"  {display_path(path)}", ctx)


@cli.command()
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
@click.pass_context
def edit(ctx, node_id):
    """Open node ID's file in your editor and save it if it is still valid.

    The editor is $VISUAL, else $EDITOR, else the first of sensible-editor, vim, nano found,
    else vi. You edit a temporary copy: an invalid result is refused (problems as path:line),
    the node's file is left as it was, and your text is kept in ID.md.rej beside it; the next
    `takeoff edit ID` starts from that text.
    """
    from graph.files.edit import editing_texts, keep_rejected, rejected_path, replace_node_text
    from graph.core.model import display_path

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


@cli.group("source", cls=TakeoffGroup)
def source_group():
    """Add, update or remove the sources of a node."""


@source_group.command("add")
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
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
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
@click.argument("url")
@click.pass_context
def source_rm(ctx, node_id, url):
    """Remove source URL from node ID."""
    from graph.files.edit import remove_source

    report_warnings(ctx, remove_source(ctx.obj.corpus_path, node_id, url))
    say(f"{node_id}: removed source <{url}>", ctx)


@cli.command()
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
    from graph.explaining.review import merge_problems

    corpus.problems = merge_problems(corpus)  # what a merge at HEAD broke, and how to fix it
    violations = []
    if shacl and not corpus.errors:
        from graph.formats.rdf import to_rdf, validate_shacl

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
            click.echo(inert(str(problem)), err=True)
        for violation in violations:
            click.echo(inert(f"SHACL: {violation}"), err=True)
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
    from graph.explaining.query import list_nodes

    rows = list_nodes(load_corpus(ctx).graph, kind=kind, tag=tag)
    if as_json:
        emit_json(rows)
        return
    from graph.page.tables import Col

    print_table([Col("id", "id"), Col("kind", "id"), Col("credence", "num"), Col("date", "id"),
                 Col("title")],
                [[row["id"], row["kind"], f"{row['credence']:.2f}", row["date"] or "",
                  row["title"]] for row in rows])


@cli.command()
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
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
    from graph.page.tables import inert_all

    info = inert_all(info)  # titles, bodies, notes and sources come from files
    out = console()
    kind = info["kind"] + (f", {info['evidence_kind']}" if info.get("evidence_kind") else "")
    out.print(f"[bold]{info['id']}[/bold]  ({kind})", markup=True)
    out.print(info["title"], markup=False)
    line = f"credence {info['credence']:.3f}"
    if info.get("credence_dist"):
        line += " " + _value_text(info["credence_dist"])
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


def _format_choice(importable=False):
    from graph.formats.interchange import FORMATS, IMPORTABLE

    return click.Choice(IMPORTABLE if importable else list(FORMATS))


def base_option(f):
    return click.option("--base", metavar="IRI",
                        callback=lambda ctx, param, value: value or (
                            None if ctx.resilient_parsing else settings(ctx).setting("base")),
                        help="RDF formats: node ids become IRIs under this base (default: the "
                             "corpus's takeoff.toml 'base', else "
                             "https://w3id.org/takeoff-graph/node/).")(f)


def _format_option(importable=False):
    from graph.formats.interchange import extensions_text

    verb = "read" if importable else "written"
    return click.option(
        "--format", "fmt", type=_format_choice(importable), shell_complete=_complete_formats,
        help=f"The format {verb}. Default: from the file's extension ({extensions_text()}); "
             "node-link for stdin/stdout.")


def _complete_formats(ctx, param, incomplete):
    from graph.formats.interchange import FORMATS

    return _complete_words(FORMATS, incomplete)


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


@cli.command()
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


@cli.command("import")
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

    from graph.core.limits import InputError, decode_text

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
    rows = ranking(corpus.graph, result, kind=None if all_nodes else "model")
    shares = None
    if by == "group":
        from graph.solving.shares import strength_shares

        shares = strength_shares(corpus.graph, semantics, tolerance=tolerance)
    if as_json:
        data = result.to_json(corpus.graph)
        data["ranking"] = [{k: row[k] for k in ("id", "strength", "shift", "up", "down")}
                           | ({"parts": shares.row(row["id"])} if shares else {})
                           for row in rows[:top]]
        data["filter"] = _filter_json(ctx, corpus.graph)
        emit_json(data)
        return
    shown = top or (None if all_nodes else SCORE_TOP)   # --all: every node, as asked
    if shares:
        _print_parts([shares.row(row["id"]) | {"id": row["id"]} for row in rows[:shown]],
                     "node" if all_nodes else "model")
        return
    _print_ranking(rows[:shown], result, all_nodes, len(rows))


def _filter_json(ctx, graph):
    from graph.files.provenance import describe_filter

    return describe_filter(*evidence_filter(ctx, graph))


def _parts_columns(rows):
    """The parts worth a column: base, reasoning, evidence, and each kind of evidence that
    adds anything to some row."""
    from graph.solving.shares import EVIDENCE_GROUPS

    kinds = [g for g in EVIDENCE_GROUPS if any(abs(r[g]) > 0 for r in rows)]
    return ["base", "reasoning", "evidence", *kinds]


def _print_parts(rows, what):
    from graph.page.tables import Col

    parts = _parts_columns(rows)
    table = [[str(rank), _text((row["id"], "bold")), *(
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

    from graph.page.tables import Col

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


# ==== section: html ====

@cli.command("html")
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
    extra = {"filter": _filter_json(ctx, whole.graph)}
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

# ==== section: rdf ====
# `takeoff sparql` over the corpus as RDF. The RDF and argument-mapping formats of `export` and
# `import` are rows of graph.formats.interchange.FORMATS; `check --shacl` is in `check`.

def _score_for(graph, with_strengths, semantics):
    """The strengths to add to the RDF, if --with-strengths asked for them."""
    if not with_strengths:
        return None
    from graph.solving.propagation import score_graph

    result = score_graph(graph, semantics)
    if not result.converged:
        click.echo(f"warning: {result.message}", err=True)
    return result


class Seconds(click.ParamType):
    """A timeout: a finite number of seconds above 0, at most a day (graph.formats.rdf.check_timeout);
    anything else (inf, nan, 1e308, 0, -1) is a usage error naming the option."""

    name = "seconds"

    def convert(self, value, param, ctx):
        if ctx is not None and ctx.resilient_parsing:
            return value  # shell completion: nothing is run, and graph.formats.rdf is slow to import
        from graph.formats.rdf import check_timeout

        try:
            return check_timeout(value)
        except TakeoffError as exc:
            self.fail(str(exc), param, ctx)


def timeout_option(help_text):
    return click.option("--timeout", type=Seconds(), default=30.0, show_default=True,
                        metavar="SECONDS", help=help_text)


def query_options(f):
    """--timeout and --allow-service: the query policy of the local store and of servers."""
    f = click.option("--allow-service", "allow_service", multiple=True, metavar="IRI",
                     help="Let a SERVICE clause call this endpoint (repeatable); any other "
                          "SERVICE is refused, since it would send corpus values there.")(f)
    return timeout_option("Stop the query after this many seconds.")(f)


def http_credentials_option(f):
    return click.option("--allow-http-credentials", "http_credentials", is_flag=True,
                        help="Send credentials over plain http:// too (by default only over "
                             "https://, where nobody on the way can read them).")(f)


@cli.command()
@click.argument("query", required=False)
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and exit.")
@click.option("--csv", "as_csv", is_flag=True,
              help="Print CSV (SELECT; ASK as one answer column; graphs as s,p,o rows).")
@json_option
@base_option
@click.option("--with-strengths", is_flag=True,
              help="Add tg:strength to every node (implied by a query that names tg:strength).")
@semantics_option
@click.option("--store", type=click.Choice(["auto", "memory", "oxigraph"]), default="auto",
              show_default=True, help="rdflib's in-memory store or Oxigraph (auto: by size).")
@query_options
@as_of_option
@perspective_option
@click.option("--endpoint", metavar="URL",
              help="Query this SPARQL server instead of the local corpus (see takeoff publish).")
@click.option("--graph", "graph_iri", metavar="IRI",
              help="With --endpoint: the published graph to query ('default': the server's "
                   "default graph).")
@http_credentials_option
@click.pass_context
def sparql(ctx, query, list_queries, as_csv, as_json, base, with_strengths, semantics, store,
           timeout, allow_service, as_of, perspective, endpoint, graph_iri, http_credentials):
    """Run a SPARQL query on the corpus as RDF.

    QUERY is SPARQL text, @FILE.rq, or the name of a shipped query (see --list). The prefixes
    tg, aif, schema, dcterms, prov, xsd, rdfs, rdf and node (the base) are bound:

        takeoff sparql 'SELECT ?e WHERE { ?e tg:supports ?m . ?m a tg:Model }'

    Every SPARQL 1.1 query form runs (SELECT, ASK, CONSTRUCT, DESCRIBE); updates are refused.
    """
    from graph.formats.rdf import DEFAULT_BASE, named_queries, resolve_query, run_query, to_rdf

    if list_queries:
        named = named_queries()
        _print_rows(["name", "description"], [[n, d] for n, (d, _) in named.items()],
                    json_data=[{"name": n, "description": d} for n, (d, _) in named.items()]
                    if as_json else None, as_csv=as_csv)
        return
    if not query:
        raise click.UsageError("give a QUERY (text, @file.rq or a name from --list)")
    text = resolve_query(query)
    base = base or DEFAULT_BASE
    if endpoint:
        local_only = {"--with-strengths": with_strengths, "--as-of": as_of,
                      "--perspective": perspective, "--store": store != "auto"}
        for option, given in local_only.items():
            if given:
                raise click.UsageError(f"{option} works on the local corpus, not with --endpoint")
        from graph.page import endpoint as remote

        result = remote.query(remote.Endpoint(endpoint, timeout=timeout,
                                              http_credentials=http_credentials), text,
                              graph_iri or remote.DEFAULT_GRAPH, base=base,
                              allow_service=allow_service)
        _print_result(result, base, as_json=as_json, as_csv=as_csv)
        return
    if graph_iri:
        raise click.UsageError("--graph names a graph on a server: give --endpoint too")
    graph = scoped_corpus(ctx, as_of=as_of, perspective=perspective).graph
    with_strengths = with_strengths or _asks_for_strengths(text)
    rdf_graph = to_rdf(graph, base, score=_score_for(graph, with_strengths, semantics), store=store)
    result = run_query(rdf_graph, text, timeout=timeout, allow_service=allow_service)
    _print_result(result, base, as_json=as_json, as_csv=as_csv)


def _asks_for_strengths(text):
    """Whether a query names tg:strength (prefixed or as a full IRI): then the strengths are
    computed as if --with-strengths were given, rather than the query matching no row."""
    import re

    from graph.formats.rdf import VOCAB

    return re.search(rf"\btg:strength\b|<{re.escape(VOCAB)}strength>", text) is not None


def _print_result(result, base, *, as_json, as_csv):
    """A query answer in the chosen format: SELECT as a table, ASK as true/false, a graph as
    Turtle; --json and --csv for all three."""
    from graph.formats.rdf import new_graph

    names = new_graph(base, "memory").namespace_manager
    if as_json:
        emit_json(result.to_json())
    elif result.kind == "SELECT":
        shown = [[_term_text(names, t, compact=True) for t in row] for row in result.rows]
        _print_rows(result.variables, shown, as_csv=as_csv)
        if not as_csv:
            say(f"{len(result.rows)} row(s)")
    elif result.kind == "ASK":
        answer = "true" if result.answer else "false"
        click.echo(f"answer\n{answer}" if as_csv else answer)
    elif as_csv:
        _print_rows(["subject", "predicate", "object"],
                    sorted([_term_text(names, t, compact=True) for t in triple]
                           for triple in result.graph), as_csv=True)
    else:
        out = new_graph(base, "memory")
        out += result.graph
        echo_data(out.serialize(format="turtle"))


def _term_text(names, term, compact):
    """A result cell: IRIs as prefixed names (``node:id``) when ``compact``, literals as text,
    blank nodes as ``_:id``."""
    from rdflib import BNode, URIRef

    if term is None:
        return ""
    if isinstance(term, BNode):
        return term.n3()
    if compact and isinstance(term, URIRef):
        try:
            return names.normalizeUri(term)
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

        from graph.page.tables import csv_cell

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(map(csv_cell, columns))
        writer.writerows([csv_cell(cell) for cell in row] for row in rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        from graph.page.tables import Col

        print_table([Col(c, "ids") for c in columns], rows)


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
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
@click.option("--depth", type=click.IntRange(min=1), help="Levels of edges to show (default: all).")
@click.option("--direction", type=click.Choice(["in", "out"]), default="in", show_default=True,
              help="in: what supports or undermines ID; out: what ID supports or undermines.")
@semantics_option
@json_option
@click.pass_context
def tree_command(ctx, node_id, depth, direction, semantics, as_json):
    """Show the argument into (or out of) node ID as an indented tree."""
    from graph.explaining.explain import tree

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
                  (inert(row["title"]), "dim")]
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
@click.argument("source", metavar="FROM", shell_complete=_complete_ids)
@click.argument("target", metavar="TO", shell_complete=_complete_ids)
@click.option("--max-length", type=click.IntRange(min=1), default=6, show_default=True,
              help="The most edges a chain may have.")
@click.option("--top", type=click.IntRange(min=1), help="Show only the N strongest chains.")
@json_option
@click.pass_context
def paths_command(ctx, source, target, max_length, top, as_json):
    """List the chains of edges from FROM to TO, strongest first."""
    from graph.explaining.explain import paths

    corpus = load_corpus(ctx)
    chains = paths(corpus.graph, source, target, max_length=max_length, top=top)
    if as_json:
        emit_json(chains)
        return
    if not chains:
        click.echo(f"no chain of at most {max_length} edges from {source} to {target}", err=True)
        return
    from graph.page.tables import Col

    print_table([Col("sign", "id"), Col("weight", "num"), Col("edges", "num"),
                 Col("chain", "ids")],
                [[_text((chain["sign"], RELATION_STYLE[chain["sign"]])), f"{chain['weight']:.3f}",
                  str(chain["length"]), _chain_text(chain)] for chain in chains])


WHY_TOP = 20   # rows `why` prints in the terminal unless --top or --all says otherwise


@cli.command("why")
@click.argument("node_id", metavar="ID", shell_complete=_complete_ids)
@click.option("--top", type=click.IntRange(min=1),
              help=f"Show only the N most influential nodes (default {WHY_TOP} in the terminal, "
                   "all with --json).")
@click.option("--all", "show_all", is_flag=True, help="Show every node that reaches ID.")
@semantics_option
@as_of_option
@perspective_option
@filter_options
@by_option
@json_option
@click.pass_context
def why_command(ctx, node_id, top, show_all, semantics, as_of, perspective, by, as_json):
    """Attribute the strength of ID to every node that reaches it.

    For each: its removal impact (ID's strength with the node present minus with it removed),
    its gradient (d strength(ID) / d credence(node)), and its strongest chain to ID. The
    terminal shows the 20 most influential unless --top or --all says otherwise; --json gives
    every node unless --top says otherwise.
    """
    from graph.explaining.explain import iter_why

    if top is not None and show_all:
        raise click.BadParameter("give --top or --all, not both", param_hint="--top/--all")
    if top is None and not show_all and not as_json:
        top = WHY_TOP
    corpus, result = _explain_corpus(ctx, semantics, node_id, as_of=as_of, perspective=perspective)
    if by == "group":
        _why_by_group(ctx, corpus, node_id, semantics, as_json)
        return
    count, rows = iter_why(corpus.graph, node_id, semantics, top=top, result=result)
    strength = result.strengths[node_id]
    if as_json:
        _stream_json({"id": node_id, "semantics": semantics, "strength": strength}, "nodes", rows)
        return
    rows = _with_chain_sources(corpus.graph, rows)
    print_line(_text((node_id, "bold"), (f": strength {strength:.3f} ({semantics}), credence "
                                          f"{corpus.graph.nodes[node_id]['credence']:.3f}", "")))
    if not count:
        print_line("nothing reaches this node: its strength comes from its credence alone")
        return
    from graph.page.tables import Col

    table = []
    for row in rows:
        chain = row["chain"]
        via = chain["nodes"][1:-1]
        table.append([row["id"], row["kind"], f"{row['impact']:+.3f}", f"{row['gradient']:+.3f}",
                      _text((f"{chain['sign']} {chain['weight']:.2f}", RELATION_STYLE[chain["sign"]]),
                            (f" via {' > '.join(via)}" if via else " direct", "dim")),
                      ", ".join(dict.fromkeys(s or "-" for s in chain["from"]))])
    print_table([Col("node", "id"), Col("kind", "id"), Col("impact", "num"),
                 Col("gradient", "num"), Col("strongest chain", "ids"), Col("from", "ids")], table)
    if len(table) < count:
        more = count - len(table)
        print_line(f"{more} more node{'s' if more != 1 else ''} reach {node_id} (of {count}); "
                   f"--top N or --all shows them", style="dim")


def _with_chain_sources(graph, rows):
    """The rows of `why`, each chain with the source (``from``) of each of its edges."""
    from graph.files.provenance import chain_sources

    for row in rows:
        row["chain"]["from"] = chain_sources(graph, row["chain"]["nodes"])
        yield row


def _why_by_group(ctx, corpus, node_id, semantics, as_json):
    """`why ID --by group`: the parts of ID's strength, one row per part."""
    from graph.solving.shares import EVIDENCE, strength_shares

    row = strength_shares(corpus.graph, semantics).row(node_id)
    if as_json:
        emit_json({"id": node_id, "semantics": semantics, "parts": row,
                   "filter": _filter_json(ctx, corpus.graph)})
        return
    from graph.page.tables import Col

    print_line(_text((node_id, "bold"), (f": strength {row['strength']:.3f} ({semantics}) = "
                                          "base + reasoning + evidence", "")))
    parts = [p for p in _parts_columns([row]) if p != EVIDENCE] + [EVIDENCE]
    print_table([Col("part", "id"), Col("value", "num")],
                [[p, f"{row[p]:.3f}" if p == "base" else f"{row[p]:+.3f}"] for p in parts])


def _stream_json(head, key, rows):
    """``head`` with ``key`` holding the rows, as emit_json prints it, written row by row so
    that a long list is never held whole."""
    from graph.page.tables import inert_json

    text = inert_json(json.dumps({**head, key: []}, indent=2, ensure_ascii=False, default=str))
    opening = text[:text.rindex("[") + 1]
    write = click.get_text_stream("stdout").write
    write(opening)
    first = True
    for row in rows:
        item = inert_json(json.dumps(row, indent=2, ensure_ascii=False, default=str)).replace("\n", "\n    ")
        write(("\n    " if first else ",\n    ") + item)
        first = False
    write(("\n  ]" if not first else "]") + "\n}\n")


@cli.command("cruxes")
@click.argument("first", metavar="A", shell_complete=_complete_ids)
@click.argument("second", metavar="B", shell_complete=_complete_ids)
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many cruxes to show.")
@semantics_option
@filter_options
@json_option
@click.pass_context
def cruxes_command(ctx, first, second, top, semantics, as_json):
    """Name the nodes whose credence decides whether A or B ranks higher.

    For each: the gradient of the gap strength(A) - strength(B) with respect to its credence,
    the range of the gap as its credence goes from 0 to 1, and the credence at which the
    ranking flips, if one does.
    """
    from graph.explaining.explain import cruxes

    if first == second:
        raise click.BadParameter(f"A and B are the same node ({quote(first)}); give two different ids",
                                 param_hint="A B")
    corpus, result = _explain_corpus(ctx, semantics, first, second)
    rows = cruxes(corpus.graph, first, second, semantics, top=top, result=result)
    gap = result.strengths[first] - result.strengths[second]
    if as_json:
        emit_json({"a": first, "b": second, "semantics": semantics,
                   "strengths": {first: result.strengths[first], second: result.strengths[second]},
                   "gap": gap, "cruxes": rows})
        return
    leader, other = (first, second) if gap >= 0 else (second, first)
    print_line(_text((f"{first} {result.strengths[first]:.3f}  vs  {second} "
                      f"{result.strengths[second]:.3f} ({semantics}): ", ""),
                     (f"{leader} ranks higher by {abs(gap):.3f}", "bold")))
    if not rows:
        print_line("no node's credence changes the gap")
        return
    from graph.page.tables import Col

    table = []
    for row in rows:
        flip = "never" if row["flip"] is None else f"{row['flip']:.3f}"
        if row["flip"] is not None and round(row["flip"], 3) != row["flip"]:
            flip = f"{row['flip']:.6f}"  # rounding would cross back over the flip
        table.append([row["id"], row["kind"], f"{row['credence']:.3f}", f"{row['gradient']:+.3f}",
                      f"{row['gap_at_0']:+.3f} / {row['gap_at_1']:+.3f}", flip])
    print_table([Col("node", "id"), Col("kind", "id"), Col("credence", "num"),
                 Col("gradient", "num"), Col("gap at 0 / 1", "ids"), Col("flips at", "num")],
                table)
    print_line(f"gap = strength({first}) - strength({second}); flips at: the credence of the "
               f"node at which {other} would rank higher", style="dim")


@cli.command("lint")
@click.option("--strict", is_flag=True, help="Exit with status 1 if there is any warning.")
@semantics_option
@json_option
@click.pass_context
def lint_command(ctx, strict, semantics, as_json):
    """Warn about structural weak spots: unsupported claims, evidence that reaches no model,
    models no evidence reaches, contested nodes, cycles, isolated nodes, double counting,
    edge notes that cite nothing, undated claims fed by dated nodes (docs/bundled-corpus.md)."""
    from graph.explaining.explain import lint

    corpus, result = _explain_corpus(ctx, semantics)
    warnings = lint(corpus.graph, result.strengths)
    if as_json:
        emit_json(warnings)
    else:
        for warning in warnings:
            click.echo(inert(f"warning: [{warning['check']}] {warning['message']}"))
        say(f"{len(warnings)} warning(s)")
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
@click.option("--node", "nodes", multiple=True, metavar="ID", shell_complete=_complete_ids,
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
        from graph.core.model import parse_date
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
    from graph.page.tables import Col

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
    from graph.page.tables import GLUE, Col, widths, wrap_words
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
    with_arrivals = [[*row, _text((a, "dim"))] for row, a in zip(rows, arrivals)]
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


def _require_matplotlib():
    """A clear message, not an ImportError, when --plot is asked for without matplotlib."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise TakeoffError("--plot needs matplotlib: pip install 'takeoff-graph[plot]'") from None


def _plot_history(data, path):
    _require_matplotlib()
    from graph.page.plots import plot_history

    title = None
    if data["perspective"] != "base":
        title = f"Strength of each takeoff path as of each {data['step']} ({data['perspective']})"
    plot_history(data, path, title=title)
    say(f"wrote {path}")


@cli.command("compare")
@click.argument("first", metavar="P", shell_complete=_complete_perspectives)
@click.argument("second", metavar="Q", shell_complete=_complete_perspectives)
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
    from graph.page.tables import Col

    p, q = data["first"], data["second"]
    agreement = data["rank_agreement"]
    tau = "n/a" if agreement["kendall_tau"] is None else f"{agreement['kendall_tau']:.2f}"
    as_of = f", as of {data['as_of']}" if data["as_of"] else ""
    print_line(_text(("P ", "bold"), (p, ""), ("   Q ", "bold"), (q, "")))
    print_line(_text((f"semantics {data['semantics']}{as_of}; {len(data['overrides'])} "
                      f"override(s) differ; {_attribution_note(data)}, {data['solves']} solves; "
                      f"Kendall tau of the rankings {tau}, {agreement['changed']} of "
                      f"{len(data['models'])} models change rank", "")))
    rows = []
    for row in data["models"]:
        drivers = "\n".join(f"{d['contribution']:+.3f} {d['override']}" for d in row["drivers"])
        rows.append([row["id"], f"{row['strength'][p]:.3f}", f"{row['strength'][q]:.3f}",
                     _signed(row["difference"]), str(row["rank"][p]), str(row["rank"][q]),
                     _text((drivers, ""))])
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


@cli.command("robustness")
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
    from graph.page.tables import Col

    parts = sorted({p for row in shares.values() for p in row},
                   key=lambda p: (p == "evidence", p != "base", p != "reasoning", p))
    print_line("Parts of each strength, 90% interval over the samples (--by group):")
    print_table([Col("model", "id"), *(Col(p, "num") for p in parts)],
                [[node, *(f"{row[p]['low']:.3f} .. {row[p]['high']:.3f}" if p in row else "-"
                          for p in parts)] for node, row in shares.items()])


def _plot_robustness(data, path):
    _require_matplotlib()
    from graph.page.plots import plot_robustness

    plot_robustness(data, path)
    say(f"wrote {path}")


def _print_robustness(data):
    from graph.page.tables import Col

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


@cli.group("perspective")
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
@click.argument("name", shell_complete=_complete_perspectives)
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
@click.argument("name", shell_complete=_complete_perspectives)
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
    from graph.page.tables import Col

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
@click.argument("name", shell_complete=_complete_perspectives)
@json_option
@click.pass_context
def perspective_show(ctx, name, as_json):
    """Show the overrides of perspective NAME beside the corpus values."""
    from graph.files.perspectives import describe_perspective

    info = describe_perspective(load_corpus(ctx), name)
    if as_json:
        emit_json(info)
        return
    from graph.page.tables import Col

    print_line(_text((info["name"], "bold"), (f"  {info['path'] or ''}", "dim")))
    if info["description"]:
        print_line(info["description"])
    print_table([Col("override", "ids"), Col("corpus", "num"), Col("here", "num"), Col("note")],
                [[row["override"], f"{row['base']:g}", f"{row['value']:g}",
                  _text((row["note"], "dim"))] for row in info["overrides"]])


# ==== section: evidence ====

@cli.command("evidence")
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
    data["filter"] = _filter_json(ctx, corpus.graph)
    if not data["converged"]:
        click.echo("warning: some solves did not converge; their last states were used", err=True)
    if as_json:
        emit_json(data)
        return
    _print_evidence(data)


EVIDENCE_MODELS = 6   # model columns `evidence` prints in the terminal (all with --json)


def _print_evidence(data):
    from graph.page.tables import Col

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


# ==== section: sharing ====
# A shared map on a SPARQL server (graph/page/endpoint.py): publish, pull; `sparql --endpoint`.

def endpoint_options(f):
    f = http_credentials_option(f)
    f = timeout_option("Give up on the server after this many seconds.")(f)
    f = click.option("--store-url", metavar="URL",
                     help="The server's Graph Store service (default: /store beside the query "
                          "service, as Oxigraph lays it out).")(f)
    f = click.option("--graph", "graph_iri", metavar="IRI", default=None,
                     help="The named graph (default https://w3id.org/takeoff-graph/graph/corpus; "
                          "'default': the server's default graph).")(f)
    return click.option("--endpoint", required=True, metavar="URL",
                        help="The server's SPARQL query service (http://HOST:PORT/query) or its "
                             "base URL. Credentials: $TAKEOFF_ENDPOINT_TOKEN, or "
                             "$TAKEOFF_ENDPOINT_USER and $TAKEOFF_ENDPOINT_PASSWORD, sent only "
                             "to $TAKEOFF_ENDPOINT_HOST; or netrc.")(f)


@cli.command()
@endpoint_options
@base_option
@click.option("--with-strengths", is_flag=True,
              help="Publish each node's strength too, with the semantics that produced it.")
@semantics_option
@click.option("--force", is_flag=True, help="Replace the graph even if it holds other data.")
@json_option
@click.pass_context
def publish(ctx, endpoint, graph_iri, store_url, timeout, http_credentials, base, with_strengths,
            semantics, force, as_json):
    """Put the corpus on a SPARQL server as one named graph, replacing its previous version.

    Uses the SPARQL 1.1 Graph Store HTTP Protocol (one PUT: the server swaps the graph
    atomically), so any conforming server works:

        takeoff publish --endpoint http://127.0.0.1:7878 --with-strengths
    """
    from graph.page import endpoint as remote
    from graph.formats.rdf import DEFAULT_BASE

    corpus = load_corpus(ctx)
    score = _score_for(corpus.graph, with_strengths, semantics)
    info = remote.publish(corpus.graph, remote.Endpoint(endpoint, store_url, timeout,
                                                        http_credentials=http_credentials),
                          graph_iri or remote.DEFAULT_GRAPH, base=base or DEFAULT_BASE,
                          score=score, force=force)
    if as_json:
        emit_json(info)
        return
    strengths = f", strengths under {info['semantics']}" if info["semantics"] else ""
    verb = "created" if info["created"] else "replaced"
    click.echo(f"published {info['triples']} triples ({info['nodes']} nodes, {info['edges']} "
               f"edges{strengths}; {info['bytes']} bytes of N-Triples) to {info['store']}: "
               f"{verb} graph <{info['graph']}>")


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@endpoint_options
@base_option
@click.option("--replace", is_flag=True,
              help="Overwrite local nodes that differ from the published graph, and delete "
                   "those not in it.")
@json_option
@click.pass_context
def pull(ctx, folder, endpoint, graph_iri, store_url, timeout, http_credentials, base, replace,
         as_json):
    """Rebuild a corpus folder (FOLDER, default: the corpus) from a published graph.

    Only nodes that differ are written, all in one change; a folder whose nodes differ from
    the graph is left alone unless --replace.
    """
    from graph.page import endpoint as remote

    root = folder or ctx.obj.corpus_path
    graph, summary = remote.pull(remote.Endpoint(endpoint, store_url, timeout,
                                                 http_credentials=http_credentials),
                                 graph_iri or remote.DEFAULT_GRAPH, root, base=base,
                                 replace=replace)
    if as_json:
        emit_json({"folder": str(root), **summary})
        return
    click.echo(f"pulled {graph.number_of_nodes()} nodes and {graph.number_of_edges()} edges into "
               f"{root}: {len(summary['added'])} added, {len(summary['changed'])} changed, "
               f"{len(summary['removed'])} removed, {summary['unchanged']} unchanged")


def _interrupt(*_):
    raise KeyboardInterrupt


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True,
              help="The port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="The address to listen on: loopback, so only this machine's users can reach "
                   "the server, unless another is named (0.0.0.0: every network).")
@click.option("--location", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the server's store in this folder (default: a temporary folder, removed "
                   "when the server stops).")
@click.option("--writable", is_flag=True,
              help="Accept SPARQL updates and Graph Store writes, from anyone who can reach the "
                   "port (there is no authentication); by default the store is read-only.")
@base_option
@click.option("--with-strengths", is_flag=True, help="Load each node's strength too.")
@semantics_option
@click.pass_context
def serve(ctx, port, host, location, writable, base, with_strengths, semantics):
    """Serve the corpus from a local SPARQL server (Oxigraph) until Ctrl-C.

    For tools that speak SPARQL (YASGUI, Protege, a notebook): queries go to
    http://127.0.0.1:PORT/query and see the corpus without naming its graph. The corpus is
    loaded into the server's store before it starts, read-only unless --writable.
    """
    from graph.page import endpoint as remote
    from graph.formats.rdf import DEFAULT_BASE

    import signal

    corpus = load_corpus(ctx)
    score = _score_for(corpus.graph, with_strengths, semantics)
    server = remote.serve_corpus(corpus.graph, port=port, host=host, location=location,
                                 writable=writable, base=base or DEFAULT_BASE, score=score)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server too, as Ctrl-C does
    try:
        info, url = server.info, server.url
        reach = ("only this machine's users can reach it" if host in ("127.0.0.1", "::1", "localhost")
                 else f"anyone who can reach {host} can query it")
        who = ("writable: anyone who can reach it can change it (no authentication)" if writable
               else "read-only: nobody can change it (pass --writable to accept updates)")
        click.echo(f"serving {info['nodes']} nodes ({info['triples']} triples) as graph "
                   f"<{info['graph']}>\n  SPARQL query: {url}/query\n  Graph Store: {url}/store\n"
                   f"  {reach}; {who}\nCtrl-C stops the server.", err=True)
        server.process.wait()
        raise TakeoffError(f"the oxigraph server on {url} stopped (exit {server.process.returncode})")
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.stop()


# ==== section: review (takeoff diff, takeoff log) ====

@cli.command("diff")
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
    from graph.page.tables import Col

    r, s, f = data["ranking"], data["structure"], data["findings"]
    print_line(_text((f"{data['before']} -> {data['after']}: ", "bold"), (data["summary"], "")))
    rows = []
    for p in r["paths"]:
        causes = "\n".join(f"{c['contribution']:+.4f} {c['input']}" for c in p["parts"])
        rows.append([p["id"], _maybe(p["before"]), _maybe(p["after"]),
                     _signed(p["change"]) if p["change"] is not None else p["status"],
                     f"{p['rank']['before'] or '-'} > {p['rank']['after'] or '-'}",
                     _text((causes, ""))])
    print_table([Col("path", "id"), Col("before", "num"), Col("after", "num"),
                 Col("change", "num"), Col("rank", "num"),
                 Col("what moved it (Shapley parts of the change)", "ids")], rows)
    grouping = f"; {r['grouping']}" if r["grouping"] else ""
    print_line(_text((f"semantics {r['semantics']}, perspective {r['perspective']}"
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


@cli.command("log")
@click.argument("node_id", metavar="[ID]", required=False, shell_complete=_complete_ids)
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
        _require_matplotlib()
    data = log(settings(ctx).corpus_path, node_id, revisions or ("HEAD",), max_count=max_count,
               semantics=semantics, perspective=perspective, as_of=as_of)
    if plot is not None:
        from graph.explaining.review import plot_log

        plot_log(data, plot)
        say(f"wrote {plot}")
    if as_json:
        emit_json(data)
        return
    from graph.page.tables import Col

    rows = []
    for c in data["commits"]:
        moved = "\n".join(_moved(p) for p in c["paths"] if p["change"] != 0.0)
        rows.append([c["short"], c["date"], _text((c["subject"], "")),
                     _text((c["changes"], "")), _text((moved, ""))])
    print_table([Col("commit", "id"), Col("date", "id"), Col("subject", "text"),
                 Col("changes", "text"), Col("strengths moved", "ids")], rows)


def main():
    cli()
