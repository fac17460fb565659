"""The daily workflow: finding the corpus, global options, warnings, mv, edit, sources,
formats from file names, and edge edits that say what they did."""
import json
import os

import pytest
from click.testing import CliRunner

from cli import cli
from helpers import REPO, snapshot, write_node
from graph.files.config import find_corpus
from graph.files.corpus import Corpus
from graph.core.model import TakeoffError


@pytest.fixture
def cli_run():
    """``cli_run(*args)`` runs the CLI with no --corpus: the corpus is found from the cwd."""
    runner = CliRunner()

    def invoke(*args, input=None, env=None):
        return runner.invoke(cli, [str(a) for a in args], input=input, env=env)

    return invoke


@pytest.fixture
def marked(small_corpus):
    """The small corpus with its takeoff.toml."""
    (small_corpus / "takeoff.toml").write_text('title = "Small"\n')
    return small_corpus


@pytest.fixture(autouse=True)
def no_env_corpus(monkeypatch):
    monkeypatch.delenv("TAKEOFF_CORPUS", raising=False)


# ---------------------------------------------------------------- 1. finding the corpus

def test_commands_find_the_corpus_from_any_folder_below_it(marked, cli_run, monkeypatch):
    (marked / "notes" / "deep").mkdir(parents=True)
    monkeypatch.chdir(marked / "notes" / "deep")
    result = cli_run("check")
    assert result.exit_code == 0, result.output
    assert "4 nodes" in result.output


def test_the_repository_root_finds_the_bundled_corpus(cli_run, monkeypatch):
    monkeypatch.chdir(REPO)
    assert find_corpus(environ={}).root.resolve() == (REPO / "claims").resolve()
    result = cli_run("check")
    assert result.exit_code == 0 and "ok:" in result.output


def test_no_corpus_found_says_what_was_looked_for(tmp_path, cli_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["check"], ["add", "claim", "x", "--title", "X"], ["score"]):
        result = cli_run(*args)
        assert result.exit_code == 1, args
        assert "no corpus found: looked for takeoff.toml" in result.stderr
        assert "takeoff init" in result.stderr and "--corpus" in result.stderr
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_explicit_flags_beat_the_environment_which_beats_discovery(marked, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    (other / "takeoff.toml").write_text("")
    monkeypatch.chdir(marked)
    assert find_corpus(environ={}).root.resolve() == marked.resolve()
    assert find_corpus(environ={"TAKEOFF_CORPUS": str(other)}).root == other
    assert find_corpus(other, environ={"TAKEOFF_CORPUS": str(marked)}).root == other


@pytest.mark.parametrize("args", [
    ["add", "claim", "x", "--title", "X"],
    ["import", "-", "--format", "node-link"],
    ["perspective", "new", "p"],
])
def test_a_mistyped_corpus_is_never_created(tmp_path, cli_run, args):
    wrong = tmp_path / "clams"
    result = cli_run(*args, input='{"nodes": []}', env={"TAKEOFF_CORPUS": str(wrong)})
    assert result.exit_code == 1
    assert "$TAKEOFF_CORPUS" in result.stderr and "no such corpus folder" in result.stderr
    assert not wrong.exists()


def test_an_empty_folder_is_not_a_corpus(tmp_path, run):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(empty, "add", "claim", "x", "--title", "X")
    assert result.exit_code == 1 and "not a corpus" in result.stderr
    assert "takeoff init" in result.stderr
    assert list(empty.iterdir()) == []


def test_init_then_work_inside_it(tmp_path, cli_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli_run("init", "mycorpus")
    assert result.exit_code == 0, result.output
    steps = result.stdout.splitlines()
    assert steps[0] == "next:" and len(steps) == 4
    assert steps[1] == "  cd mycorpus" and steps[2].startswith("  takeoff add model")
    assert (tmp_path / "mycorpus" / "takeoff.toml").is_file()
    monkeypatch.chdir(tmp_path / "mycorpus")
    assert cli_run("add", "model", "my-path", "--title", "A path").exit_code == 0
    assert (tmp_path / "mycorpus" / "my-path.md").is_file()
    assert cli_run("check").exit_code == 0


def test_takeoff_toml_settings_are_used_and_unknown_keys_warned(marked, run):
    (marked / "takeoff.toml").write_text('semantics = "dfquad"\ntitel = "x"\n')
    result = run(marked, "score", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["semantics"] == "dfquad"
    assert "takeoff.toml:2: warning: unknown key 'titel' (did you mean 'title'?)" in result.stderr
    assert json.loads(run(marked, "score", "--json", "--semantics", "qe").stdout)["semantics"] == "qe"


@pytest.mark.parametrize("text, message", [
    ("title = \n", "not valid TOML"),
    ("semantics = 3\n", "takeoff.toml:1: semantics must be non-empty text"),
    ('semantics = "qq"\n', "takeoff.toml:1: semantics 'qq' is not one of"),
])
def test_a_bad_takeoff_toml_is_an_error_with_its_line(marked, run, text, message):
    (marked / "takeoff.toml").write_text(text)
    before = snapshot(marked)
    for args in (["score"], ["set", "m1", "credence", "0.3"]):
        result = run(marked, *args)
        assert result.exit_code == 1 and message in result.stderr, result.output
    assert snapshot(marked) == before


# ---------------------------------------------------------------- 5. global options anywhere

def test_global_options_after_the_command(marked, tmp_path, cli_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli_run("score", "--corpus", marked, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ranking"][0]["id"] == "m1"
    nested = cli_run("perspective", "list", "--corpus", marked, "--json")
    assert nested.exit_code == 0 and json.loads(nested.stdout) == []


def test_json_before_the_command(marked, run):
    result = run(marked, "--json", "score")
    assert result.exit_code == 0 and json.loads(result.stdout)["semantics"] == "qe"


def test_json_with_a_command_without_json_output_says_so(marked, run):
    before = snapshot(marked)
    result = run(marked, "--json", "set", "m1", "credence", "0.2")
    assert result.exit_code == 2 and "set` has no JSON output" in result.stderr
    assert snapshot(marked) == before


# ---------------------------------------------------------------- 6. warnings on every command

def test_every_command_prints_the_warnings_once_and_quiet_silences_them(marked, run):
    write_node(marked, "c3", """
        ---
        kind: claim
        title: Misspelt
        credance: 0.9
        ---
        """)
    warning = "c3.md:4: warning: unknown key 'credance' (did you mean 'credence'?)"
    for args in (["score"], ["list"], ["show", "m1"], ["why", "m1"],
                 ["set", "c3", "title", "Spelt"], ["export"]):
        result = run(marked, *args)
        assert result.exit_code == 0, (args, result.output)
        assert result.stderr.count(warning) == 1, (args, result.stderr)
        quiet = run(marked, *args, "--quiet")
        assert "warning" not in quiet.stderr, args


# ---------------------------------------------------------------- 7. edge edits say what they do

def test_link_updates_only_what_is_given_and_prints_old_and_new(marked, run):
    result = run(marked, "link", "c1", "m1", "--supports", "--note", "new note")
    assert result.exit_code == 0, result.output
    assert ('updated c1 -> m1: supports weight 0.8 note "because" -> supports weight 0.8 '
            'note "new note"') in result.stderr
    edge = Corpus.load(marked).graph.edges["c1", "m1", "supports"]
    assert (edge["weight"], edge["note"]) == (0.8, "new note")
    same = run(marked, "link", "c1", "m1", "--supports")
    assert "unchanged c1 -> m1" in same.stderr


def test_flipping_a_relation_needs_replace(marked, run):
    before = snapshot(marked)
    refused = run(marked, "link", "c1", "m1", "--undermines")
    assert refused.exit_code == 1 and "c1 already supports m1" in refused.stderr
    assert "--replace" in refused.stderr
    assert snapshot(marked) == before
    result = run(marked, "link", "c1", "m1", "--undermines", "--replace")
    assert result.exit_code == 0, result.output
    assert 'supports weight 0.8 note "because" -> undermines weight 0.8 note "because"' in result.stderr
    graph = Corpus.load(marked).graph
    assert list(graph.get_edge_data("c1", "m1")) == ["undermines"]


def test_both_relations_is_a_usage_error(marked, run):
    before = snapshot(marked)
    result = run(marked, "link", "c2", "c1", "--supports", "--undermines")
    assert result.exit_code == 2 and "not both" in result.stderr
    assert snapshot(marked) == before


@pytest.mark.parametrize("field, value, shown", [
    ("credence", "0.3", "m1 credence: 0.5 -> 0.3"),
    ("title", "New", "m1 title: 'A takeoff path' -> 'New'"),
    ("date", "2024-01-02", "m1 date: (none) -> 2024-01-02"),
    ("tags", "a,b", "m1 tags: (none) -> a, b"),
])
def test_set_prints_old_and_new(marked, run, field, value, shown):
    result = run(marked, "set", "m1", field, value)
    assert result.exit_code == 0, result.output
    assert shown in result.stderr


# ---------------------------------------------------------------- 2. mv

PERSPECTIVE = """\
description: test
credences:
  # the claim, held high
  c1: 0.9  # c1's comment
  m1: 0.2
weights:
  - source: c1
    target: m1
    weight: 0.3
"""


def test_mv_renames_the_file_every_edge_and_every_perspective(marked, run):
    (marked / "perspectives").mkdir()
    (marked / "perspectives" / "p.yaml").write_text(PERSPECTIVE)
    result = run(marked, "mv", "c1", "core-claim")
    assert result.exit_code == 0, result.output
    assert "renamed c1 -> core-claim" in result.stderr and "2 other file(s)" in result.stderr
    assert not (marked / "c1.md").exists() and (marked / "core-claim.md").is_file()
    graph = Corpus.load(marked).require_valid().graph
    assert graph.has_edge("e1", "core-claim") and graph.has_edge("core-claim", "m1")
    text = (marked / "perspectives" / "p.yaml").read_text()
    assert "core-claim: 0.9 # c1's comment" in text and "source: core-claim" in text
    assert "# the claim, held high" in text
    assert run(marked, "score", "--perspective", "p").exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["nope", "x"], "unknown id 'nope'"),
    (["c1", "c2"], "'c2' already exists"),
    (["c1", "Bad Id"], "is not a valid id"),
])
def test_mv_bad_input_writes_nothing(marked, run, args, message):
    before = snapshot(marked)
    result = run(marked, "mv", *args)
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert snapshot(marked) == before


# ---------------------------------------------------------------- 3. edit and sources

def test_source_add_update_and_rm(marked, run):
    result = run(marked, "source", "add", "m1", "https://example.org/a", "--title", "A paper",
                 "--quote", "it says so", "--date", "2025-02-03")
    assert result.exit_code == 0, result.output
    assert "added source <https://example.org/a>" in result.stderr
    source = Corpus.load(marked).graph.nodes["m1"]["sources"][0]
    assert source["title"] == "A paper" and source["quote"] == "it says so"
    assert str(source["date"]) == "2025-02-03"
    result = run(marked, "source", "add", "m1", "https://example.org/a", "--title", "Better")
    assert "title A paper" in result.stderr and "title Better" in result.stderr
    source = Corpus.load(marked).graph.nodes["m1"]["sources"][0]
    assert (source["title"], source["quote"]) == ("Better", "it says so")
    assert run(marked, "source", "rm", "m1", "https://example.org/a").exit_code == 0
    assert Corpus.load(marked).graph.nodes["m1"]["sources"] == []
    assert "sources" not in (marked / "m1.md").read_text()


@pytest.mark.parametrize("args, code, message", [
    (["add", "m1", "ftp://x"], 1, "well-formed http(s) URL"),
    (["add", "m1", "https://x.org", "--date", "soon"], 2, "is not an ISO date"),
    (["add", "nope", "https://x.org"], 1, "unknown id 'nope'"),
    (["rm", "e1", "https://example.org/reprt"], 1, "did you mean 'https://example.org/report'"),
    (["rm", "m1", "https://example.org/report"], 1, "it has no sources"),
])
def test_source_bad_input_writes_nothing(marked, run, args, code, message):
    before = snapshot(marked)
    result = run(marked, "source", *args)
    assert result.exit_code == code and message in result.stderr, result.output
    assert snapshot(marked) == before


# ---------------------------------------------------------------- 4. formats from file names

@pytest.mark.parametrize("name, fmt, start", [
    ("out.ttl", "turtle", "PREFIX"),
    ("out.jsonld", "jsonld", "{"),
    ("out.json", "node-link", "{"),
    ("out.dot", "dot", "digraph"),
    ("out.mmd", "mermaid", "flowchart"),
    ("out.argdown", "argdown", ""),
    ("out.aif.json", "aif", "{"),
])
def test_export_infers_the_format_from_the_file_name(marked, run, tmp_path, name, fmt, start):
    out = tmp_path / name
    result = run(marked, "export", "-o", out)
    assert result.exit_code == 0, result.output
    assert f"({fmt})" in result.stderr
    assert out.read_text().lstrip().startswith(start)


@pytest.mark.parametrize("name", ["copy.ttl", "copy.nt", "copy.jsonld", "copy.json", "copy.aif"])
def test_import_infers_the_format_from_the_file_name(marked, run, tmp_path, name):
    out = tmp_path / name
    assert run(marked, "export", "-o", out).exit_code == 0
    target = tmp_path / "target"
    assert run(target, "init", target).exit_code == 0
    result = run(target, "import", out)
    assert result.exit_code == 0, result.output
    assert sorted(Corpus.load(target).graph) == sorted(Corpus.load(marked).graph)


def test_explicit_format_wins(marked, run, tmp_path):
    out = tmp_path / "graph.txt"
    assert run(marked, "export", "-o", out, "--format", "turtle").exit_code == 0
    assert out.read_text().startswith("PREFIX")
    wrong = tmp_path / "turtle.json"
    wrong.write_text(out.read_text())
    target = tmp_path / "target"
    run(target, "init", target)
    assert run(target, "import", wrong, "--format", "turtle").exit_code == 0


def test_import_of_content_in_another_format_says_what_it_tried(marked, run, tmp_path):
    wrong = tmp_path / "graph.json"
    assert run(marked, "export", "--format", "turtle", "-o", wrong).exit_code == 0
    before = snapshot(marked)
    result = run(marked, "import", wrong)
    assert result.exit_code == 1
    assert "read as node-link because of its file name" in result.stderr
    assert "--format" in result.stderr and "Traceback" not in result.output
    assert snapshot(marked) == before


@pytest.mark.parametrize("command", ["export -o {}", "import {}"])
def test_an_extension_without_a_format_is_a_usage_error(marked, run, tmp_path, command):
    path = tmp_path / "graph.txt"
    path.write_text("{}")
    before = snapshot(marked)
    verb, *args = command.format(path).split()
    result = run(marked, verb, *args)
    assert result.exit_code == 2 and "give --format" in result.stderr, result.output
    assert snapshot(marked) == before


def test_a_format_that_cannot_be_imported_is_named(marked, run, tmp_path):
    path = tmp_path / "graph.dot"
    path.write_text("digraph {}")
    result = run(marked, "import", path)
    assert result.exit_code == 2 and "is not one it can import" in result.stderr


def test_init_in_the_current_folder(tmp_path, cli_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli_run("init")
    assert result.exit_code == 0 and (tmp_path / "takeoff.toml").is_file()
    assert "cd " not in result.stdout and "takeoff add model" in result.stdout


def test_init_defaults_to_the_environment_folder(tmp_path, cli_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli_run("init", env={"TAKEOFF_CORPUS": str(tmp_path / "named")})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "named" / "takeoff.toml").is_file()
    assert not (tmp_path / "takeoff.toml").exists()


# ---------------------------------------------------------------- 8. one intention, one command

def test_a_note_on_an_existing_edge_needs_no_relation(marked, run):
    result = run(marked, "link", "c2", "m1", "--note", "l'autre côté")
    assert result.exit_code == 0, result.output
    assert 'updated c2 -> m1: undermines weight 1 -> undermines weight 1 note "l\'autre côté"' \
        in result.stderr  # the note as typed: no Python escapes
    edge = Corpus.load(marked).graph.edges["c2", "m1", "undermines"]
    assert edge["note"] == "l'autre côté"


def test_a_new_edge_without_a_relation_is_refused(marked, run):
    before = snapshot(marked)
    result = run(marked, "link", "c2", "c1", "--note", "why")
    assert result.exit_code == 1
    assert "c2 has no edge to c1 yet: say --supports or --undermines" in result.stderr
    assert snapshot(marked) == before


def test_add_gives_each_edge_a_weight_and_a_note(marked, run):
    result = run(marked, "add", "claim", "c3", "--title", "T",
                 "--supports", "m1:0.7:it's the point: with a colon", "--undermines", "c1::no weight")
    assert result.exit_code == 0, result.output
    graph = Corpus.load(marked).graph
    supports = graph.edges["c3", "m1", "supports"]
    assert (supports["weight"], supports["note"]) == (0.7, "it's the point: with a colon")
    undermines = graph.edges["c3", "c1", "undermines"]
    assert (undermines["weight"], undermines["note"]) == (1.0, "no weight")


@pytest.mark.parametrize("args", [
    ["link", "c2", "m1", "--weight", "1.5"],
    ["add", "claim", "c3", "--title", "T", "--supports", "m1:1.5"],
    ["perspective", "set", "mine", "c2", "m1", "weight", "1.5"],
])
def test_a_bad_weight_gets_one_message_and_one_exit_code_everywhere(marked, run, args):
    assert run(marked, "perspective", "new", "mine").exit_code == 0
    before = snapshot(marked)
    result = run(marked, *args)
    assert result.exit_code == 2, result.output
    assert "weight '1.5' must be a number in" in result.stderr
    assert snapshot(marked) == before


def test_set_a_field_with_a_typo_suggests_the_field(marked, run):
    result = run(marked, "set", "m1", "credance", "0.4")
    assert result.exit_code == 1 and "did you mean 'credence'?" in result.stderr


def test_set_an_uncertain_credence_says_what_was_written_and_show_shows_it(marked, run):
    result = run(marked, "set", "m1", "credence", "{mean: 0.7, spread: 0.1}")
    assert result.exit_code == 0, result.output
    assert "m1 credence: 0.5 -> {mean: 0.7, spread: 0.1}" in result.stderr
    shown = run(marked, "show", "m1")
    assert "credence 0.700 {mean: 0.7, spread: 0.1}" in shown.stdout
    back = run(marked, "set", "m1", "credence", "0.2")
    assert "m1 credence: {mean: 0.7, spread: 0.1} -> 0.2" in back.stderr


def test_a_long_source_title_is_cut_with_an_ellipsis(marked, run):
    title = "A very long report title " * 4
    result = run(marked, "source", "add", "m1", "https://example.org/long", "--title", title)
    assert result.exit_code == 0, result.output
    shown = result.stderr.split("(title ", 1)[1]
    assert shown.startswith(title[:50]) and shown.rstrip().endswith("\u2026)")
    assert len(shown.rstrip()) <= 62


def test_quiet_score_prints_only_the_table(marked, run):
    result = run(marked, "score", "--quiet")
    assert result.exit_code == 0 and result.stderr == ""
    assert "converged" not in result.output
    assert "converged" in run(marked, "score").output


def test_compare_prints_each_rank_in_its_own_column(cli_run, monkeypatch):
    monkeypatch.chdir(REPO)
    result = cli_run("compare", "base", "rlvr-optimist", "--plain")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.split("\n\n")[0].splitlines()  # the models' table
    columns = header.split("\t")
    assert columns[4:6] == ["rank P", "rank Q"]
    assert all(cells.split("\t")[4].isdigit() and cells.split("\t")[5].isdigit() for cells in rows)
    assert " > " not in result.stdout


def test_a_query_naming_strengths_gets_them_without_the_flag(cli_run, monkeypatch):
    monkeypatch.chdir(REPO)
    result = cli_run("sparql", "models-by-strength", "--plain")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == 6 and "6 row(s)" in result.stderr
    plain = cli_run("sparql", "SELECT ?m WHERE { ?m a tg:Model }", "--plain")
    assert len(plain.stdout.splitlines()) == 7


def test_argdown_export_carries_the_corpus_title(marked, run):
    result = run(marked, "export", "--format", "argdown")
    assert result.exit_code == 0 and result.stdout.startswith('===\ntitle: "Small"\n===')


# ---------------------------------------------------------------- 9. where a corpus may be

def test_a_relative_corpus_variable_is_refused_with_the_fix(marked, cli_run, monkeypatch):
    monkeypatch.chdir(marked.parent)
    for args in (["check"], ["init"], ["add", "claim", "x", "--title", "X"]):
        result = cli_run(*args, env={"TAKEOFF_CORPUS": marked.name})
        assert result.exit_code == 1, args
        assert f"$TAKEOFF_CORPUS {marked.name}: must be an absolute path" in result.stderr
        assert f'export TAKEOFF_CORPUS="$PWD/{marked.name}"' in result.stderr
    assert not (marked / "x.md").exists()
    absolute = cli_run("check", env={"TAKEOFF_CORPUS": str(marked)})
    assert absolute.exit_code == 0, absolute.output


@pytest.mark.parametrize("where", ["sub", "deeper/sub"])
def test_init_inside_a_corpus_is_refused_naming_it(marked, cli_run, monkeypatch, where):
    monkeypatch.chdir(marked)
    before = snapshot(marked)
    result = cli_run("init", where)
    assert result.exit_code == 1
    assert f"lies inside the corpus {marked.resolve()}" in result.stderr
    assert snapshot(marked) == before and not (marked / where).exists()
