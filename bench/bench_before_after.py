"""Benchmark: whole `takeoff` commands of two checkouts, interleaved, best of N.

Run: python bench/bench_before_after.py --before DIR [--after DIR] [--sizes 10000,50000]
                                        [--runs 3]

On a shared machine the load moves by a factor of two within minutes, so figures of two
checkouts taken one after the other are not comparable. This runs each command of the "before"
checkout (e.g. ``git archive START | tar -x -C DIR``) and of the "after" one (default: this
one) back to back, ``--runs`` times, and keeps the least CPU time (user + system of the
process, from ``os.wait4``) of each. Each checkout gets its own copy of the generated corpus
(bench_scale.make_corpus), so that neither reads the other's load cache. Per size: ``check``
with no cache (cold), ``check`` and ``score`` with the cache warm.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import ROOT, make_corpus  # noqa: E402

COMMANDS = [("check (cold)", ["check"], True), ("check (warm)", ["check"], False),
            ("score", ["score"], False)]


def cpu(code, argv):
    """CPU seconds of one whole command of the checkout ``code``."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(code), "COLUMNS": "160"}
    child = subprocess.Popen([sys.executable, "-c", "from cli import main; main()", *argv],
                             env=env, cwd=code, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {code}: {' '.join(argv)}")
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in (int(s) for s in args.sizes.split(",")):
            corpora = {side: Path(folder) / f"{side}-{n}" for side in sides}
            make_corpus(corpora["before"], n)
            shutil.copytree(corpora["before"], corpora["after"])
            time.sleep(2.5)   # older than the load cache's racy window
            best = {}
            for _ in range(args.runs):
                for name, argv, cold in COMMANDS:
                    for side, code in sides.items():
                        if cold:
                            shutil.rmtree(corpora[side] / ".takeoff", ignore_errors=True)
                        elif not (corpora[side] / ".takeoff").exists():
                            cpu(code, ["--corpus", str(corpora[side]), "check"])
                        seconds = cpu(code, ["--corpus", str(corpora[side]), *argv])
                        best[name, side] = min(best.get((name, side), float("inf")), seconds)
            for name, _, _ in COMMANDS:
                rows.append((n, name, best[name, "before"], best[name, "after"]))
                print(f"{n:>7} {name:14s} before {best[name, 'before']:6.2f} s  "
                      f"after {best[name, 'after']:6.2f} s  (load {os.getloadavg()[0]:.1f})",
                      flush=True)
    print("\n| nodes | command | before CPU s | after CPU s |\n|---:|---|---:|---:|")
    for n, name, before, after in rows:
        print(f"| {n:,} | {name} | {before:.2f} | {after:.2f} |")


if __name__ == "__main__":
    main()
