"""Benchmark: whole `takeoff` commands on generated corpora of 1k to 100k nodes.

Run: python bench/bench_scale.py [--sizes 1000,10000,50000,100000] [--write docs/performance.md]
                                 [--code DIR] [--timeout 120] [--label after]
                                 [--commands check,score]

Every figure is one whole process (``python -c "from cli import main; main()" ...``: start-up,
imports, loading and validating the files, the work, the output to a pipe), started fresh;
wall time, CPU time (user + system) and peak resident memory come from ``os.wait4`` on that
child alone. Per size, in this order:

- ``check`` cold (no load cache: ``.takeoff/`` removed first), then ``check`` warm (the cache
  the cold run wrote), then warm: ``score``, ``html -o FILE``, ``why MODEL --top 20`` (MODEL:
  the model the most nodes reach) and ``history --json`` (monthly, 2015 to the last evidence).

``--commands`` keeps only the commands whose names start with one of its words (``check``
keeps both checks). Each row gives issue 26's target where it has one, and each size's floor:
the bare interpreter with the imports a load needs (``python -c "import click, yaml,
networkx"``), which no command of that size can go below.

``--code DIR`` runs the commands of another checkout (e.g. ``git archive`` of the branch start,
for before/after figures). ``--write FILE`` replaces the table between the markers
``<!-- bench:LABEL -->`` and ``<!-- /bench:LABEL -->`` in FILE (appends it if absent).

The generated corpus (:func:`make_corpus`) is shaped like the bundled one, at scale: 45%
evidence (dated 2015-2025, one source each), 50% claims on 6 levels, 5% models; every evidence
node supports or undermines 1-3 claims of the lowest two levels, every claim 1-2 claims of a
higher level or models (and 2% of the claims one claim that supports them, closing a
cycle); a quarter of the edges undermine; targets are drawn near the source's
own position (arguments cluster by topic) with a heavy tail of popular targets (in-degree up to
a few hundred). Mean out-degree about 1.5, depth 8 (evidence, six claim levels, model),
like claims/ at scale.
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEVELS = 6
START_YEAR = 2015


def _layout(n):
    """The kind and level of each node index: evidence (level 0), claims (1..LEVELS), models."""
    n_evidence, n_models = int(n * 0.45), max(1, n // 20)
    n_claims = n - n_evidence - n_models
    out = [("evidence", 0)] * n_evidence
    out += [("claim", 1 + (LEVELS * i) // max(n_claims, 1)) for i in range(n_claims)]
    out += [("model", LEVELS + 1)] * n_models
    return out


def _pick(rng, candidates, near, count):
    """``count`` distinct targets from ``candidates`` (a list of indices), mostly near the
    relative position ``near`` in [0, 1), sometimes among the first few percent (popular)."""
    chosen = set()
    while len(chosen) < min(count, len(candidates)):
        if rng.random() < 0.1:
            j = int(rng.random() ** 3 * len(candidates))  # a popular target
        else:
            j = int(near * len(candidates) + rng.gauss(0, 30)) % len(candidates)
        chosen.add(candidates[j])
    return sorted(chosen)


def node_texts(n, seed=1):
    """``{relative path: file text}`` of the generated corpus (see the module docstring)."""
    rng = random.Random(seed)
    layout = _layout(n)
    by_level = {}
    for i, (_, level) in enumerate(layout):
        by_level.setdefault(level, []).append(i)
    texts, sources_of = {}, {}
    for i, (kind, level) in enumerate(layout):
        near = by_level[level].index(i) / len(by_level[level]) if level in (0, LEVELS + 1) \
            else (i - by_level[level][0]) / len(by_level[level])
        if kind == "evidence":
            pool = by_level[1] + by_level.get(2, [])
            targets = _pick(rng, pool, near, rng.choice((1, 1, 2, 2, 3)))
        elif kind == "claim":
            higher = [lv for lv in range(level + 1, LEVELS + 2) if lv in by_level]
            up = by_level[rng.choice(higher[:2])]
            targets = _pick(rng, up, near, rng.choice((1, 1, 2)))
            back = [j for j in sources_of.get(i, ()) if layout[j][0] == "claim"]
            if back and rng.random() < 0.02:   # an edge back to a supporter closes a cycle
                targets = sorted(set(targets) | {rng.choice(back)})
        else:
            targets = []
        lines = ["---", f"kind: {kind}", f"title: Generated {kind} number {i}",
                 f"credence: {rng.random():.3f}"]
        if kind == "evidence":
            lines += [f"date: {START_YEAR + rng.randrange(11)}-{rng.randint(1, 12):02d}-"
                      f"{rng.randint(1, 28):02d}",
                      "tags: [rl, compute]", "sources:", f"  - url: https://example.org/{i}",
                      f"    title: Source {i}", '    quote: "a short quote"']
        edges = {"supports": [], "undermines": []}
        for t in targets:
            sources_of.setdefault(t, []).append(i)
            edges["undermines" if rng.random() < 0.25 else "supports"].append(t)
        for relation, ts in edges.items():
            if ts:
                lines.append(f"{relation}:")
                for t in ts:
                    lines += [f"  - target: n{t}", f"    weight: {rng.uniform(0.1, 1):.2f}",
                              "    note: generated edge"]
        body = f"A generated annotation of node {i} with *Markdown*.\n"
        texts[f"{kind}/part{i % 16}/n{i}.md"] = "\n".join(lines) + "\n---\n" + body
    return texts


def make_corpus(folder, n, seed=1):
    """Write the generated corpus of ``n`` nodes into ``folder``."""
    for rel, text in node_texts(n, seed).items():
        path = Path(folder) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def most_reached_model(folder, code):
    """The model the most nodes reach (the hardest `why`), computed from the files."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    script = ("import sys, networkx as nx; from graph.files.corpus import Corpus; "
              "g = Corpus.load(sys.argv[1]).graph; "
              "m = [v for v, k in g.nodes(data='kind') if k == 'model']; "
              "print(max(m, key=lambda v: (len(nx.ancestors(g, v)), v)))")
    out = subprocess.run([sys.executable, "-c", script, str(folder)], env=env, check=True,
                         capture_output=True, text=True, cwd=code)
    return out.stdout.strip()


def run(argv, code, timeout):
    """(wall s, cpu s, peak MiB, ok) of one whole command in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(code), "COLUMNS": "160"}
    command = [sys.executable, "-c", "from cli import main; main()", *argv]
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=code, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, \
                usage.ru_maxrss / 1024, False
        time.sleep(0.01)
    wall = time.perf_counter() - start
    err = child.stderr.read().decode()
    ok = os.waitstatus_to_exitcode(status) == 0
    if not ok:
        print(f"  failed: {' '.join(argv)}: {err[-300:]}", file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, ok


# Issue 26's targets, CPU seconds: {(nodes, command): seconds}.
TARGETS = {(50_000, "check (warm)"): 1.0, (50_000, "score"): 0.5, (10_000, "check (cold)"): 1.5,
           (50_000, "why --top 20"): 1.0, (50_000, "history"): 1.5, (50_000, "html"): 3.0}
FLOOR = "import click, yaml, networkx"


def floor(code):
    """CPU seconds of a fresh interpreter that only imports what a load needs."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    child = subprocess.Popen([sys.executable, "-c", FLOOR], env=env, cwd=code)
    _, _, usage = os.wait4(child.pid, 0)
    return usage.ru_utime + usage.ru_stime


def measure(n, code, timeout, only=None):
    """Rows ``(command, wall, cpu, MiB, ok)`` for a corpus of ``n`` nodes (the commands
    whose names start with a word of ``only``, if given)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        make_corpus(corpus, n)
        # Files changed within the load cache's racy window (2 s) are read on every load, as
        # right after a checkout; a corpus that was not just written is the usual case.
        time.sleep(2.5)
        keep = (lambda name: not only or name.startswith(tuple(only)))
        model = most_reached_model(corpus, code) if keep("why") else None
        base = ["--corpus", str(corpus)]
        out = Path(folder) / "map.html"
        shutil.rmtree(corpus / ".takeoff", ignore_errors=True)
        commands = [("check (cold)", ["check"]), ("check (warm)", ["check"]),
                    ("score", ["score"]), ("html", ["html", "-o", str(out)]),
                    ("why --top 20", ["why", model, "--top", "20"]),
                    ("history", ["history", "--json"])]
        commands = [(name, argv) for name, argv in commands if keep(name)]
        for name, argv in commands:
            wall, cpu, mib, ok = run(base + argv, code, timeout)
            rows.append((name, wall, cpu, mib, ok))
            print(f"  {n:>7} {name:14s} {wall:7.2f} s wall {cpu:7.2f} s cpu {mib:7.0f} MiB"
                  f"{'' if ok else '  (timed out or failed)'}", flush=True)
    return rows


def table(results, label, floors):
    load = os.getloadavg()
    lines = [f"<!-- bench:{label} -->",
             f"{label}: `python bench/bench_scale.py` on {os.cpu_count()} shared cores, load "
             f"average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).", "",
             f"Floor: `python -c \"{FLOOR}\"` took {floors:.2f} CPU s.", "",
             "| nodes | command | wall s | CPU s | target CPU s | peak MiB |",
             "|---:|---|---:|---:|---:|---:|"]
    for n, rows in results:
        for name, wall, cpu, mib, ok in rows:
            mark = "" if ok else " (stopped: over the time limit or failed)"
            target = TARGETS.get((n, name))
            lines.append(f"| {n:,} | {name} | {wall:.2f}{mark} | {cpu:.2f} | "
                         f"{'' if target is None else f'< {target:g}'} | {mib:.0f} |")
    lines.append(f"<!-- /bench:{label} -->")
    return "\n".join(lines)


def write_table(path, text, label):
    path = Path(path)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(rf"<!-- bench:{re.escape(label)} -->.*?<!-- /bench:{re.escape(label)} -->",
                         re.S)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old + "\n" + text + "\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--label", default="after")
    parser.add_argument("--write", type=Path)
    parser.add_argument("--commands", help="comma-separated command names to keep (e.g. check,score)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    only = args.commands.split(",") if args.commands else None
    results = [(n, measure(n, args.code.resolve(), args.timeout, only))
               for n in (int(s) for s in args.sizes.split(","))]
    floors = min(floor(args.code.resolve()) for _ in range(3))
    text = table(results, args.label, floors)
    print(text)
    if args.write:
        write_table(args.write, text, args.label)


if __name__ == "__main__":
    main()
