"""Benchmark: one Tab press, `takeoff show <Tab>`, through click's completion protocol.

Run: python bench/bench_completion.py [--runs 20] [--corpus claims]

Each run is a fresh process, as the shell starts one per Tab: the interpreter's start, the
import of cli.py and the completion itself. Reported: the least and the median wall and CPU
(user + system) time over --runs, beside the same for `python -c pass` (the interpreter alone),
so that what the completion adds can be told from what the machine costs. Compiled modules are
kept (an installed package has them) in a temporary folder, never in the repository.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command, env, cwd, runs):
    """(wall seconds, CPU seconds) of each run of `command`."""
    out = []
    for _ in range(runs):
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
        out.append((wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=ROOT / "claims")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": cache,
               "_TAKEOFF_COMPLETE": "bash_complete", "COMP_WORDS": "takeoff show ", "COMP_CWORD": "2"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("TAKEOFF_CORPUS", None)
        complete = [sys.executable, "-c", "import cli; cli.cli(prog_name='takeoff')"]
        timed(complete, env, args.corpus, 1)  # compiles the modules once
        rows = {"python -c pass": timed([sys.executable, "-c", "pass"], env, args.corpus, args.runs),
                "takeoff show <Tab>": timed(complete, env, args.corpus, args.runs)}
    print(f"{'':20} {'wall min':>9} {'wall median':>12} {'CPU min':>9} {'CPU median':>11}   (ms)")
    for name, runs in rows.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{name:20} {min(walls) * 1e3:9.0f} {statistics.median(walls) * 1e3:12.0f} "
              f"{min(cpus) * 1e3:9.0f} {statistics.median(cpus) * 1e3:11.0f}")


if __name__ == "__main__":
    main()
