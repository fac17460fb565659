"""The ``takeoff`` command: a thin click layer over the ``graph`` package.

Each command parses its arguments, makes one call of the Python API and prints the result:
a table for people, or JSON with ``--json``. Errors the user can act on are raised as
``TakeoffError`` and printed without a traceback (exit 1); usage errors exit 2, as click does.

The commands live in graph/commands/, one module per concern. This file is the root: the
global options, errors turned into messages, and the table of commands, from which ``takeoff
--help`` and a Tab are answered without importing any command's module; a command's module is
imported when that command runs, shows its help or completes its arguments (click's "lazy
group": list_commands and get_command).
"""
import gc
import os
import sys
from importlib import import_module

import click

from graph.commands.common import Settings, global_options, remember
from graph.core.model import TakeoffError
from graph.page.tables import inert

# The solver works on sparse arrays; BLAS threads (OpenBLAS, used for a few dense steps) only
# spin on the other core for problems this size, burning CPU for no gain. One thread unless
# the user asks for more; set before numpy is first imported (docs/performance.md).
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

# name -> (module.attribute under graph.commands, short help). The short help is the first
# sentence of the command's docstring, as click would make it (tests/test_commands.py checks
# that the two agree).
COMMANDS = {
    "add": ("corpus.add", "Add a node of KIND (model, claim, evidence, argument) with the id ID."),
    "check": ("corpus.check",
              "Validate the corpus: every problem as path:line: message (exit 1 on errors)."),
    "compare": ("perspectives.compare_command",
                "Compare perspectives P and Q (either may be 'base'): each model's strength and "
                "rank under both, and which overrides drive the difference (Shapley values over "
                "the differing overrides)."),
    "cruxes": ("explaining.cruxes_command",
               "Name the nodes whose credence decides whether A or B ranks higher."),
    "diff": ("review.diff_command",
             "What a change did to the map: nodes, fields, edges, sources and perspectives "
             "changed, each path's strength before and after with its change split among the "
             "changed inputs (exact Shapley values), and the findings of check and lint it "
             "brings or clears."),
    "edit": ("corpus.edit",
             "Open node ID's file in your editor and save it if it is still valid."),
    "evidence": ("evidence.evidence_command",
                 "List the evidence by what it does to the ranking: each item's contribution to "
                 "each model's strength and to the gap between the top two models."),
    "export": ("formats.export", "Print the corpus in another format (see --format)."),
    "history": ("history.history_command",
                "The strength of each model as evidence arrived: the corpus scored as of every "
                "step."),
    "html": ("page.html_command",
             "Write the argument map as one self-contained HTML page (works offline)."),
    "import": ("formats.import_", "Write the nodes of FILE (- for stdin) into the corpus as files."),
    "init": ("corpus.init", "Create a corpus in FOLDER (default: --corpus, else $TAKEOFF_CORPUS, "
                            "else the current folder)."),
    "link": ("corpus.link", "Add an edge from SRC to TARGET, or update what is given (--weight, "
                            "--note, --from, --quote) of it."),
    "lint": ("explaining.lint_command",
             "Warn about structural weak spots: unsupported claims, evidence that reaches no "
             "model, models no evidence reaches, contested nodes, cycles, isolated nodes, double "
             "counting, edge notes that cite nothing, undated claims fed by dated nodes "
             "(docs/bundled-corpus.md)."),
    "list": ("scoring.list_", "List the nodes of the corpus."),
    "log": ("review.log_command",
            "The commits that changed the corpus (or node ID, followed through renames made by "
            "`takeoff mv`), newest first, each with the change it made to the paths' strengths."),
    "mv": ("corpus.mv",
           "Rename node OLD to NEW: its file, and every edge and perspective that names it."),
    "paths": ("explaining.paths_command",
              "List the chains of edges from FROM to TO, strongest first."),
    "perspective": ("perspectives.perspective_group",
                    "Named overlays of credences and edge weights "
                    "(claims/perspectives/NAME.yaml)."),
    "publish": ("linked_data.publish", "Put the corpus on a SPARQL server as one named graph, "
                                       "replacing its previous version."),
    "pull": ("linked_data.pull",
             "Rebuild a corpus folder (FOLDER, default: the corpus) from a published graph."),
    "rm": ("corpus.rm", "Remove node ID (refused while other nodes or perspectives refer to it, "
                        "unless --force)."),
    "robustness": ("evidence.robustness_command",
                   "How sure is the ranking? Sample every uncertain credence and weight at once "
                   "and report, for each model, its mean strength, 90% interval, the "
                   "probability that it ranks first and its rank distribution; then the inputs "
                   "whose uncertainty moves the top path most."),
    "score": ("scoring.score",
              "Rank the takeoff paths by strength: how strongly the evidence favours each."),
    "serve": ("linked_data.serve",
              "Serve the corpus from a local SPARQL server (Oxigraph) until Ctrl-C."),
    "set": ("corpus.set_",
            "Set FIELD (kind, title, credence, date, tags, body) of node ID to VALUE."),
    "show": ("scoring.show", "Show node ID: its fields, sources and edges."),
    "source": ("corpus.source_group", "Add, update or remove the sources of a node."),
    "sparql": ("linked_data.sparql", "Run a SPARQL query on the corpus as RDF."),
    "tree": ("explaining.tree_command",
             "Show the argument into (or out of) node ID as an indented tree."),
    "unlink": ("corpus.unlink", "Remove the edge from SRC to TARGET (refused while a perspective "
                                "overrides its weight, unless --force)."),
    "why": ("explaining.why_command",
            "Attribute the strength of ID to every node that reaches it."),
}


class TakeoffGroup(click.Group):
    """The root group: commands are imported from graph.commands only when used, listed from
    :data:`COMMANDS`; every ``TakeoffError`` and OS error becomes a message and exit status 1."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, cmd_name):
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name][0].rsplit(".", 1)
        return getattr(import_module(f"graph.commands.{module}"), attribute)

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            # An unknown command (click >= 8.3's NoSuchCommand, which names it): its "did you
            # mean" comes from the table, as click's own would from the commands defined.
            if getattr(exc, "command_name", None) is None:
                raise
            raise type(exc)(exc.command_name, possibilities=COMMANDS, ctx=ctx) from None

    def format_commands(self, ctx, formatter):
        """The command list of ``takeoff --help``, shortened to the width as click does."""
        limit = formatter.width - 6 - max(map(len, COMMANDS))
        rows = [(name, _short_help(name, limit)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx, incomplete):
        """Command names (with their short help, which zsh and fish show) and options."""
        from click.shell_completion import CompletionItem

        names = [CompletionItem(name, help=_short_help(name)) for name in self.list_commands(ctx)
                 if name.startswith(incomplete)]
        return names + click.Command.shell_complete(self, ctx, incomplete)  # and the options

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


def _short_help(name, limit=45):
    """The table's short help of command ``name``, cut to ``limit`` characters as click cuts
    a command's own (a stand-in command carries it, so the rule is click's)."""
    return click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)


def _reader_gone(ctx):
    """The reader of stdout stopped reading (``takeoff list | head -3``): it has what it wanted,
    so the command ends quietly with status 0, as the rows it read were right. Later writes,
    Python's own flush at exit included, go to /dev/null (the recipe of Python's signal docs)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    ctx.exit(0)


@click.group(cls=TakeoffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, default=None, expose_value=False,
              callback=remember("json"), help="Print JSON (the same as the command's own --json).")
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


def main():
    """The ``takeoff`` command (pyproject's entry point)."""
    try:
        cli()
    finally:
        # The interpreter's last garbage collection walks every object still alive (every
        # module, and a large corpus's graph) though the process is ending; frozen objects
        # are skipped: 0.25 s of `takeoff score` on 50,000 nodes (docs/performance.md).
        gc.freeze()
