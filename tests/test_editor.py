"""`takeoff edit ID` (and `add --edit`) with a real editor: a small executable script set as
$VISUAL or $EDITOR, which click starts as its own process on a temporary file. Every case runs
twice: `takeoff` in a process of its own (as a user runs it) and in-process through click's
CliRunner (the editor is a real process either way)."""
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cli import cli
from graph.files.corpus import Corpus
from helpers import REPO, snapshot

# What an editor may do to the file it is given (``path``, a pathlib.Path): the valid change
# renames the model; the invalid one adds a credence out of range on line 4 of m1.md.
RENAME = 'path.write_text(path.read_text().replace("title: A takeoff path", "title: Renamed"))'
BREAK = 'path.write_text(path.read_text().replace("title: A takeoff path", "title: A takeoff path\\ncredence: 7"))'
FIX = 'path.write_text(path.read_text().replace("credence: 7", "credence: 0.7"))'
RESAVE = "path.write_text(path.read_text())"  # saved, but the same text
QUIT = "pass"  # left without saving


def make_editor(folder, action, *, status=0, name="myed"):
    """An executable Python script ``folder/name`` that logs its arguments and the text it was
    given, runs ``action`` on the file (its last argument) and exits with ``status``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f"#!{sys.executable}\n"
                      "import json, pathlib, sys\n"
                      "path = pathlib.Path(sys.argv[-1])\n"
                      f"with open({str(folder / 'log')!r}, 'a') as log:\n"
                      "    log.write(json.dumps({'args': sys.argv[1:-1], 'text': path.read_text()}) + '\\n')\n"
                      f"{action}\n"
                      f"sys.exit({status})\n")
    script.chmod(0o755)
    return script


def calls(folder):
    """What each run of the editor in ``folder`` was given: [{"args", "text"}]."""
    log = folder / "log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture(params=["process", "clirunner"])
def takeoff(request, monkeypatch):
    """``takeoff(corpus, *args, EDITOR=..., VISUAL=...)`` runs the command with those editor
    variables (unset when not given); returns (exit status, stdout, stderr)."""
    def run(corpus, *args, **editors):
        for key in ("VISUAL", "EDITOR"):
            if key in editors:
                monkeypatch.setenv(key, str(editors[key]))
            else:
                monkeypatch.delenv(key, raising=False)
        args = ["--corpus", str(corpus), *args]
        if request.param == "process":
            done = subprocess.run([sys.executable, "-c", "from cli import main; main()", *args],
                                  cwd=REPO, capture_output=True, text=True, timeout=120,
                                  stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)})
            return done.returncode, done.stdout, done.stderr
        result = CliRunner().invoke(cli, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        return result.exit_code, result.stdout, result.stderr

    return run


def test_a_valid_change_is_saved(small_corpus, takeoff, tmp_path):
    editor = make_editor(tmp_path / "bin", RENAME)
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR=editor)
    assert code == 0 and "saved" in err, err
    assert Corpus.load(small_corpus).require_valid().graph.nodes["m1"]["title"] == "Renamed"
    (call,) = calls(tmp_path / "bin")
    assert call["text"] == (small_corpus / "m1.md").read_text().replace("Renamed", "A takeoff path")
    assert not (small_corpus / "m1.md.rej").exists()


def test_visual_comes_before_editor(small_corpus, takeoff, tmp_path):
    visual = make_editor(tmp_path / "visual", RENAME)
    editor = make_editor(tmp_path / "editor", BREAK, status=1)
    code, _, err = takeoff(small_corpus, "edit", "m1", VISUAL=visual, EDITOR=editor)
    assert code == 0, err
    assert len(calls(tmp_path / "visual")) == 1 and calls(tmp_path / "editor") == []


def test_an_invalid_change_is_refused_kept_in_rej_and_mended_by_the_next_edit(small_corpus, takeoff, tmp_path):
    before = snapshot(small_corpus)
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR=make_editor(tmp_path / "break", BREAK))
    assert code == 1
    assert "m1.md:4:" in err and "credence" in err and "refused, nothing was written" in err, err
    assert "Traceback" not in err
    rejected = small_corpus / "m1.md.rej"
    assert "m1.md.rej" in err and "credence: 7" in rejected.read_text()
    assert snapshot(small_corpus) == {**before, rejected.relative_to(small_corpus): rejected.read_bytes()}
    # The next edit starts from the refused text; mended, it is saved and the .rej goes.
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR=make_editor(tmp_path / "fix", FIX))
    assert code == 0, err
    assert calls(tmp_path / "fix")[0]["text"] == calls(tmp_path / "break")[0]["text"].replace(
        "title: A takeoff path", "title: A takeoff path\ncredence: 7")
    assert Corpus.load(small_corpus).require_valid().graph.nodes["m1"]["credence"] == 0.7
    assert not rejected.exists()


@pytest.mark.parametrize("action", [QUIT, RESAVE])
def test_no_change_writes_nothing(small_corpus, takeoff, tmp_path, action):
    before = snapshot(small_corpus)
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR=make_editor(tmp_path / "bin", action))
    assert code == 0 and "m1: no change" in err, err
    assert snapshot(small_corpus) == before


def test_no_change_after_a_refusal_drops_the_refused_text(small_corpus, takeoff, tmp_path):
    assert takeoff(small_corpus, "edit", "m1", EDITOR=make_editor(tmp_path / "break", BREAK))[0] == 1
    before = snapshot(small_corpus)
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR=make_editor(tmp_path / "quit", QUIT))
    assert code == 0 and "dropped" in err, err
    rejected = (small_corpus / "m1.md.rej").relative_to(small_corpus)
    assert snapshot(small_corpus) == {k: v for k, v in before.items() if k != rejected}
    takeoff(small_corpus, "edit", "m1", EDITOR=make_editor(tmp_path / "again", QUIT))
    assert calls(tmp_path / "again")[0]["text"] == (small_corpus / "m1.md").read_text()  # from the file


@pytest.mark.parametrize("action", [RENAME, BREAK, QUIT])
def test_an_editor_that_exits_non_zero_changes_nothing(small_corpus, takeoff, tmp_path, action):
    before = snapshot(small_corpus)
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR=make_editor(tmp_path / "bin", action, status=3))
    assert code == 1 and "Editing failed" in err and "Traceback" not in err, err
    assert snapshot(small_corpus) == before


def test_a_missing_editor_is_named_and_changes_nothing(small_corpus, takeoff, tmp_path):
    before = snapshot(small_corpus)
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR=tmp_path / "no-such-editor")
    assert code == 1 and "no-such-editor" in err and "Traceback" not in err, err
    assert snapshot(small_corpus) == before


def test_an_editor_command_with_arguments(small_corpus, takeoff, tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    make_editor(folder, RENAME)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR="myed --wait")
    assert code == 0, err
    assert calls(folder)[0]["args"] == ["--wait"]
    assert Corpus.load(small_corpus).graph.nodes["m1"]["title"] == "Renamed"


def test_an_editor_path_with_a_space_quoted_in_the_command(small_corpus, takeoff, tmp_path):
    folder = tmp_path / "my editors"
    editor = make_editor(folder, RENAME)
    code, _, err = takeoff(small_corpus, "edit", "m1", VISUAL=f"'{editor}' -f --nofork")
    assert code == 0, err
    assert calls(folder)[0]["args"] == ["-f", "--nofork"]
    assert Corpus.load(small_corpus).graph.nodes["m1"]["title"] == "Renamed"


def test_the_refused_text_is_not_a_node(small_corpus, takeoff, tmp_path):
    assert takeoff(small_corpus, "edit", "m1", EDITOR=make_editor(tmp_path / "break", BREAK))[0] == 1
    code, out, err = takeoff(small_corpus, "check")
    assert code == 0, out + err


def test_an_unknown_id_starts_no_editor(small_corpus, takeoff, tmp_path):
    before = snapshot(small_corpus)
    code, _, err = takeoff(small_corpus, "edit", "nope", EDITOR=make_editor(tmp_path / "bin", RENAME))
    assert code == 1 and "nope" in err, err
    assert calls(tmp_path / "bin") == [] and snapshot(small_corpus) == before


def test_a_change_made_meanwhile_is_not_overwritten(small_corpus, takeoff, tmp_path):
    node = small_corpus / "m1.md"
    meanwhile = f"pathlib.Path({str(node)!r}).write_text(pathlib.Path({str(node)!r}).read_text().replace('The path.', 'The road.'))"
    editor = make_editor(tmp_path / "bin", f"{meanwhile}\n{RENAME}")
    code, _, err = takeoff(small_corpus, "edit", "m1", EDITOR=editor)
    assert code == 1 and "changed while you edited it" in err, err
    assert "The road." in node.read_text() and "A takeoff path" in node.read_text()
    assert "title: Renamed" in (small_corpus / "m1.md.rej").read_text()


def test_add_writes_the_annotation_in_the_editor(small_corpus, takeoff, tmp_path):
    editor = make_editor(tmp_path / "bin", 'path.write_text("Written in an editor.\\n")')
    code, _, err = takeoff(small_corpus, "add", "claim", "edited", "--title", "T", "--edit", EDITOR=editor)
    assert code == 0, err
    assert Corpus.load(small_corpus).graph.nodes["edited"]["body"] == "Written in an editor.\n"
