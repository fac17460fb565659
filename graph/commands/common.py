"""What every command shares: the global options' settings, the command class, the options
that several commands take (--semantics, --as-of, --perspective, --json, ...), the corpus as a
command sees it, printing (tables, lines, JSON) and shell completion.

Importing this module imports click and nothing heavy: a Tab completes ids with it alone.
"""
import dataclasses
import os
import sys
from pathlib import Path

import click

from graph.core.limits import InputError, check_text_arg, quote
from graph.core.model import DATE_FORMS, PERSPECTIVES_DIR, TakeoffError, is_id, node_id, parse_date
from graph.page.tables import (
    GAP, inert, inert_json, inert_rich, plain, rich_table, spill, tsv, wrap_words,
)


def _check_utf8(ctx, param, value):
    """Refuse a text argument that is not UTF-8 (bytes that are not arrive as surrogate
    escapes, which no corpus file can hold) as a usage error naming the argument."""
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


def remember(attribute):
    """An option's callback that keeps a given value on the :class:`Settings` as ``attribute``."""
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
                     callback=remember("corpus_option"),
                     help="The corpus folder. Default: $TAKEOFF_CORPUS, else the first folder "
                          "holding takeoff.toml (or claims/takeoff.toml) from here upwards."),
        click.Option(["-q", "--quiet"], is_flag=True, default=None, is_eager=True,
                     expose_value=False, hidden=hidden, callback=remember("quiet"),
                     help="Do not print the corpus's warnings or what a command did."),
        click.Option(["--plain"], is_flag=True, default=None, is_eager=True, expose_value=False,
                     hidden=hidden, callback=remember("plain"),
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


class CommandGroup(click.Group):
    """A group of commands under one name (``takeoff source add``); its commands are
    :class:`TakeoffCommand`, so they take the global options too."""

    command_class = TakeoffCommand


def command(name=None, **kwargs):
    """``@click.command`` for a takeoff command (global options, UTF-8 arguments, --json check)."""
    return click.command(name, cls=TakeoffCommand, **kwargs)


def group(name=None, **kwargs):
    """``@click.group`` for a takeoff command group."""
    return click.group(name, cls=CommandGroup, **kwargs)


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
    import json  # here, not at the top: a Tab imports this module and prints no JSON

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


def weighted_target(value, param_name):
    """``TARGET[:WEIGHT[:NOTE]]`` as (target, weight or None, note or None); the note is the
    rest of the text, colons and all (ids and numbers hold none)."""
    target, _, rest = value.partition(":")
    weight, _, note = rest.partition(":")
    return (target, parse_weight(weight, param_name) if weight else None, note or None)


def complete_words(words, incomplete):
    return [word for word in words if word.startswith(incomplete)]


def complete_ids(ctx, param, incomplete):
    """Node ids of the corpus, from the file names alone: no YAML, no settings are read and
    nothing heavy is imported, so that a Tab answers at once. Only names that pass the id rule
    are offered (a file named ``m1;touch x;#.md`` is no node, and completing it would put a
    command on the user's line)."""
    from graph.files.config import locate_corpus
    from graph.files.store import iter_node_files

    try:
        root, _ = locate_corpus(settings(ctx).corpus_option)
    except TakeoffError:
        return []
    ids = (node_id(p) for p in iter_node_files(root))
    return complete_words(sorted(i for i in ids if is_id(i)), incomplete)


def complete_perspectives(ctx, param, incomplete):
    """``base`` and the perspective files' names that pass the name rule, listed here rather
    than by graph.files.perspectives.perspective_names, whose module imports the solver's stack."""
    from graph.files.config import locate_corpus

    try:
        root, _ = locate_corpus(settings(ctx).corpus_option)
    except TakeoffError:
        return []
    stems = sorted(p.name[:-len(".yaml")] for p in (root / PERSPECTIVES_DIR).glob("*.yaml"))
    return complete_words(["base", *(s for s in stems if is_id(s))], incomplete)


def complete_semantics(ctx, param, incomplete):
    from graph.solving.propagation import SEMANTICS

    return complete_words(SEMANTICS, incomplete)


class IsoDate(click.ParamType):
    """A ``YYYY-MM-DD`` argument as a :class:`datetime.date`; ``YYYY-MM`` means the last day
    of that month (the day from which a month-dated node counts)."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
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
        "--perspective", metavar="NAME", shell_complete=complete_perspectives,
        help="Apply the credences and weights of claims/perspectives/NAME.yaml "
             "('base': the corpus as written).")(f)


def semantics_option(f):
    return click.option("--semantics", metavar="NAME", callback=_check_semantics,
                        shell_complete=complete_semantics,
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
                     callback=remember("evidence_kinds"),
                     help="Count only the evidence of these kinds (comma-separated: "
                          "observation, forecast, testimony); the rest, and evidence of no "
                          "kind, is left out with its edges. 'observation': observations only.")(f)
    return click.option("--edges-from", metavar="SOURCES", expose_value=False,
                        callback=remember("edges_from"),
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
    state = settings(ctx)
    if state.edges_from is None and state.evidence_kinds is None:
        return corpus   # without touching corpus.graph, which a load from columns builds late
    edges_from, kinds = evidence_filter(ctx, corpus.graph)

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


def value_text(value):
    """A field's value as `set` and `show` print it."""
    if value is None:
        return "(none)"
    if isinstance(value, dict):  # an uncertain credence, as written in the file
        return "{" + ", ".join(f"{k}: {v:g}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "(none)"
    if isinstance(value, str) and "\n" in value.rstrip("\n"):
        return f"{len(value.splitlines())} lines"
    return repr(value) if isinstance(value, str) else str(value)


def base_option(f):
    return click.option("--base", metavar="IRI",
                        callback=lambda ctx, param, value: value or (
                            None if ctx.resilient_parsing else settings(ctx).setting("base")),
                        help="RDF formats: node ids become IRIs under this base (default: the "
                             "corpus's takeoff.toml 'base', else "
                             "https://w3id.org/takeoff-graph/node/).")(f)


def filter_json(ctx, graph):
    """What --edges-from and --evidence-kinds kept, for a command's JSON."""
    from graph.files.provenance import describe_filter

    return describe_filter(*evidence_filter(ctx, graph))


def parts_columns(rows):
    """The parts worth a column: base, reasoning, evidence, and each kind of evidence that
    adds anything to some row."""
    from graph.solving.shares import EVIDENCE_GROUPS

    kinds = [g for g in EVIDENCE_GROUPS if any(abs(r[g]) > 0 for r in rows)]
    return ["base", "reasoning", "evidence", *kinds]


def styled(*parts):
    """A rich Text from (text, style) pairs: titles are never read as markup."""
    from rich.text import Text

    text = Text()
    for part, style in parts:
        text.append(part, style=style)
    return text


def require_matplotlib():
    """A clear message, not an ImportError, when --plot is asked for without matplotlib."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise TakeoffError("--plot needs matplotlib: pip install 'takeoff-graph[plot]'") from None


def signed(value):
    """A change with its sign, green when it rose and red when it fell."""
    style = "green" if value > 0.0005 else "red" if value < -0.0005 else "dim"
    return styled((f"{value:+.3f}", style))
