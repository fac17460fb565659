"""Benchmark: whole `takeoff` commands on generated corpora of 1k to 100k nodes, each beside
issue 26's target and its floors.

Run: python bench/bench_scale.py [--sizes 1000,10000,50000,100000] [--write docs/performance.md]
                                 [--code DIR] [--timeout 120] [--label after]
                                 [--commands check,score]

Every figure is one whole process (``python -c "from cli import main; main()" ...``: start-up,
imports, loading and validating the files, the work, the output to a pipe), started fresh;
wall time, CPU time (user + system) and peak resident memory come from ``os.wait4`` on that
child alone. Per size, in this order:

- ``check`` cold (no load cache: ``.takeoff/`` removed first), then ``check`` warm (the cache
  the cold run wrote), then warm: ``score``, ``html -o FILE``, ``why MODEL --top 20`` (MODEL:
  the model the most nodes reach), ``history --json`` (monthly, 2015 to the last evidence) and
  ``robustness --samples 1000 --spread 0.1 --weight-spread 0.1`` (as bench_robustness.py).

``--commands`` keeps only the commands whose names start with one of its words (``check``
keeps both checks; without the cold check, an untimed ``check`` writes the load cache first,
so that the rows stay warm). Each row gives issue 26's target where it has one (CPU seconds) and the
ratio of its CPU time to each of the size's three floors (issue 26, item 5), which no command
of that size can go below:

- ``import numpy``: CPU of a fresh ``python -c "import numpy"`` (best of 3);
- ``read cache``: CPU of reading the bytes of every file of the load cache the commands left
  (``.takeoff/cache*``, and the files inside any such folder, so it follows the cache's format),
  timed inside a fresh process around the reads alone (best of 3);
- ``solve``: CPU of ``build_system`` and ``solve`` (qe) of the corpus's graph, timed inside a
  process that loaded the corpus first (best of 3 repetitions); always this checkout's solver,
  with ``TAKEOFF_NO_CACHE=1`` so that it leaves the measured checkout's cache alone.

``--code DIR`` runs the commands of another checkout (e.g. ``git archive`` of the branch start,
for before/after figures). A command or flag that checkout lacks (asked through its
``COMMAND --help``) is skipped with a note in its row. ``--write FILE`` replaces the table
between the markers ``<!-- bench:LABEL -->`` and ``<!-- /bench:LABEL -->`` in FILE (appends it
if absent).

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
import json
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
           (50_000, "why --top 20"): 1.0, (50_000, "history"): 1.5, (50_000, "html"): 3.0,
           (10_000, "robustness"): 3.0}
# (name, argv): "{out}" is the page's file, "{model}" the model the most nodes reach.
COMMANDS = [("check (cold)", ["check"]), ("check (warm)", ["check"]), ("score", ["score"]),
            ("html", ["html", "-o", "{out}"]), ("why --top 20", ["why", "{model}", "--top", "20"]),
            ("history", ["history", "--json"]),
            ("robustness", ["robustness", "--samples", "1000", "--spread", "0.1",
                            "--weight-spread", "0.1"])]
FLOORS = (("numpy", "import numpy"), ("cache", "read cache"), ("solve", "solve"))


def child_cpu(argv, env=None, cwd=None):
    """CPU seconds (user + system) of one fresh process running ``argv``; None if it failed."""
    child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    ok = os.waitstatus_to_exitcode(status) == 0
    return usage.ru_utime + usage.ru_stime if ok else None


def child_json(function, *args, env=None):
    """What ``function(*args)`` of this module returns (JSON), run in a fresh process."""
    script = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
              f"import bench_scale; print(json.dumps(bench_scale.{function}(*sys.argv[1:])))")
    out = subprocess.run([sys.executable, "-c", script, *map(str, args)], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(f"  {function} failed: {out.stderr[-300:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.splitlines()[-1])


def cache_files(folder):
    """The files of the load cache of the corpus in ``folder``: ``.takeoff/cache*``, and every
    file inside such a folder, whatever the cache's format."""
    found = []
    for path in sorted((Path(folder) / ".takeoff").glob("cache*")):
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return found


def read_cache(folder):
    """``[CPU s, bytes, files]`` of reading the bytes of every file of the load cache (called
    in a fresh process by :func:`cache_floor`)."""
    paths = cache_files(folder)
    start = time.process_time()
    size = sum(len(path.read_bytes()) for path in paths)
    return [time.process_time() - start, size, len(paths)]


def solve_alone(folder, want_model="no"):
    """``{"build", "solve": CPU s, "model"}``: ``build_system`` and ``solve`` (qe) of the
    corpus's graph, best of 3, timed after the load; and, if ``want_model == "yes"``, the model
    the most nodes reach (the hardest ``why``). Called in a fresh process by :func:`measure`."""
    import networkx as nx

    from graph.files.corpus import Corpus
    from graph.solving.propagation import build_system, solve

    graph = Corpus.load(folder).graph
    build = best = float("inf")
    for _ in range(3):
        start = time.process_time()
        system = build_system(graph)
        built = time.process_time()
        solve(system, "qe")
        build, best = min(build, built - start), min(best, time.process_time() - built)
    model = None
    if want_model == "yes":
        models = [v for v, kind in graph.nodes(data="kind") if kind == "model"]
        model = max(models, key=lambda v: (len(nx.ancestors(graph, v)), v))
    return {"build": build, "solve": best, "model": model}


def numpy_floor():
    """CPU seconds of ``python -c "import numpy"``, best of 3."""
    times = [child_cpu([sys.executable, "-c", "import numpy"]) for _ in range(3)]
    return min((t for t in times if t is not None), default=None)


def cache_floor(folder):
    """``(CPU s, bytes, files)`` of reading the load cache's bytes, best of 3 fresh processes;
    None if there is no cache."""
    if not cache_files(folder):
        return None
    reads = [child_json("read_cache", folder) for _ in range(3)]
    return min((r for r in reads if r), default=None)


def unsupported(argv, code, helps):
    """Why the checkout ``code`` cannot run ``argv`` (None if it can): its command, or one of
    its ``--flags``, is not in the command's ``--help``. ``helps`` caches the help texts."""
    command = argv[0]
    if command not in helps:
        env = {**os.environ, "PYTHONPATH": str(code), "COLUMNS": "160"}
        out = subprocess.run([sys.executable, "-c", "from cli import main; main()", command,
                              "--help"], env=env, cwd=code, capture_output=True, text=True)
        helps[command] = out.stdout if out.returncode == 0 else None
    if helps[command] is None:
        return f"this checkout has no `{command}` command"
    unknown = [a for a in argv if a.startswith("--")
               and not re.search(rf"(?<![\w-]){re.escape(a)}(?![\w-])", helps[command])]
    return f"this checkout's `{command}` has no {', '.join(unknown)}" if unknown else None


def ratio(cpu, floor):
    """``cpu`` as a multiple of ``floor``, for the table."""
    if not cpu or not floor:
        return "n/a"
    times = cpu / floor
    return f"{times:,.0f}x" if times >= 100 else f"{times:.1f}x"


def target_text(n, name, cpu=None):
    """Issue 26's target for the row, and whether ``cpu`` (None: the command did not finish)
    meets it."""
    target = TARGETS.get((n, name))
    if target is None:
        return ""
    return f"< {target:g} ({'met' if cpu is not None and cpu < target else 'not met'})"


def measure(n, code, timeout, only=None, helps=None):
    """``(rows, floors)`` for a corpus of ``n`` nodes: rows ``{name, wall, cpu, mib, ok,
    note}`` of the commands whose names start with a word of ``only`` (all if None), and the
    floors ``{numpy, cache, cache_bytes, cache_files, build, solve}`` (CPU s; None if
    unmeasured)."""
    helps = {} if helps is None else helps
    keep = (lambda name: not only or name.startswith(tuple(only)))
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        make_corpus(corpus, n)
        # Files changed within the load cache's racy window (2 s) are read on every load, as
        # right after a checkout; a corpus that was not just written is the usual case.
        time.sleep(2.5)
        alone = child_json("solve_alone", corpus, "yes" if keep("why") else "no",
                           env={**os.environ, "PYTHONPATH": str(ROOT), "TAKEOFF_NO_CACHE": "1"})
        shutil.rmtree(corpus / ".takeoff", ignore_errors=True)
        if not keep("check (cold)"):   # the rows after it are warm: leave them the load cache
            run(["--corpus", str(corpus), "check"], code, timeout)
        model = (alone or {}).get("model")
        fill = {"out": str(Path(folder) / "map.html"), "model": model}
        rows = [run_row(n, name, [a.format(**fill) for a in argv], corpus, code, timeout,
                        unsupported(argv, code, helps)
                        or ("no model found to explain" if "{model}" in argv and not model
                            else None))
                for name, argv in COMMANDS if keep(name)]
        cache = cache_floor(corpus)
    floors = {"numpy": numpy_floor(), "cache": cache and cache[0],
              "cache_bytes": cache and cache[1], "cache_files": cache and cache[2],
              "build": alone and alone["build"], "solve": alone and alone["build"] + alone["solve"]}
    for row in rows:
        row["ratios"] = {key: ratio(row["cpu"], floors[key]) for key, _ in FLOORS}
    print(f"  {n:>7} floors: " + ", ".join(
        f"{label} {floors[key]:.4f} s" if floors[key] is not None else f"{label} n/a"
        for key, label in FLOORS), flush=True)
    return rows, floors


def run_row(n, name, argv, corpus, code, timeout, skip=None):
    """One row of :func:`measure`: the command run on ``corpus``, or skipped with the note
    ``skip`` (when the checkout cannot run it)."""
    if skip:
        print(f"  {n:>7} {name:14s} skipped: {skip}", flush=True)
        return {"name": name, "wall": None, "cpu": None, "mib": None, "ok": False, "note": skip}
    wall, cpu, mib, ok = run(["--corpus", str(corpus), *argv], code, timeout)
    print(f"  {n:>7} {name:14s} {wall:7.2f} s wall {cpu:7.2f} s cpu {mib:7.0f} MiB "
          f"{target_text(n, name, cpu if ok else None):14s}"
          f"{'' if ok else '  (timed out or failed)'}", flush=True)
    return {"name": name, "wall": wall, "cpu": cpu, "mib": mib, "ok": ok,
            "note": "" if ok else "stopped: over the time limit or failed"}


def floor_rows(results):
    """The floors table: one row per size."""
    lines = ["| nodes | `import numpy` CPU s | read the cache's bytes CPU s | build_system + solve "
             "CPU s (of which build) |", "|---:|---:|---:|---:|"]
    for n, (_, f) in results:
        cache = "n/a (no cache)" if f["cache"] is None else \
            f"{f['cache']:.4f} ({f['cache_bytes']:,} bytes, {f['cache_files']} " \
            f"file{'' if f['cache_files'] == 1 else 's'})"
        solve = "n/a" if f["solve"] is None else f"{f['solve']:.4f} ({f['build']:.4f})"
        numpy = "n/a" if f["numpy"] is None else f"{f['numpy']:.3f}"
        lines.append(f"| {n:,} | {numpy} | {cache} | {solve} |")
    return lines


def command_rows(results):
    """The commands table: each figure with its target and its ratio to each floor."""
    lines = ["| nodes | command | wall s | CPU s | target CPU s | peak MiB | "
             + " | ".join(f"x {label}" for _, label in FLOORS) + " |",
             "|---:|---|---:|---:|---|---:|" + "---:|" * len(FLOORS)]
    for n, (rows, _) in results:
        for row in rows:
            if row["cpu"] is None:
                lines.append(f"| {n:,} | {row['name']} | skipped: {row['note']} | | "
                             f"{target_text(n, row['name'])} | |" + " |" * len(FLOORS))
                continue
            mark = f" ({row['note']})" if row["note"] else ""
            lines.append(f"| {n:,} | {row['name']} | {row['wall']:.2f}{mark} | {row['cpu']:.2f} | "
                         f"{target_text(n, row['name'], row['cpu'] if row['ok'] else None)} | "
                         f"{row['mib']:.0f} | "
                         + " | ".join(row["ratios"][key] for key, _ in FLOORS) + " |")
    return lines


def table(results, label):
    """The Markdown report of ``[(nodes, (rows, floors))]``, between its ``bench:LABEL``
    markers."""
    load = os.getloadavg()
    lines = [f"<!-- bench:{label} -->",
             f"{label}: `python bench/bench_scale.py` on {os.cpu_count()} shared cores, load "
             f"average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).", "",
             "Floors (CPU s): a fresh `python -c \"import numpy\"`; reading the load cache's "
             "files (`.takeoff/cache*`) in a fresh process; `build_system` + `solve` (qe) of the "
             "loaded graph, in-process.", "", *floor_rows(results), "",
             "Each command's CPU time against issue 26's target and as a multiple of each floor:",
             "", *command_rows(results), f"<!-- /bench:{label} -->"]
    return "\n".join(lines)


def write_table(path, text, label):
    """Replace the ``bench:LABEL`` block of ``path`` with ``text`` (append it if absent)."""
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
    helps = {}
    results = [(n, measure(n, args.code.resolve(), args.timeout, only, helps))
               for n in (int(s) for s in args.sizes.split(","))]
    text = table(results, args.label)
    print(text)
    if args.write:
        write_table(args.write, text, args.label)


if __name__ == "__main__":
    main()
