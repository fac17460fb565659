"""The root group and its table of commands (``cli.COMMANDS``): every command of graph/commands
is in the table under its own name, with its own short help; ``takeoff --help`` lists them as
click would from the commands themselves, without importing one; a command's module is
imported only when that command is used."""
import importlib
import os
import subprocess
import sys

import click
import pytest

import cli
from helpers import REPO

COMMAND_MODULES = sorted(p.stem for p in (REPO / "graph" / "commands").glob("*.py")
                         if p.stem not in ("__init__", "common"))


def defined_commands():
    """``{name: command}`` for the commands the modules of graph/commands define at their top
    level (a group's own commands, as ``source add``, are the group's)."""
    found = {}
    for stem in COMMAND_MODULES:
        module = importlib.import_module(f"graph.commands.{stem}")
        objects = [v for v in vars(module).values() if isinstance(v, click.Command)]
        inner = {id(c) for g in objects if isinstance(g, click.Group) for c in g.commands.values()}
        found.update({c.name: c for c in objects if id(c) not in inner})
    return found


def test_the_table_names_every_command_and_no_other():
    commands = defined_commands()
    assert sorted(commands) == sorted(cli.COMMANDS)
    ctx = click.Context(cli.cli, info_name="takeoff")
    for name, command in commands.items():
        assert cli.cli.get_command(ctx, name) is command, name
    assert cli.cli.get_command(ctx, "no-such-command") is None


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_the_short_help_in_the_table_is_the_commands_own(name):
    """No drift: the table's short help is the first sentence of the command's docstring."""
    command = defined_commands()[name]
    assert cli.COMMANDS[name][1] == command.get_short_help_str(limit=10**6)


def commands_section(group, width):
    formatter = click.HelpFormatter(width=width)
    group.format_commands(click.Context(group, info_name="takeoff"), formatter)
    return formatter.getvalue()


@pytest.mark.parametrize("width", [40, 80, 200])
def test_help_lists_the_commands_as_click_would_from_the_commands_themselves(width):
    eager = click.Group("takeoff", commands=defined_commands())
    shown = commands_section(cli.cli, width)
    assert shown == commands_section(eager, width)
    assert len(shown.splitlines()) == len(cli.COMMANDS) + 1   # "Commands:" and one line each


def test_completing_a_command_name_gives_the_short_help_as_click_would():
    """zsh and fish show each candidate's short help."""
    eager = click.Group("takeoff", commands=defined_commands())

    def names(group, incomplete):
        items = group.shell_complete(click.Context(group, info_name="takeoff"), incomplete)
        return [(i.value, i.help) for i in items if not i.value.startswith("-")]

    for incomplete in ("", "s", "pe", "x"):
        assert names(cli.cli, incomplete) == names(eager, incomplete), incomplete
    options = cli.cli.shell_complete(click.Context(cli.cli, info_name="takeoff"), "--c")
    assert [i.value for i in options] == ["--corpus"]


def imported_command_modules(*args, env=None):
    """The graph.commands modules a fresh ``takeoff ARGS`` process imports."""
    probe = ("import atexit, sys, cli\n"
             "atexit.register(lambda: print('LOADED', sorted(m for m in sys.modules "
             "if m.startswith('graph.commands.')), file=sys.stderr))\n"
             "cli.cli(prog_name='takeoff')\n")
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    run = subprocess.run([sys.executable, "-c", probe, *args], env=environment, cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    line = next(x for x in run.stderr.splitlines() if x.startswith("LOADED"))
    return eval(line.split(" ", 1)[1])


def test_a_command_module_is_imported_only_when_its_command_is_used():
    assert imported_command_modules("--help") == ["graph.commands.common"]
    assert imported_command_modules("show", "--help") == ["graph.commands.common",
                                                          "graph.commands.scoring"]
    assert imported_command_modules("perspective", "list", "--help") == [
        "graph.commands.common", "graph.commands.perspectives"]
    completing_names = {"_TAKEOFF_COMPLETE": "zsh_complete", "COMP_WORDS": "takeoff s",
                        "COMP_CWORD": "1"}
    assert imported_command_modules(env=completing_names) == ["graph.commands.common"]


def test_an_unknown_command_is_named_with_the_closest_ones(run, small_corpus):
    result = run(small_corpus, "scroe")
    assert result.exit_code == 2 and "No such command 'scroe'" in result.output
    if hasattr(click.exceptions, "NoSuchCommand"):   # click >= 8.3 suggests close names
        assert "Did you mean 'score'?" in result.output
