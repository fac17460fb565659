"""Output for terminals and pipes: ids are never wrapped or cut at 80 columns (tested in a real
pseudo-terminal), piped output and --plain are tab-separated, and shell completion completes
ids, perspectives and formats through click's completion protocol."""
import json
import os
import pty
import re
import subprocess
import sys

import pytest
from rich.text import Text

from conftest import REPO, write_node
from graph.tables import Col, spill, tsv, widths, wrap_words

BUNDLED = REPO / "claims"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def in_terminal(*args, columns=80):
    """Run ``takeoff ARGS`` with its stdout on a pseudo-terminal COLUMNS wide; the text seen."""
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "PYTHONPATH": str(REPO),
           "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", *map(str, args)],
                            stdout=follower, stderr=follower, stdin=subprocess.DEVNULL,
                            env=env, cwd=REPO)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower closed: the process has ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode()
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


def words(text):
    return set(re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text))


def scored(*args):
    from click.testing import CliRunner

    from cli import cli

    result = CliRunner().invoke(cli, ["--corpus", str(BUNDLED), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _chain_ids(chains):
    return {n for chain in chains for n in chain["nodes"]}


EXPECTED = {  # the ids each command shows, from its --json output
    "score": lambda d: {r["id"] for r in d["ranking"]} | {
        p["source"] for r in d["ranking"] for p in (r["up"], r["down"]) if p},
    "score --all": lambda d: {r["id"] for r in d["ranking"]},
    "why software-explosion": lambda d: {r["id"] for r in d["nodes"]},
    "list": lambda d: {r["id"] for r in d},
    "history --step quarter": lambda d: {n["id"] for n in d["nodes"]},
    "cruxes naive-rlvr bottlenecks": lambda d: {r["id"] for r in d["cruxes"]},
    "paths deepseek-r1-zero-rl naive-rlvr": _chain_ids,
}


@pytest.mark.parametrize("command", list(EXPECTED))
def test_80_columns_in_a_real_terminal_keep_every_id_whole(command):
    text = in_terminal(*command.split())
    lines = text.splitlines()
    assert lines and max(map(len, lines)) <= 80, "\n".join(l for l in lines if len(l) > 80)
    assert "\t" not in text  # a terminal gets the laid-out table, not the plain one
    expected = EXPECTED[command](scored(*command.split()))
    assert expected and expected <= words(text), expected - words(text)


def test_80_columns_score_names_every_push(tmp_path):
    text = in_terminal("score")
    for row in scored("score")["ranking"]:
        assert row["id"] in words(text)
        for push in (row["up"], row["down"]):
            if push is not None:
                assert push["source"] in words(text)


def test_plain_on_a_terminal_is_tab_separated():
    text = in_terminal("list", "--kind", "model", "--plain")
    lines = text.splitlines()
    assert lines[0].split("\t") == ["id", "kind", "credence", "date", "title"]
    assert len(lines) == 1 + len(scored("list", "--kind", "model"))


def test_piped_output_is_tab_separated_with_nothing_but_rows(run, small_corpus):
    result = run(small_corpus, "score", "--all")
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows[0][:3] == ["#", "node", "kind"] and all(len(r) == len(rows[0]) for r in rows)
    assert {r[1] for r in rows[1:]} == {"m1", "c1", "c2", "e1"}
    assert "converged" in result.stderr and "converged" not in result.stdout


def test_long_titles_shrink_before_ids(small_corpus, run):
    write_node(small_corpus, "a-long-identifier-kept-whole", """
        ---
        kind: claim
        title: """ + "word " * 40 + """
        ---
        """)
    text = in_terminal("--corpus", small_corpus, "list")
    assert "a-long-identifier-kept-whole" in words(text)
    assert "…" in text and max(map(len, text.splitlines())) <= 80


# ---- the layout itself ------------------------------------------------------------------------

def test_widths_shrink_text_then_ids_and_never_id_or_number_columns():
    columns = [Col("id", "id"), Col("n", "num"), Col("chain", "ids"), Col("title")]
    rows = [["some-long-node-id", "0.500", "a-b > c-d-e > f", "x" * 60]]
    sizes, fits = widths(columns, rows, 80)
    assert fits and sizes[:3] == [17, 5, 15] and sum(sizes) + 6 == 80
    sizes, fits = widths(columns, rows, 40)
    assert fits and sizes == [17, 5, 5, 7] or sizes[0] == 17
    sizes, fits = widths(columns, rows, 20)
    assert not fits and sizes[0] == 17 and sizes[2] == len("c-d-e")


def test_spill_moves_id_columns_under_the_table():
    columns = [Col("id", "id"), Col("up", "ids"), Col("down", "ids")]
    rows = [["n", "+1 " + "a" * 30, "-1 " + "b" * 30]]
    kept, kept_rows, sizes, moved = spill(columns, rows, 40)
    assert [c.header for c in kept] == ["id", "up"] and moved == [(0, "down", "-1 " + "b" * 30)]


def test_tsv_and_wrap_words():
    assert tsv([Col("a"), Col("b")], [[Text("x\ny"), "t\tu"]]) == "a\tb\nx; y\tt u\n"
    lines = wrap_words("2025-01: +3 deepseek-r1-self-generated-data, o1-rl-scaling", 30)
    assert "deepseek-r1-self-generated-data," in " ".join(lines).split()


# ---- shell completion (click's protocol) -------------------------------------------------------

def complete(words_typed, incomplete, cwd=REPO, extra_env=None):
    env = {**os.environ, "PYTHONPATH": str(REPO), "_TAKEOFF_COMPLETE": "bash_complete",
           "COMP_WORDS": " ".join(["takeoff", *words_typed, incomplete]),
           "COMP_CWORD": str(len(words_typed) + 1)}
    env.pop("TAKEOFF_CORPUS", None)
    env.update(extra_env or {})
    result = subprocess.run([sys.executable, "-c", "import cli; cli.cli(prog_name='takeoff')"],
                            env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


def test_completion_of_node_ids_perspectives_formats_and_commands(small_corpus):
    assert "software-explosion" in complete(["why"], "soft")
    assert complete(["why"], "soft") == ["software-explosion", "software-returns-exceed-one"]
    assert complete(["link", "naive-rlvr"], "bottle") == ["bottlenecks"]
    assert complete(["score", "--perspective"], "") == ["base", "bottlenecks-sceptic",
                                                        "essay-author", "rlvr-optimist"]
    assert complete(["export", "--format"], "tu") == ["turtle"]
    assert "mv" in complete([], "m") and "edit" in complete([], "e")
    assert complete(["show", "--corpus", str(small_corpus)], "c") == ["c1", "c2"]
    assert complete(["show"], "e", extra_env={"TAKEOFF_CORPUS": str(small_corpus)}) == ["e1"]


def test_completion_outside_a_corpus_offers_nothing(tmp_path):
    assert complete(["why"], "", cwd=tmp_path) == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_for_each_shell(shell):
    env = {**os.environ, "PYTHONPATH": str(REPO), "_TAKEOFF_COMPLETE": f"{shell}_source"}
    result = subprocess.run([sys.executable, "-c", "import cli; cli.cli(prog_name='takeoff')"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "_TAKEOFF_COMPLETE" in result.stdout


# ---- a reader that stops early (`takeoff list | head`) -----------------------------------------

@pytest.mark.parametrize("args", [["robustness", "--samples", "50"], ["list"], ["list", "--json"],
                                  ["score", "--all"], ["export", "--format", "turtle"],
                                  ["sparql", "models-by-strength"], ["why", "bottlenecks"]])
def test_a_closed_pipe_ends_the_command_quietly(args):
    """stdout is a pipe whose reader has already gone, so the first write fails (EPIPE): the
    command ends with status 0 and prints no error (nor Python's "Exception ignored" at exit),
    whichever command it is."""
    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("TAKEOFF_CORPUS", None)
    proc = subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args], stdout=write,
                          stderr=subprocess.PIPE, text=True, cwd=REPO, env=env, timeout=120)
    os.close(write)
    assert proc.returncode == 0, proc.stderr
    for noise in ("Error", "Broken pipe", "Traceback", "Exception ignored"):
        assert noise not in proc.stderr


def test_piping_into_head_is_quiet_under_pipefail():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("TAKEOFF_CORPUS", None)
    script = (f"{sys.executable} -c 'import cli; cli.main()' score --all --quiet | head -3 && "
              f"{sys.executable} -c 'import cli; cli.main()' robustness --samples 50 | head -1")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert len(proc.stdout.splitlines()) == 4
