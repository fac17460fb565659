"""Reviewing changes: `takeoff diff` and `takeoff log` on scratch git repositories, and what
`takeoff check` says after a merge that broke the corpus."""
import json
import os
import subprocess

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import write_node
from graph.files.corpus import Corpus
from graph.explaining.perspective import shapley_reference
from graph.explaining.review import EXACT_LIMIT, ChangeGame, attribute, diff

GIT_ENV = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.org",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(repo, *args):
    run = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                         env={**os.environ, **GIT_ENV})
    assert run.returncode == 0, run.stderr
    return run.stdout


def commit(repo, message):
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def node(kind, title, credence=None, date=None, edges=(), extra=""):
    """The text of a node file; ``edges`` are ``(relation, target, weight, note)``."""
    lines = ["---", f"kind: {kind}", f"title: {title}"]
    if credence is not None:
        lines.append(f"credence: {credence}")
    if date:
        lines.append(f"date: {date}")
    for relation in ("supports", "undermines"):
        mine = [e for e in edges if e[0] == relation]
        if mine:
            lines.append(f"{relation}:")
            for _, target, weight, note in mine:
                lines += [f"  - target: {target}", f"    weight: {weight}", f"    note: {note}"]
    return "\n".join(lines) + "\n" + extra + "---\nSome words about it.\n"


@pytest.fixture
def repo(tmp_path):
    """A repository whose corpus ``claims/`` has two models, three claims and two evidence."""
    root = tmp_path / "repo"
    corpus = root / "claims"
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    files = {
        "models/fast": node("model", "Fast takeoff"),
        "models/slow": node("model", "Slow takeoff"),
        "claims/loop": node("claim", "The loop closes", 0.6,
                            edges=[("supports", "fast", 0.8, "if it closes"),
                                   ("undermines", "slow", 0.5, "then not slow")]),
        "claims/cap": node("claim", "Compute caps it", 0.5,
                           edges=[("supports", "slow", 0.7, "caps")]),
        "claims/gone": node("claim", "A claim to remove", 0.4,
                            edges=[("supports", "fast", 0.3, "weak")]),
        "evidence/obs": node("evidence", "An observation", 0.9, "2025-03-01",
                             edges=[("supports", "loop", 0.6, "seen")],
                             extra="sources:\n  - url: https://example.org/a\n"
                                   "    date: 2025-03-01\n"),
        "evidence/old": node("evidence", "An older observation", 0.7, "2024-05",
                             edges=[("supports", "cap", 0.9, "measured")]),
    }
    for name, text in files.items():
        path = corpus / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (corpus / "perspectives").mkdir()
    (corpus / "perspectives" / "doubter.yaml").write_text(
        "description: doubts the loop\ncredences:\n  loop: 0.2\n")
    (corpus / "takeoff.toml").write_text('title = "scratch"\n')
    (root / ".gitignore").write_text(".takeoff/\n.takeoff.lock\n")
    commit(root, "base")
    return root


def state(repo):
    """What diff and log must leave alone: the work tree, the index, every ref. (Reading the
    work tree keeps the load cache up to date, in .takeoff/, which git ignores.)"""
    return (git(repo, "status", "--porcelain", "--untracked-files=all"),
            git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
            git(repo, "rev-parse", "HEAD"),
            (repo / ".git" / "index").read_bytes())


def takeoff(run, repo, *args):
    result = run(repo / "claims", *args)
    assert "Traceback" not in result.output, result.output
    return result


def diff_json(run, repo, *args):
    result = takeoff(run, repo, "diff", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_each_kind_of_structural_change(run, repo):
    """Added, removed, renamed (by `takeoff mv`), fields old -> new, sources, edges added,
    removed, re-weighted, flipped, notes, perspectives: each is reported."""
    c = repo / "claims"
    for args in (["mv", "cap", "compute-cap"], ["rm", "gone", "--force"],
                 ["set", "loop", "credence", "0.75"], ["set", "loop", "title", "It closes"],
                 ["set", "old", "date", "2024-06-15"], ["set", "obs", "tags", "rl"],
                 ["link", "loop", "fast", "--supports", "--weight", "0.4"],
                 ["link", "loop", "slow", "--supports", "--weight", "0.5", "--replace"],
                 ["link", "old", "compute-cap", "--supports", "--note", "measured twice"],
                 ["unlink", "obs", "loop"],
                 ["add", "claim", "fresh", "--title", "A new claim", "--supports", "slow:0.5"],
                 ["source", "add", "obs", "https://example.org/b"],
                 ["source", "add", "obs", "https://example.org/a", "--date", "2025-04-01"],
                 ["perspective", "set", "doubter", "loop", "credence", "0.3"],
                 ["perspective", "new", "believer"]):
        result = takeoff(run, repo, *args)
        assert result.exit_code == 0, (args, result.output)
    commit(repo, "many changes")
    s = diff_json(run, repo, "HEAD~1", "HEAD")["structure"]
    assert s["renamed"] == [{"old": "cap", "new": "compute-cap", "kind": "claim"}]
    assert [x["id"] for x in s["added"]] == ["fresh"]
    assert [x["id"] for x in s["removed"]] == ["gone"]
    fields = {(x["id"], x["field"]): (x["old"], x["new"]) for x in s["fields"]}
    assert fields[("loop", "credence")] == ("0.6", "0.75")
    assert fields[("loop", "title")] == ("The loop closes", "It closes")
    assert fields[("old", "date")] == ("2024-05", "2024-06-15")
    assert fields[("obs", "tags")] == ("[]", "[rl]")
    edges = {(e["source"], e["target"], e["change"]): (e["old"], e["new"]) for e in s["edges"]}
    assert edges[("loop", "fast", "reweighted")] == ("supports 0.8", "supports 0.4")
    assert edges[("loop", "slow", "flipped")] == ("undermines 0.5", "supports 0.5")
    assert edges[("old", "compute-cap", "note")] == ("measured", "measured twice")
    assert edges[("obs", "loop", "removed")] == ("supports 0.6", "-")
    assert edges[("fresh", "slow", "added")] == ("-", "supports 0.5")
    assert edges[("gone", "fast", "removed")] == ("supports 0.3", "-")
    assert ("old", "cap", "removed") not in edges   # the rename is not an edge change
    sources = {(x["url"], x["change"]): (x["old"], x["new"]) for x in s["sources"]}
    assert sources[("https://example.org/b", "added")][0] == "-"
    assert sources[("https://example.org/a", "changed")] == ("date 2025-03-01", "date 2025-04-01")
    perspectives = {(x["name"], x["change"], x["override"]): (x["old"], x["new"])
                    for x in s["perspectives"]}
    assert perspectives[("doubter", "override", "credence loop")] == ("0.2", "0.3")
    assert ("believer", "added", "") in perspectives


def test_shapley_parts_add_up_and_match_the_scores(run, repo):
    """Each path's parts add up to its change within 1e-9, and before/after are what
    `takeoff score` gives on each revision."""
    c = repo / "claims"
    before = Corpus.load(c).require_valid().score("qe").strengths
    for args in (["set", "loop", "credence", "0.9"], ["link", "cap", "slow", "--supports", "--weight", "0.2"],
                 ["rm", "gone", "--force"],
                 ["add", "evidence", "new-obs", "--title", "New", "--date", "2025-06-01",
                  "--supports", "cap:0.7"]):
        assert takeoff(run, repo, *args).exit_code == 0
    after = Corpus.load(c).require_valid().score("qe").strengths
    data = diff_json(run, repo, "HEAD")   # the work tree against HEAD
    paths = {p["id"]: p for p in data["ranking"]["paths"]}
    assert set(paths) == {"fast", "slow"}
    for m, p in paths.items():
        assert abs(sum(x["contribution"] for x in p["parts"]) - p["change"]) <= 1e-9
        assert abs(p["before"] - before[m]) <= 1e-7 and abs(p["after"] - after[m]) <= 1e-7
    inputs = {x["input"] for x in data["ranking"]["inputs"]}
    assert inputs == {"credence loop 0.6 -> 0.9", "edge cap -> slow supports 0.7 -> supports 0.2",
                      "removed gone", "added new-obs"}
    assert data["ranking"]["method"] == "exact Shapley values"
    assert data["ranking"]["solves"] == 2 ** 4
    # --as-of leaves new-obs out on both sides: it is no longer a change.
    dated = diff_json(run, repo, "HEAD", "--as-of", "2025-05-01")
    assert "added new-obs" not in {x["input"] for x in dated["ranking"]["inputs"]}


def random_graphs(draw):
    """Two graphs over the same small set of ids differing in a few inputs."""
    ids = [f"n{i}" for i in range(draw(st.integers(3, 6)))]
    old = nx.MultiDiGraph()
    for i, n in enumerate(ids):
        old.add_node(n, kind="model" if i < 2 else "claim",
                     credence=draw(st.floats(0, 1)))
    pairs = [(a, b) for a in ids for b in ids if a != b and ids.index(a) >= 2]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=8, unique=True))
    for a, b in chosen:
        rel = draw(st.sampled_from(["supports", "undermines"]))
        old.add_edge(a, b, key=rel, relation=rel, weight=draw(st.floats(0.05, 1)))
    new = old.copy()
    for _ in range(draw(st.integers(1, 5))):
        action = draw(st.sampled_from(["credence", "weight", "flip", "add-edge", "remove-edge",
                                       "add-node", "remove-node"]))
        edges = list(new.edges(keys=True))
        claims = [n for n in new if new.nodes[n]["kind"] == "claim"]
        if action == "credence":
            new.nodes[draw(st.sampled_from(list(new)))]["credence"] = draw(st.floats(0, 1))
        elif action in ("weight", "flip", "remove-edge") and edges:
            a, b, k = draw(st.sampled_from(edges))
            w = new[a][b][k]["weight"]
            new.remove_edge(a, b, k)
            if action != "remove-edge":
                rel = k if action == "weight" else {"supports": "undermines"}.get(k, "supports")
                w = draw(st.floats(0.05, 1)) if action == "weight" else w
                new.add_edge(a, b, key=rel, relation=rel, weight=w)
        elif action == "add-edge":
            free = [p for p in pairs if p[0] in new and p[1] in new and not new.has_edge(*p)]
            if free:
                a, b = draw(st.sampled_from(free))
                new.add_edge(a, b, key="supports", relation="supports", weight=0.5)
        elif action == "add-node":
            # a fresh id: after a removal, x{len(new)} may name a node added before, and a
            # second edge of it to the same model would both support and undermine it (invalid)
            n = next(f"x{i}" for i in range(len(new), 2 * len(new) + 2) if f"x{i}" not in new)
            new.add_node(n, kind="claim", credence=draw(st.floats(0, 1)))
            new.add_edge(n, draw(st.sampled_from(ids[:2])), key="supports", relation="supports",
                         weight=draw(st.floats(0.05, 1)))
        elif action == "remove-node" and claims:
            new.remove_node(draw(st.sampled_from(claims)))
    return old, new


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(["qe", "dfquad", "eb"]))
def test_shapley_matches_brute_force(data, semantics):
    """On small random changes, the parts are the textbook Shapley values (every order of the
    changes), add up to the change, and the ends of the game are the two graphs' scores."""
    from graph.solving.propagation import score_graph

    old, new = random_graphs(data.draw)
    game = ChangeGame(old, new, semantics)
    groups, values, note = attribute(game)
    assert note is None and len(groups) == len(game.inputs) <= EXACT_LIMIT
    if not groups:
        return
    reference = shapley_reference(lambda c: game.value([i for g in c for i in g]), groups)
    change = game.value(game.inputs) - game.value(())
    for g in groups:
        assert max(abs(values[g] - reference[g])) <= 1e-9
    assert max(abs(sum(values.values()) - change)) <= 1e-9
    for graph, applied in ((old, ()), (new, game.inputs)):
        direct = score_graph(graph, semantics).strengths
        for m, value in zip(game.models, game.value(applied)):
            assert abs(direct[m] - value) <= 1e-7


def test_many_changes_are_grouped_and_still_add_up(run, repo):
    """Above the exact limit the inputs are grouped by node (and pooled), and said so."""
    c = repo / "claims"
    for k in range(6):
        assert takeoff(run, repo, "add", "claim", f"extra-{k}", "--title", f"Extra {k}",
                       "--credence", str(0.1 + k / 10), "--supports", "fast:0.3",
                       "--supports", "slow:0.2").exit_code == 0
    data = diff(c, ["HEAD"], limit=3)
    r = data["ranking"]
    assert "grouped by the node" in r["grouping"] and "pooled" in r["grouping"]
    assert len(r["inputs"]) == 3
    for p in r["paths"]:
        assert abs(sum(x["contribution"] for x in p["parts"]) - p["change"]) <= 1e-9
    assert sum(len(x["members"]) for x in r["inputs"]) == 6


def test_mv_rename_is_followed_by_diff_and_log(run, repo):
    assert takeoff(run, repo, "set", "loop", "credence", "0.7").exit_code == 0
    commit(repo, "loop more likely")
    assert takeoff(run, repo, "mv", "loop", "loop-closes").exit_code == 0
    commit(repo, "rename loop")
    assert takeoff(run, repo, "set", "loop-closes", "credence", "0.8").exit_code == 0
    commit(repo, "loop even more likely")
    data = diff_json(run, repo, "HEAD~3..HEAD")
    s = data["structure"]
    assert s["renamed"] == [{"old": "loop", "new": "loop-closes", "kind": "claim"}]
    assert not s["added"] and not s["removed"]
    assert {x["input"] for x in data["ranking"]["inputs"]} == {"credence loop-closes 0.6 -> 0.8"}
    result = takeoff(run, repo, "log", "loop-closes", "--json")
    assert result.exit_code == 0, result.output
    log = json.loads(result.output)
    assert [(c["subject"], c["id"]) for c in log["commits"]] == [
        ("loop even more likely", "loop-closes"), ("rename loop", "loop-closes"),
        ("loop more likely", "loop"), ("base", "loop")]
    assert log["series"]["strengths"]["loop-closes"][0] is not None
    models = json.loads(takeoff(run, repo, "log", "--json").output)
    assert [c["subject"] for c in models["commits"]][:3] == [
        "loop even more likely", "rename loop", "loop more likely"]
    rename = models["commits"][1]
    assert all(p["change"] == 0.0 for p in rename["paths"])
    moved = models["commits"][0]["paths"]
    assert {p["id"] for p in moved if p["change"]} == {"fast", "slow"}


def test_rename_by_content_similarity(run, repo):
    """A file renamed by hand (not by `takeoff mv`) with a small edit is still one node."""
    c = repo / "claims"
    text = (c / "evidence" / "obs.md").read_text().replace("An observation", "An observation!")
    (c / "evidence" / "obs.md").unlink()
    (c / "evidence" / "observation.md").write_text(text)
    s = diff_json(run, repo, "HEAD")["structure"]
    assert s["renamed"] == [{"old": "obs", "new": "observation", "kind": "evidence"}]
    assert {(x["id"], x["field"]) for x in s["fields"]} >= {("observation", "title")}


def test_diff_and_log_change_nothing(run, repo, tmp_path):
    """The work tree, the index and every branch are byte for byte the same afterwards."""
    c = repo / "claims"
    assert takeoff(run, repo, "set", "loop", "credence", "0.7").exit_code == 0
    commit(repo, "second")
    git(repo, "branch", "other", "HEAD~1")
    assert takeoff(run, repo, "set", "cap", "credence", "0.1").exit_code == 0
    git(repo, "add", "claims/claims/cap.md")          # staged
    assert takeoff(run, repo, "set", "old", "credence", "0.2").exit_code == 0   # unstaged
    (c / "claims" / "untracked.md").write_text(node("claim", "Loose"))
    before = state(repo)
    for args in (["diff"], ["diff", "HEAD~1"], ["diff", "other", "main"], ["diff", "other..main"],
                 ["diff", "HEAD~1", "--format", "markdown"], ["log"], ["log", "loop"],
                 ["log", "--plot", str(tmp_path / "log.png")]):
        result = takeoff(run, repo, *args)
        assert result.exit_code == 0, (args, result.output)
        assert state(repo) == before, args
    assert (tmp_path / "log.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_revisions_are_refused(run, repo, tmp_path):
    for args, message in ((["no-such-branch"], "unknown revision 'no-such-branch'"),
                          (["HEAD", "--", "x"], None),
                          (["a", "b", "c"], "at most two revisions"),
                          (["HEAD...HEAD"], "A..B")):
        result = takeoff(run, repo, "diff", *args)
        assert result.exit_code != 0
        if message:
            assert message in result.output
    result = takeoff(run, repo, "diff", "--", "--output=/tmp/x")
    assert result.exit_code == 1 and "may not start with '-'" in result.output
    result = takeoff(run, repo, "log", "nope")
    assert result.exit_code == 1 and "unknown id 'nope'" in result.output
    outside = tmp_path / "outside"
    outside.mkdir()
    write_node(outside, "m", "---\nkind: model\ntitle: M\n---\n")
    result = run(outside, "diff", "HEAD")
    assert result.exit_code == 1 and "not inside a git repository" in result.output
    assert "Traceback" not in result.output


def test_revision_files_are_bounded_and_checked(run, repo):
    """A blob over 10 MB is refused unread, invalid YAML in a revision is reported as a
    finding with its file and line; the same loader as on disk."""
    c = repo / "claims"
    (c / "claims" / "huge.md").write_bytes(b"---\nkind: claim\ntitle: H\n---\n"
                                           + b"x" * (10 * 1024 * 1024 + 1))
    (c / "claims" / "broken.md").write_text("---\nkind: claim\ntitle: [unclosed\n---\n")
    commit(repo, "bad files")
    data = diff_json(run, repo, "HEAD~1", "HEAD")
    introduced = "\n".join(data["findings"]["introduced"])
    assert "claims/claims/huge.md: 10485790 bytes in" in introduced
    assert "over the 10 MB limit of a corpus file; refused" in introduced
    assert "claims/claims/broken.md:3: bad YAML" in introduced
    assert data["findings"]["errors"] == {"before": 0, "after": 2}


def test_two_folders_and_markdown(run, repo, tmp_path):
    import shutil

    c = repo / "claims"
    other = tmp_path / "other"
    shutil.copytree(c, other)
    write_node(other / "claims", "loop", node("claim", "The loop closes", 0.95,
                                              edges=[("supports", "fast", 0.8, "x")]))
    result = takeoff(run, repo, "diff", str(c), str(other), "--format", "markdown")
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("### takeoff diff: ")
    assert "| fast |" in text and "<details>" in text and "</details>" in text
    assert text.index("| path |") < text.index("<details>")   # the summary comes first
    assert "edge loop -> slow removed (undermines 0.5)" in text
    plain = takeoff(run, repo, "diff", str(c), str(other))
    assert plain.exit_code == 0 and "credence loop 0.6 -> 0.95" in plain.output


def merge(repo, branch, *options):
    return subprocess.run(["git", "-C", str(repo), "merge", "-q", "--no-edit", *options, branch],
                          capture_output=True, text=True, env={**os.environ, **GIT_ENV})


def test_check_names_what_a_merge_broke(run, repo):
    """Branch a renames `cap` and removes `gone`; branch b adds an edge to each and a node
    `twin` that a adds too, in another folder: the merge is clean for git, and `takeoff check`
    names each breakage with its file, line, cause and fix."""
    git(repo, "checkout", "-q", "-b", "a")
    assert takeoff(run, repo, "mv", "cap", "compute-cap").exit_code == 0
    assert takeoff(run, repo, "rm", "gone", "--force").exit_code == 0
    assert takeoff(run, repo, "add", "claim", "twin", "--title", "Twin A").exit_code == 0
    commit(repo, "rename cap, remove gone")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-q", "-b", "b")
    assert takeoff(run, repo, "add", "evidence", "new-obs", "--title", "New", "--date",
                   "2025-07-01", "--supports", "cap:0.5", "--undermines", "gone:0.4").exit_code == 0
    write_node(repo / "claims" / "evidence", "twin", node("claim", "Twin B"))
    commit(repo, "new evidence")
    assert merge(repo, "a").returncode == 0
    result = takeoff(run, repo, "check")
    assert result.exit_code == 1
    out = result.output
    assert ("claims/evidence/new-obs.md:6: supports unknown id 'cap'" in out
            and "renamed 'cap' to 'compute-cap'; write 'compute-cap' here instead" in out), out
    assert ("claims/evidence/new-obs.md:9: undermines unknown id 'gone'" in out
            and "removed 'gone'; delete this reference, or restore the node" in out), out
    assert "duplicate id 'twin'" in out and "the merge brought 'twin' twice" in out, out
    assert "a (" in out   # the branch is named


def test_check_names_a_perspective_the_merge_broke(run, repo):
    git(repo, "checkout", "-q", "-b", "a")
    assert takeoff(run, repo, "rm", "gone", "--force").exit_code == 0
    commit(repo, "remove gone")
    git(repo, "checkout", "-q", "main")
    assert takeoff(run, repo, "perspective", "set", "doubter", "gone", "credence",
                   "0.9").exit_code == 0
    commit(repo, "doubter on gone")
    assert merge(repo, "a", "--no-commit").returncode == 0   # a merge in progress (MERGE_HEAD)
    for state in ("in progress", "committed"):
        if state == "committed":
            git(repo, "commit", "-q", "--no-edit")
        result = takeoff(run, repo, "check")
        assert result.exit_code == 1
        assert "claims/perspectives/doubter.yaml:4: credences: unknown id 'gone'" in result.output
        assert "the merge broke it: a (" in result.output and "removed 'gone'" in result.output
    git(repo, "reset", "-q", "--hard", "HEAD~1")   # no merge at HEAD: no merge hint
    assert "merge" not in takeoff(run, repo, "check").output


def test_the_pull_request_workflow_recipe(repo, tmp_path):
    """The GitHub Actions workflow of docs/review.md: its `takeoff diff` step, run as written
    (bash, its env with the pull request's two commits) on a scratch repository, writes the
    comment; the step that posts it needs GitHub and is only checked to post that file."""
    import re
    import sys

    import yaml

    from helpers import REPO

    page = (REPO / "docs" / "review.md").read_text()
    workflow = yaml.safe_load(re.search(r"```yaml\n(name: takeoff diff\n.*?)```", page, re.S)[1])
    steps = workflow["jobs"]["diff"]["steps"]
    assert workflow[True]["pull_request"]["paths"] == ["claims/**"]  # YAML 1.1 reads `on` as True
    assert workflow["permissions"]["pull-requests"] == "write"
    assert any(s.get("with", {}).get("fetch-depth") == 0 for s in steps)
    step = next(s for s in steps if "takeoff diff" in s.get("run", ""))
    post = next(s for s in steps if "gh pr comment" in s.get("run", ""))
    assert "--body-file comment.md" in post["run"]
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "claims" / "claims" / "loop.md").write_text(
        node("claim", "The loop closes", 0.9, edges=[("supports", "fast", 0.8, "if it closes")]))
    head = commit(repo, "a pull request")
    git(repo, "checkout", "-q", base)   # as actions/checkout leaves it: not on the head commit
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "takeoff").write_text(f'#!/bin/sh\nexec "{sys.executable}" -c '
                                     f'"from cli import main; main()" "$@"\n')
    (bin_dir / "takeoff").chmod(0o755)
    env = {**os.environ, **GIT_ENV, "BASE": base, "HEAD": head,
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    assert step["env"] == {"BASE": "${{ github.event.pull_request.base.sha }}",
                           "HEAD": "${{ github.event.pull_request.head.sha }}"}
    run = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    comment = (repo / "comment.md").read_text()
    assert comment.startswith("### takeoff diff: ")
    assert "| fast | 0." in comment and "credence loop 0.6 -> 0.9" in comment
    assert (tmp_path / "summary.md").read_text() == comment


def test_perspective_and_as_of_apply_to_both_sides(run, repo):
    assert takeoff(run, repo, "set", "loop", "credence", "0.9").exit_code == 0
    # Under the doubter's perspective the loop's credence is overridden on both sides: the
    # file's change moves nothing there.
    data = diff_json(run, repo, "HEAD", "--perspective", "doubter")
    assert data["ranking"]["perspective"] == "doubter"
    assert data["ranking"]["inputs"] == []
    assert all(p["change"] == 0.0 for p in data["ranking"]["paths"])
    assert diff_json(run, repo, "HEAD")["ranking"]["inputs"] != []
    result = takeoff(run, repo, "diff", "HEAD", "--perspective", "nobody")
    assert result.exit_code == 1
    assert "neither side has a perspective 'nobody' (known: base, doubter)" in result.output


def test_no_lint_compares_check_only(run, repo):
    write_node(repo / "claims" / "claims", "lonely", node("claim", "Alone"))
    with_lint = diff_json(run, repo, "HEAD")["findings"]
    assert "[isolated] lonely: no edges in or out" in with_lint["introduced"]
    assert diff_json(run, repo, "HEAD", "--no-lint")["findings"]["introduced"] == []


def test_a_date_moved_across_as_of_is_named_so(run, repo):
    assert takeoff(run, repo, "set", "obs", "date", "2025-09-01").exit_code == 0
    data = diff_json(run, repo, "HEAD", "--as-of", "2025-06-30")
    inputs = [x["input"] for x in data["ranking"]["inputs"]]
    assert inputs == ["date of obs (no longer on or before --as-of)"]
    for p in data["ranking"]["paths"]:
        assert abs(sum(x["contribution"] for x in p["parts"]) - p["change"]) <= 1e-9


def test_only_files_inside_the_corpus_folder_are_read(run, repo):
    """Files of the repository outside the corpus folder (even one whose name starts like
    it) are not part of a revision."""
    write_node(repo / "claimsx", "outside", node("claim", "Outside"))
    write_node(repo / "other", "elsewhere", node("claim", "Elsewhere"))
    write_node(repo / "claims" / "claims", "inside", node("claim", "Inside"))
    commit(repo, "three files")
    s = diff_json(run, repo, "HEAD~1", "HEAD")["structure"]
    assert [x["id"] for x in s["added"]] == ["inside"]


def test_log_range_count_and_plot_checks(run, repo, tmp_path):
    for value in ("0.7", "0.8", "0.9"):
        assert takeoff(run, repo, "set", "loop", "credence", value).exit_code == 0
        commit(repo, f"loop {value}")
    subjects = lambda *args: [c["subject"] for c in json.loads(  # noqa: E731
        takeoff(run, repo, "log", "--json", *args).output)["commits"]]
    assert subjects("--rev", "HEAD~2..HEAD") == ["loop 0.9", "loop 0.8"]
    assert subjects("-n", "1") == ["loop 0.9"]
    assert subjects("--rev", "HEAD~1") == ["loop 0.8", "loop 0.7", "base"]
    result = takeoff(run, repo, "log", "--plot", str(tmp_path / "x.pdf"))
    assert result.exit_code == 2 and "must end in .png or .svg" in result.output
    result = takeoff(run, repo, "log", "--rev", "-n1")
    assert result.exit_code == 1 and "may not start with '-'" in result.output
