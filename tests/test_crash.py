"""Crash safety: a write killed at any instant leaves the old corpus or the new one.

Two kinds of kill, both with SIGKILL (nothing of the victim runs after it):

* many kills of the transaction itself: the test prepares a big change once (a 2,000-node
  import, an ``rm --force`` that rewrites 400 files and a perspective), then forks children
  that each run :func:`graph.files.store.write_files` on a fresh copy of the corpus and kills them
  at a random instant;
* a few kills of the whole ``takeoff`` command, started as a subprocess, at a random instant
  of its life.

After each kill the next command's recovery runs, and the corpus must equal, byte for byte,
either the corpus before or the corpus after the change; both validate. Deterministic
crashes between any two steps of a transaction replace :func:`graph.files.store.step_hook` in a forked
child (nothing outside a test can set it). Counts are bounded for CI; raise them with TAKEOFF_CRASH_KILLS.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from helpers import REPO, write_node
from graph.files import edit, store
from graph.formats.nodelink import import_node_link
from graph.files.corpus import Corpus

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")

KILLS = int(os.environ.get("TAKEOFF_CRASH_KILLS", "50"))
IMPORT_NODES = 2000
HUB_SOURCES = 400


@pytest.fixture
def scratch(tmp_path):
    """A folder in memory (/dev/shm) when there is one: what a killed process leaves does not
    depend on the file system (its written pages survive it), and the test copies and removes
    thousands of files per kill, which a busy disk makes slow."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(dir=shm, prefix="takeoff-crash-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def corpus_state(root):
    """Every file of the corpus with its bytes, the lock and the (empty) staging folder aside."""
    root = Path(root)
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] not in (store.STATE_DIR, store.LOCK_NAME):
            out[str(rel)] = path.read_bytes()
    return out


def base_corpus(root):
    """A small valid corpus with a model, a claim and a perspective."""
    write_node(root / "models", "m", "---\nkind: model\ntitle: The model\n---\n")
    write_node(root / "claims", "c", "---\nkind: claim\ntitle: A claim\nsupports:\n"
                                     "  - target: m\n    weight: 0.5\n---\n")
    (root / "evidence").mkdir()
    (root / "perspectives").mkdir()
    (root / "perspectives" / "view.yaml").write_text(
        "# a view\ncredences:\n  c: 0.7\nweights:\n  - source: c\n    target: m\n    weight: 0.9\n")
    return root


def import_text(n, prefix="n"):
    """Node-link JSON of ``n`` claims in chains that end in the base corpus's claim ``c``."""
    nodes, edges = [], []
    for i in range(n):
        nodes.append({"id": f"{prefix}{i}", "kind": "claim", "title": f"Generated claim {i}",
                      "credence": round(0.1 + 0.8 * (i % 7) / 6, 3)})
        edges.append({"source": f"{prefix}{i}", "target": "c" if i % 50 == 0 else f"{prefix}{i - 1}",
                      "relation": "supports", "key": "supports", "weight": 0.5,
                      "note": f"generated edge {i}"})
    return json.dumps({"directed": True, "multigraph": True, "graph": {}, "nodes": nodes,
                       "edges": edges})


def hub_corpus(root, sources=HUB_SOURCES):
    """A corpus whose claim ``hub`` is the target of ``sources`` edges and of perspective
    overrides: ``rm hub --force`` rewrites every source and the perspective."""
    base_corpus(root)
    write_node(root / "claims", "hub", "---\nkind: claim\ntitle: The hub\nsupports:\n"
                                       "  - target: m\n---\n")
    for i in range(sources):
        write_node(root / "evidence", f"e{i}",
                   f"---\nkind: evidence\ntitle: Observation {i}\ndate: 2025-01-01\n"
                   f"supports:\n  - target: hub\n"
                   f"    weight: 0.5\n  - target: c\n    weight: 0.25\n---\nBody {i}.\n")
    (root / "perspectives" / "view.yaml").write_text(
        "# a view\ncredences:\n  hub: 0.2\n  # the claim\n  c: 0.7\nweights:\n"
        "  - source: hub\n    target: m\n    weight: 0.9\n  - source: c\n    target: m\n"
        "    weight: 0.9\n")
    return root


def capture_change(monkeypatch, root, make_change):
    """The ``{path: text or None}`` a command would write, validated, without writing it."""
    captured = {}

    def capture(where, overlay):
        captured.update(overlay)

    monkeypatch.setattr(edit, "write_files", capture)
    make_change(root)
    monkeypatch.undo()
    assert captured
    return captured


CRASH_STATUS = 77


def crash_at(step):
    """A :func:`graph.files.store.step_hook` that ends the process at the ``step``-th step of a
    transaction, as kill -9 would (nothing of the process runs after it)."""
    def hook(count):
        if count == step:
            os._exit(CRASH_STATUS)
    return hook


def forked(function, hook=None):
    """Run ``function`` in a forked child (with ``hook`` as the transaction's step hook);
    returns its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            if hook is not None:
                store.step_hook = hook
            function()
            os._exit(0)
        except BaseException:
            os._exit(1)
    return pid


def wait(pid):
    _, status = os.waitpid(pid, 0)
    return status


def settle(root):
    """What the next command does first: finish or undo an interrupted transaction."""
    store.recover(root)


class Outcomes:
    def __init__(self, old, new):
        assert old != new
        self.old, self.new = old, new
        self.seen = {"old": 0, "new": 0}

    def check(self, root):
        state = corpus_state(root)
        outcome = "old" if state == self.old else "new" if state == self.new else None
        if outcome is None:
            extra = sorted(set(state) - set(self.old) - set(self.new))[:5]
            missing = sorted((set(self.old) & set(self.new)) - set(state))[:5]
            pytest.fail(f"torn corpus after a kill: extra {extra}, missing {missing}")
        assert not os.path.lexists(store.journal_path(root))
        self.seen[outcome] += 1
        return outcome


def kill_transactions(tmp_path, pristine, overlay, kills, outcomes, seed):
    """Kill ``kills`` forked children applying ``overlay`` to a copy of ``pristine``."""
    rng = random.Random(seed)
    root = tmp_path / "work"
    # How long an uninterrupted transaction takes here, to spread the kills over it.
    shutil.copytree(pristine, root)
    started = time.perf_counter()
    assert wait(forked(lambda: store.write_files(root, _moved(overlay, pristine, root)))) == 0
    duration = time.perf_counter() - started
    outcomes.check(root)
    for _ in range(kills):
        shutil.rmtree(root)
        shutil.copytree(pristine, root)
        pid = forked(lambda: store.write_files(root, _moved(overlay, pristine, root)))
        time.sleep(rng.uniform(0, duration * 1.1))
        os.kill(pid, signal.SIGKILL)
        wait(pid)
        settle(root)
        outcomes.check(root)
    return duration


def _moved(overlay, old_root, new_root):
    return {Path(new_root) / Path(p).relative_to(old_root): t for p, t in overlay.items()}


def test_killed_import_and_rm_force_leave_old_or_new_corpus(scratch, monkeypatch, run):
    tmp_path = scratch
    import_kills = KILLS * 3 // 5
    rm_kills = KILLS - import_kills - 4
    # A 2,000-node import.
    pristine = base_corpus(tmp_path / "import-base")
    graph = import_node_link(import_text(IMPORT_NODES))
    overlay = capture_change(monkeypatch, pristine, lambda r: edit.import_graph(r, graph))
    assert len(overlay) == IMPORT_NODES
    new = tmp_path / "import-new"
    shutil.copytree(pristine, new)
    store.write_files(new, _moved(overlay, pristine, new))
    assert run(new, "check").exit_code == 0 and run(pristine, "check").exit_code == 0
    outcomes = Outcomes(corpus_state(pristine), corpus_state(new))
    kill_transactions(tmp_path, pristine, overlay, import_kills, outcomes, seed=11)
    # rm --force of a node 400 others point at, and a perspective overrides.
    pristine = hub_corpus(tmp_path / "rm-base")
    overlay = capture_change(monkeypatch, pristine,
                             lambda r: edit.remove_node(r, "hub", force=True))
    assert len(overlay) == HUB_SOURCES + 2
    new = tmp_path / "rm-new"
    shutil.copytree(pristine, new)
    store.write_files(new, _moved(overlay, pristine, new))
    assert run(new, "check").exit_code == 0 and run(pristine, "check").exit_code == 0
    rm_outcomes = Outcomes(corpus_state(pristine), corpus_state(new))
    shutil.rmtree(tmp_path / "work")
    kill_transactions(tmp_path, pristine, overlay, rm_kills, rm_outcomes, seed=17)
    # Both outcomes happen: the kills fall before and after the commit point.
    assert outcomes.seen["old"] and outcomes.seen["new"], outcomes.seen
    assert rm_outcomes.seen["old"] and rm_outcomes.seen["new"], rm_outcomes.seen
    print(f"kills: import {outcomes.seen}, rm --force {rm_outcomes.seen}")
    assert sum(outcomes.seen.values()) == import_kills + 1
    assert sum(rm_outcomes.seen.values()) == rm_kills + 1


def takeoff(*args, env=None):
    return subprocess.Popen([sys.executable, "-c", "from cli import main; main()", *map(str, args)],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize("command", ["import", "rm"])
def test_killed_takeoff_command_leaves_old_or_new_corpus(scratch, run, command):
    """The whole command as a user runs it, killed at two random instants of its life."""
    rng = random.Random(command)
    tmp_path = scratch
    if command == "import":
        pristine = base_corpus(tmp_path / "base")
        data = tmp_path / "in.json"
        data.write_text(import_text(300))
        args = ["import", data]
    else:
        pristine = hub_corpus(tmp_path / "base", sources=100)
        args = ["rm", "hub", "--force"]
    root = tmp_path / "work"
    shutil.copytree(pristine, root)
    started = time.perf_counter()
    process = takeoff("--corpus", root, *args)
    assert process.wait(timeout=120) == 0, process.stderr.read()
    duration = time.perf_counter() - started
    outcomes = Outcomes(corpus_state(pristine), corpus_state(root))
    assert run(root, "check").exit_code == 0
    for _ in range(2):
        shutil.rmtree(root)
        shutil.copytree(pristine, root)
        process = takeoff("--corpus", root, *args)
        time.sleep(rng.uniform(0.3 * duration, duration))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        result = run(root, "check")  # the next command recovers first
        assert result.exit_code == 0, result.output
        outcomes.check(root)


def small_change(root):
    """An overlay over the base corpus: two new files (one in a new folder), an edit, a delete."""
    return {root / "claims" / "c.md": "---\nkind: claim\ntitle: A claim, edited\n---\n",
            root / "claims" / "x.md": "---\nkind: claim\ntitle: New\nsupports:\n  - target: m\n---\n",
            root / "more" / "y.md": "---\nkind: claim\ntitle: New too\n---\n",
            root / "perspectives" / "view.yaml": None}


def test_a_crash_between_any_two_steps_rolls_back_or_forward(tmp_path, run):
    pristine = base_corpus(tmp_path / "base")
    new = tmp_path / "new"
    shutil.copytree(pristine, new)
    store.write_files(new, small_change(new))
    assert run(new, "check").exit_code == 0
    outcomes = Outcomes(corpus_state(pristine), corpus_state(new))
    writes, deletes = 3, 1
    # prepare, each staged file, sync, commit, each applied file, sync, journal removal
    steps = 1 + writes + deletes + 1 + 1 + writes + deletes + 1 + 1
    commit_step = 1 + writes + deletes + 1 + 1
    root = tmp_path / "work"
    for step in range(1, steps + 1):
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(pristine, root)
        pid = forked(lambda: store.write_files(root, small_change(root)),
                     hook=crash_at(step))
        assert os.waitstatus_to_exitcode(wait(pid)) == CRASH_STATUS
        journal = store.journal_path(root)
        if step < steps:  # the journal is still there: the next command must finish it
            state = json.loads(journal.read_text())["state"]
            assert state == ("commit" if step >= commit_step else "prepare")
        result = run(root, "list")  # a read command recovers too
        assert result.exit_code == 0, result.output
        expected = "new" if step >= commit_step else "old"
        assert outcomes.check(root) == expected, step
        leftovers = [p for p in root.rglob("*.tmp")]
        assert leftovers == []
    # One more step number than there are steps: the transaction runs to its end.
    assert os.waitstatus_to_exitcode(wait(forked(
        lambda: store.write_files(root, small_change(root)), hook=crash_at(steps + 1)))) == 0


def test_a_failed_staging_step_leaves_the_corpus_byte_identical(tmp_path, monkeypatch, run):
    pristine = base_corpus(tmp_path / "base")
    before = corpus_state(pristine)
    real_stage = store._stage
    calls = []

    def full_disk(path, text):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(path))
        real_stage(path, text)

    monkeypatch.setattr(store, "_stage", full_disk)
    data = tmp_path / "in.json"
    data.write_text(import_text(5))
    result = run(pristine, "import", data)
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr and "nothing was written" in result.stderr
    assert ".tmp" not in result.stderr and "Traceback" not in result.stderr
    assert "claims/n2.md: cannot write" in result.stderr  # the file, not its temporary
    assert corpus_state(pristine) == before
    assert not list(pristine.rglob("*.tmp")) and not store.pending(pristine)


def _make_read_only(folder):
    """Make ``folder`` refuse new files, also for root (who ignores modes): the immutable
    attribute where chattr works. Returns the undo, or None if neither is possible."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        return lambda: os.chmod(folder, 0o755)
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)],
                                                 capture_output=True).returncode == 0:
        return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)
    return None


def test_an_import_into_a_read_only_folder_changes_nothing(tmp_path, run):
    pristine = base_corpus(tmp_path / "base")
    before = corpus_state(pristine)
    data = tmp_path / "in.json"
    data.write_text(import_text(5))
    undo = _make_read_only(pristine / "claims")
    if undo is None:
        pytest.skip("root here, and no chattr +i to make a folder read-only")
    try:
        result = run(pristine, "import", data)
    finally:
        undo()
    assert result.exit_code == 1 and "nothing was written" in result.stderr
    assert ".tmp" not in result.stderr and "Traceback" not in result.stderr
    assert "claims/n0.md: cannot write: " in result.stderr
    assert corpus_state(pristine) == before and not store.pending(pristine)


def test_a_planted_journal_cannot_move_files_out_of_the_corpus(tmp_path, run):
    root = base_corpus(tmp_path / "base")
    outside = tmp_path / "outside.md"
    outside.write_text("keep me")
    before = corpus_state(root)
    journal = store.journal_path(root)
    journal.parent.mkdir(parents=True)
    sha = "0" * 64
    for writes in ([["../outside.md", "claims/.c.md.0123456789abcdef.new.tmp", 7, sha]],
                   [["claims/c.md", "../.outside.md.0123456789abcdef.new.tmp", 7, sha]],
                   [["claims/c.md", "claims/evil", 7, sha]]):
        journal.write_text(json.dumps({"version": 2, "state": "commit", "writes": writes,
                                       "deletes": [], "dirs": []}))
        result = run(root, "check")
        assert result.exit_code == 1 and "not a journal this tool wrote" in result.stderr
        assert outside.read_text() == "keep me" and corpus_state(root) == before
    journal.write_text("{not json")
    assert "not a journal" in run(root, "list").stderr


def test_a_reader_never_sees_half_a_transaction(scratch):
    """Readers take no lock: they read again when a writer ran meanwhile."""
    root = base_corpus(scratch / "c")
    paths = [root / "claims" / f"r{i}.md" for i in range(150)]

    def state(title):
        return {p: f"---\nkind: claim\ntitle: {title}\n---\n" for p in paths}

    store.write_files(root, state("A"))

    def writer():
        for i in range(30):
            with store.corpus_lock(root):
                store.write_files(root, state("B" if i % 2 == 0 else "A"))

    pid = forked(writer)
    loads = 0
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        graph = Corpus.load(root).graph
        titles = {graph.nodes[f"r{i}"]["title"] for i in range(len(paths))}
        assert len(titles) == 1, f"a read saw two states: {titles}"
        loads += 1
    assert loads
