"""Trust: writes stay inside the corpus, hostile files are refused unread, and no write leaves a
perspective pointing at what is gone. (Crashes: tests/test_crash.py.)"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import REPO, snapshot, write_node
from graph.formats.common import slugify
from graph.files import store
from graph.files.edit import apply_change, init_corpus, new_node_path
from graph.core.model import ID_PATTERN, CorpusError, TakeoffError


def tree(folder):
    """Every file below ``folder`` (the corpus and what lies around it) with its bytes; the
    load cache (``.takeoff/cache`` and the ``.gitignore`` made with it) is not part of it: a
    load may write it."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(Path(folder).rglob("*"))
            if p.is_file() and not p.is_symlink() and p.name != store.LOCK_NAME
            and not (p.parent.name == store.STATE_DIR and p.name in ("cache", ".gitignore"))}


def node_link(*nodes):
    return json.dumps({"directed": True, "multigraph": True, "graph": {},
                       "nodes": [{"kind": "claim", "title": "T", **n} for n in nodes],
                       "edges": []})


# ---------------------------------------------------------------- confinement

BAD_IDS = ["../../docs/index", "/tmp/x", "a/b", "..", "../x", "x.md", "Upper", "a\\b", "a b",
           "-a", "a--b", ""]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_import_refuses_an_id_that_is_not_a_slug_by_name(small_corpus, tmp_path, run, bad):
    source = tmp_path / "in.json"
    source.write_text(node_link({"id": bad}))
    before = tree(tmp_path)
    result = run(small_corpus, "import", source)
    assert result.exit_code == 1, result.output
    assert f"{bad!r} is not a valid id" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(tmp_path) == before  # nothing in the corpus, nothing beside it


@pytest.mark.parametrize("bad", ["../x", "/tmp/x", "a/b", "X"])
def test_add_and_perspective_new_refuse_a_non_slug(small_corpus, run, bad):
    before = snapshot(small_corpus)
    result = run(small_corpus, "add", "claim", bad, "--title", "A title")
    assert result.exit_code == 1 and f"{bad!r} is not a valid id" in result.stderr
    result = run(small_corpus, "perspective", "new", bad)
    assert result.exit_code == 1 and "not a valid perspective name" in result.stderr
    assert snapshot(small_corpus) == before


def test_aif_node_ids_are_slugified_never_used_as_paths(tmp_path, run):
    corpus = tmp_path / "deep" / "claims"
    init_corpus(corpus)
    aif = {"nodes": [{"nodeID": "../../../../tmp/x", "text": "?!", "type": "I"},
                     {"nodeID": "/etc/passwd", "text": "...", "type": "I"},
                     {"nodeID": "..", "text": "--", "type": "I"}], "edges": []}
    source = tmp_path / "in.json"
    source.write_text(json.dumps(aif))
    result = run(corpus, "import", source, "--format", "aif")
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.md"))
    assert written == ["deep/claims/node-etc-passwd.md", "deep/claims/node-tmp-x.md",
                       "deep/claims/node.md"]


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_slugify_never_makes_a_path(text, fallback):
    slug = slugify(text, set(), fallback=fallback)
    assert ID_PATTERN.match(slug) and "/" not in slug and ".." not in slug


def test_a_kind_folder_linked_outside_the_corpus_is_not_written_through(tmp_path, run):
    corpus = tmp_path / "claims"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write_node(corpus, "m1", "---\nkind: model\ntitle: M\n---\n")
    (corpus / "claims").symlink_to(outside, target_is_directory=True)
    result = run(corpus, "add", "claim", "c9", "--title", "A claim")
    assert result.exit_code == 1 and "outside the corpus" in result.stderr
    assert list(outside.iterdir()) == []


def test_every_writer_is_confined_at_the_transaction(small_corpus, tmp_path):
    before = tree(tmp_path)
    for path in (tmp_path / "x.md", small_corpus / ".." / "y.md", small_corpus / "sub" / "Bad.md",
                 small_corpus / "notes.txt", small_corpus / "perspectives" / "a b.yaml"):
        with pytest.raises(TakeoffError, match="outside the corpus|not a valid|not a node"):
            apply_change(small_corpus, lambda corpus, path=path: {path: "x"}, "test")
    with pytest.raises(TakeoffError, match="outside the corpus"):
        apply_change(small_corpus, lambda corpus: {tmp_path / "elsewhere.md": None}, "test")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("bad", BAD_IDS)
def test_new_node_path_refuses_non_slugs(small_corpus, bad):
    with pytest.raises(TakeoffError, match="not a valid id"):
        new_node_path(small_corpus, "claim", bad)
    assert new_node_path(small_corpus, "../../x", "ok").parent == small_corpus  # kind checked too


# The id rule's one message (graph.core.model.id_problem), whatever names the id.
ID_RULE = "use lower-case letters, digits and single '-' (e.g. compute-bottleneck)"


def test_an_id_ending_in_a_newline_is_refused_everywhere(small_corpus, tmp_path, run):
    """The id pattern ended in `$`, which also matches before a final newline: `mv c1 $'c3\\n'`
    wrote a node file named "c3\\n.md", an import took the id "ok\\n", a perspective "p\\n"."""
    before = snapshot(small_corpus)
    result = run(small_corpus, "mv", "c1", "c3\n")
    assert result.exit_code == 1 and f"NEW: 'c3\\n' is not a valid id: {ID_RULE}" in result.stderr
    result = run(small_corpus, "add", "claim", "c3\n", "--title", "T")
    assert result.exit_code == 1 and f"'c3\\n' is not a valid id: {ID_RULE}" in result.stderr
    result = run(small_corpus, "perspective", "new", "p\n")
    assert result.exit_code == 1 and f"'p\\n' is not a valid perspective name: {ID_RULE}" in result.stderr
    source = tmp_path / "in.json"
    source.write_text(node_link({"id": "ok\n"}))
    result = run(small_corpus, "import", source)
    assert result.exit_code == 1 and f"nodes[0]: 'ok\\n' is not a valid id: {ID_RULE}" in result.stderr
    assert snapshot(small_corpus) == before


@pytest.mark.parametrize("where, make, expected", [
    ("a node file", lambda root: (root / "Bad_Name.md").write_text("---\nkind: claim\ntitle: x\n---\n"),
     f"Bad_Name.md:1: file name 'Bad_Name.md': 'Bad_Name' is not a valid id: {ID_RULE}"),
    ("a perspective file", lambda root: (root / "perspectives").mkdir() or
     (root / "perspectives" / "My_View.yaml").write_text("description: x\n"),
     f"My_View.yaml: 'My_View' is not a valid perspective name: {ID_RULE}"),
    ("takeoff.toml", lambda root: (root / "takeoff.toml").write_text('[sources.Essay]\ntitle = "x"\n'),
     f"takeoff.toml:1: [sources]: 'Essay' is not a valid source id: {ID_RULE}"),
    ("an edge's from", lambda root: (root / "c2.md").write_text(
        (root / "c2.md").read_text().replace("  - target: m1", "  - target: m1\n    from: The_Essay")),
     f"from of the edge to 'm1': 'The_Essay' is not a valid source id: {ID_RULE}"),
])
def test_the_id_rule_has_one_message_in_every_file(small_corpus, run, where, make, expected):
    make(small_corpus)
    result = run(small_corpus, "check")
    assert result.exit_code == 1, where
    assert expected in result.output + result.stderr, (where, result.output + result.stderr)


@pytest.mark.parametrize("fmt, text, expected", [
    ("node-link", node_link({"id": "Upper"}), "nodes[0]: 'Upper' is not a valid id"),
    ("turtle", '@prefix tg: <https://w3id.org/takeoff-graph/vocab#> .\n'
               '@prefix dcterms: <http://purl.org/dc/terms/> .\n'
               '<https://w3id.org/takeoff-graph/node/a> a tg:Claim ; dcterms:identifier "Not An Id" ;'
               ' dcterms:title "A" .\n',
     "'Not An Id' is not a valid id"),
])
def test_imports_give_the_id_rule_s_message(small_corpus, tmp_path, run, fmt, text, expected):
    source = tmp_path / "in.data"
    source.write_text(text)
    result = run(small_corpus, "import", "--format", fmt, source)
    assert result.exit_code == 1 and f"{expected}: {ID_RULE}" in result.stderr, result.stderr


# ---------------------------------------------------------------- reading safely

def _refused(run, corpus, name, reason):
    result = run(corpus, "check")
    assert result.exit_code == 1, result.output
    assert f"{name}: {reason}" in result.stderr, result.stderr
    assert run(corpus, "score").exit_code == 1  # a refused file is an error for every command
    return result


def test_a_fifo_named_like_a_node_is_refused_without_hanging(small_corpus):
    os.mkfifo(small_corpus / "x.md")
    # A subprocess with a timeout: a hang fails the test instead of freezing it.
    result = subprocess.run([sys.executable, "-c", "from cli import main; main()", "--corpus",
                             str(small_corpus), "check"], cwd=REPO, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1
    assert "x.md: a FIFO (named pipe), not a regular file; refused" in result.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/hostname", "/dev/null"])
def test_a_link_out_of_the_corpus_is_refused_unread(small_corpus, run, target):
    (small_corpus / "x.md").symlink_to(target)
    _refused(run, small_corpus, "x.md", f"a symbolic link to {os.path.realpath(target)}, "
                                        "outside the corpus; refused")


def test_a_link_inside_the_corpus_is_followed(small_corpus, run):
    (small_corpus / "sub").mkdir()
    (small_corpus / "sub" / "alias.md").symlink_to(small_corpus / "m1.md")
    # The same file twice under two ids: loaded (and its own checks apply), not refused.
    result = run(small_corpus, "list")
    assert result.exit_code == 0 and "alias" in result.output


def test_a_folder_named_like_a_node_and_an_oversized_file_are_refused(small_corpus, run):
    (small_corpus / "dir.md").mkdir()
    with open(small_corpus / "big.md", "wb") as handle:  # sparse: refused before any read
        handle.truncate(store.MAX_FILE_BYTES + 1)
    result = _refused(run, small_corpus, "dir.md", "a folder, not a regular file; refused")
    assert (f"big.md: {store.MAX_FILE_BYTES + 1} bytes, over the 10 MB limit of a corpus file; "
            "refused") in result.stderr


def test_a_file_at_the_size_cap_is_read(tmp_path):
    path = tmp_path / "x.md"
    path.write_bytes(b"a" * store.MAX_FILE_BYTES)
    assert len(store.read_bytes(path)) == store.MAX_FILE_BYTES


def test_a_socket_and_a_device_named_like_nodes_are_refused(small_corpus, run):
    import socket
    import stat

    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(small_corpus / "sock.md"))
        try:
            os.mknod(small_corpus / "zero.md", stat.S_IFCHR | 0o600, os.makedev(1, 5))
            device = True
        except OSError:  # no CAP_MKNOD here: the link-to-/dev/zero test covers devices
            device = False
        result = _refused(run, small_corpus, "sock.md", "not a regular file; refused")
        if device:
            assert "zero.md: a character device, not a regular file; refused" in result.stderr
    finally:
        server.close()


def test_a_link_inside_to_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "x.md").symlink_to(tmp_path / "pipe")
    with pytest.raises(store.UnsafeFileError, match="FIFO"):
        store.read_bytes(tmp_path / "x.md", tmp_path)


def test_hostile_perspective_files_are_refused(small_corpus, run):
    folder = small_corpus / "perspectives"
    folder.mkdir()
    os.mkfifo(folder / "pipe.yaml")
    (folder / "zero.yaml").symlink_to("/dev/zero")
    result = run(small_corpus, "check")
    assert result.exit_code == 1
    assert "pipe.yaml: a FIFO (named pipe), not a regular file; refused" in result.stderr
    assert "zero.yaml: a symbolic link to /dev/zero, outside the corpus; refused" in result.stderr
    result = run(small_corpus, "perspective", "show", "zero")
    assert result.exit_code == 1 and "outside the corpus" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- perspectives stay consistent

PERSPECTIVE = """\
# my view
description: A view
credences:
  # about c1
  c1: 0.9
  # about e1
  e1: 0.2
weights:
  # the first edge
  - source: e1
    target: c1
    weight: 0.3
  # the second edge
  - source: c1
    target: m1
    weight: 0.4
"""


@pytest.fixture
def viewed(small_corpus):
    folder = small_corpus / "perspectives"
    folder.mkdir()
    (folder / "view.yaml").write_text(PERSPECTIVE)
    return small_corpus


def test_rm_refuses_to_orphan_a_perspective_override(viewed, run):
    before = snapshot(viewed)
    result = run(viewed, "rm", "e1")  # nothing points at e1; a perspective does
    assert result.exit_code == 1
    assert "view.yaml:7: credence e1" in result.stderr
    assert "view.yaml:10: weight e1 -> c1" in result.stderr and "--force" in result.stderr
    assert snapshot(viewed) == before


def test_rm_force_updates_perspectives_in_the_same_transaction(viewed, run):
    result = run(viewed, "rm", "e1", "--force")
    assert result.exit_code == 0, result.output
    assert (viewed / "perspectives" / "view.yaml").read_text() == """\
# my view
description: A view
credences:
  # about c1
  c1: 0.9
weights:
  # the second edge
  - source: c1
    target: m1
    weight: 0.4
"""
    assert run(viewed, "check").exit_code == 0
    assert run(viewed, "score", "--perspective", "view").exit_code == 0


def test_unlink_refuses_then_forces_past_a_weight_override(viewed, run):
    before = snapshot(viewed)
    result = run(viewed, "unlink", "c1", "m1")
    assert result.exit_code == 1 and "view.yaml:14: weight c1 -> m1" in result.stderr
    assert snapshot(viewed) == before
    result = run(viewed, "unlink", "c1", "m1", "--force")
    assert result.exit_code == 0, result.output
    text = (viewed / "perspectives" / "view.yaml").read_text()
    assert "target: m1" not in text and "c1: 0.9" in text
    assert run(viewed, "perspective", "show", "view").exit_code == 0


def test_a_replacing_import_that_drops_an_overridden_edge_is_refused(viewed, tmp_path, run):
    source = tmp_path / "in.json"
    source.write_text(node_link({"id": "e1", "kind": "evidence", "title": "E", "date": "2025-01-01"}))
    before = snapshot(viewed)
    result = run(viewed, "import", source, "--replace")
    assert result.exit_code == 1 and "import refused, nothing was written" in result.stderr
    assert "view.yaml:11: the corpus has no edge e1 -> c1" in result.stderr
    assert snapshot(viewed) == before


def test_a_change_to_a_perspective_file_is_validated_before_it_is_written(viewed):
    before = snapshot(viewed)
    path = viewed / "perspectives" / "view.yaml"
    with pytest.raises(CorpusError, match=r"view.yaml:2: credences: unknown id 'nope'"):
        apply_change(viewed, lambda corpus: {path: "credences:\n  nope: 0.5\n"}, "edit view")
    assert snapshot(viewed) == before


def test_perspective_edits_are_transactions(viewed, run):
    result = run(viewed, "perspective", "set", "view", "c2", "credence", "0.3")
    assert result.exit_code == 0, result.output
    assert "c2: 0.3" in (viewed / "perspectives" / "view.yaml").read_text()
    assert not store.pending(viewed) and not list(viewed.rglob("*.tmp"))


def test_reads_finish_an_interrupted_transaction_first(small_corpus, run):
    """A committed journal left by a killed writer is rolled forward by the next read."""
    store.write_files(small_corpus, {small_corpus / "m1.md": "---\nkind: model\ntitle: New\n---\n"})
    staged = small_corpus / ".m1.md.0123456789abcdef.new.tmp"
    text = b"---\nkind: model\ntitle: Rolled forward\n---\n"
    staged.write_bytes(text)
    journal = store.journal_path(small_corpus)
    journal.write_text(json.dumps({"version": 2, "state": "commit", "dirs": [], "deletes": [],
                                   "writes": [["m1.md", staged.name, len(text),
                                               hashlib.sha256(text).hexdigest()]]}))
    result = run(small_corpus, "show", "m1")
    assert result.exit_code == 0 and "Rolled forward" in result.output
    assert not journal.exists() and not staged.exists()


def test_planted_links_for_the_lock_and_the_journal_are_not_followed(small_corpus, tmp_path, run):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (small_corpus / store.LOCK_NAME).symlink_to(victim)
    result = run(small_corpus, "set", "m1", "title", "New")
    assert result.exit_code == 1 and "the corpus lock is not a regular file" in result.stderr
    (small_corpus / store.LOCK_NAME).unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (small_corpus / store.STATE_DIR).symlink_to(elsewhere, target_is_directory=True)
    result = run(small_corpus, "set", "m1", "title", "New")
    assert result.exit_code == 1 and "a symbolic link" in result.stderr
    assert victim.read_text() == "precious" and list(elsewhere.iterdir()) == []
    assert "title: A takeoff path" in (small_corpus / "m1.md").read_text()
