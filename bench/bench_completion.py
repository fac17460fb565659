"""Benchmark: one Tab press, `takeoff show <Tab>`, through click's completion protocol.

Run: python bench/bench_completion.py [--runs 20] [--corpus claims]

Each run is a fresh process, as the shell starts one per Tab: the interpreter's start, the
import of cli.py and the completion itself. Reported: the least and the median wall and CPU
(user + system) time over --runs, beside the same for `python -c pass` (the interpreter alone)
and `python -c "import click"`, so that what the completion adds can be told from what the
machine and click cost. The rows marked -S start the interpreter without the `site` module
(site-packages put on sys.path by hand, so no .pth file runs: an editable install's finder or a
certificate bundle's hook cost every Python process of some machines tens of ms): what is left
is the tool's own share. The commands run in turn, one run of each per round, so that a change
of the machine's load during the benchmark weighs on all alike. Compiled modules are kept (an
installed package has them) in a temporary folder, never in the repository.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command, env, cwd):
    """(wall seconds, CPU seconds) of one run of `command`."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def commands():
    """The rows: name -> command."""
    complete = "import cli; cli.cli(prog_name='takeoff')"
    by_hand = f"import sys; sys.path[:0] = [{str(ROOT)!r}, {sysconfig.get_paths()['purelib']!r}]; "
    python = sys.executable
    return {"python -c pass": [python, "-c", "pass"],
            "python -c 'import click'": [python, "-c", "import click"],
            "takeoff show <Tab>": [python, "-c", complete],
            "-S: python -c pass": [python, "-S", "-c", "pass"],
            "-S: import click": [python, "-S", "-c", by_hand + "import click"],
            "-S: takeoff show <Tab>": [python, "-S", "-c", by_hand + complete]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=ROOT / "claims")
    args = parser.parse_args()
    rows = commands()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": cache,
               "_TAKEOFF_COMPLETE": "bash_complete", "COMP_WORDS": "takeoff show ", "COMP_CWORD": "2"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("TAKEOFF_CORPUS", None)
        for command in rows.values():  # compiles the modules once
            timed(command, env, args.corpus)
        times = {name: [] for name in rows}
        for _ in range(args.runs):
            for name, command in rows.items():
                times[name].append(timed(command, env, args.corpus))
    print(f"{'':24} {'wall min':>9} {'wall median':>12} {'CPU min':>9} {'CPU median':>11}   (ms)")
    for name, runs in times.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{name:24} {min(walls) * 1e3:9.0f} {statistics.median(walls) * 1e3:12.0f} "
              f"{min(cpus) * 1e3:9.0f} {statistics.median(cpus) * 1e3:11.0f}")


if __name__ == "__main__":
    main()
