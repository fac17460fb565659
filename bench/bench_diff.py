"""Benchmark: `takeoff diff` between two revisions of a 10,000-node corpus.

Run: python bench/bench_diff.py [N]

Builds a git repository holding bench_load's generated corpus of N nodes (default 10,000;
~2 edges per node, 1,000 models), commits it, then a second commit that changes a few inputs
the way a pull request does: two credences, one edge re-weighted, one flipped, one node added
with an edge, one removed, one renamed by ``takeoff mv``. It times

1. ``graph.explaining.review.diff(root, ["HEAD~1", "HEAD"])``: both revisions read with git (one
   ``cat-file --batch`` each, files parsed once per distinct blob), the structural change, the
   ranking of the 1,000 models before and after with each change split by exact Shapley values,
   and ``check``/``lint`` before and after; best of 3, each in a fresh reader; then the same
   without ``lint`` (``--no-lint``);
2. the whole command, ``takeoff diff HEAD~1 HEAD --json`` in a new process.
"""
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bench_load import make_corpus  # noqa: E402
from timing import best_of  # noqa: E402

ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org",
       "PYTHONPATH": str(HERE.parent)}


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=ENV, capture_output=True)


def takeoff(corpus, *args):
    run = subprocess.run([sys.executable, "-c", "from cli import main; main()", "--corpus",
                          str(corpus), *args], env=ENV, capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"takeoff {' '.join(args)} failed:\n{run.stderr}")
    return run.stdout


def cpu_seconds():
    """CPU time of this process and of its finished children (git): on a machine shared with
    other jobs, wall time says more about the other jobs than about the diff."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), \
        resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn):
    """(wall seconds, CPU seconds, result), each the best of 3."""
    wall, _ = best_of(fn)
    cpu, out = best_of(fn, clock=cpu_seconds)
    return wall, cpu, out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    from graph.explaining.review import diff

    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder)
        corpus = repo / "claims"
        corpus.mkdir()
        make_corpus(corpus, n)
        (repo / ".gitignore").write_text(".takeoff/\n.takeoff.lock\n")
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "generated corpus")
        takeoff(corpus, "set", "n11", "credence", "0.95")
        takeoff(corpus, "set", "n21", "credence", "0.05")
        edges = [line for line in next(corpus.rglob("n31.md")).read_text().splitlines()
                 if "target:" in line]
        target = edges[0].split()[-1]
        takeoff(corpus, "link", "n31", target, "--supports", "--weight", "0.2")
        takeoff(corpus, "link", "n31", target, "--undermines", "--replace")
        takeoff(corpus, "add", "claim", "new-claim", "--title", "A new claim", "--credence",
                "0.8", "--supports", "n49:0.7")
        takeoff(corpus, "rm", "n43", "--force")
        takeoff(corpus, "mv", "n45", "renamed-node")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "a pull request")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        wall, cpu, data = timed(lambda: diff(corpus, ["HEAD~1", "HEAD"]))
        r = data["ranking"]
        print(f"{n} nodes, revisions HEAD~1..HEAD: {data['summary']}")
        print(f"graph.explaining.review.diff: {wall:.2f} s wall, {cpu:.2f} s CPU (best of 3): "
              f"{len(r['paths'])} paths, {len(r['inputs'])} changed inputs, {r['solves']} "
              f"solves, {r['method']}")
        wall, cpu, _ = timed(lambda: diff(corpus, ["HEAD~1", "HEAD"], with_lint=False))
        print(f"graph.explaining.review.diff without lint (--no-lint): {wall:.2f} s wall, {cpu:.2f} s CPU")
        start = time.perf_counter()
        takeoff(corpus, "diff", "HEAD~1", "HEAD", "--json")
        print(f"takeoff diff HEAD~1 HEAD --json (a new process, imports included): "
              f"{time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
