"""Benchmark: reading Argdown (and the other formats) is linear in the size of the file.

Run: python bench/bench_formats.py [N ...]   (default: 10000 100000 relations)

Issue 28 found a 2.6 MB Argdown file of 100,000 relations taking 217 s to import. Profiled,
the time went to making ids: 100,000 untitled statements with the same text each tried
``same-text``, ``same-text-2``, ... from the start (quadratic); ``graph.formats.common.Taken``
remembers the next number. The reader also no longer re-joins the lines read so far to ask
whether YAML data is still open. Each shape below is timed (CPU seconds) at every size; the
time per relation must stay flat from the smallest size to the largest (within noise):

- ``same-text``: issue 28's shape, N relations to untitled statements with one text;

- ``flat``: one statement with N relations below it;
- ``pcs``: N relations below a premise of a premise-conclusion structure (issue 28's shape);
- ``nested``: N/2 relations, each with one relation nested below it;
- ``blocks``: N/10 statements, each with 10 relations, blank lines between;
- ``multiline``: N relations whose statements run over three lines each.

Then the export of the largest graph and, for comparison, AIF and Kialo both ways.
"""
import gc
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from graph.formats.aif import export_aif, parse_aif  # noqa: E402
from graph.formats.argdown_read import parse_argdown  # noqa: E402
from graph.formats.argdown_write import export_argdown  # noqa: E402
from graph.formats import kialo  # noqa: E402
from timing import best_of  # noqa: E402

CPU = time.process_time  # CPU seconds: the machine is shared, wall time says more about others

SHAPES = {
    "same-text": lambda n: "[root]: The root.\n" + "    + A claim made again\n" * n,
    "flat": lambda n: "[root]: The root.\n" + "".join(
        f"    + [s{i}]: Statement number {i}.\n" for i in range(n)),
    "pcs": lambda n: "<A>: An argument.\n\n(1) [P]: A premise.\n" + "".join(
        f"    + [s{i}]: Statement number {i}.\n" for i in range(n)) + "----\n(2) [C]: The conclusion.\n",
    "nested": lambda n: "[root]: The root.\n" + "".join(
        f"    + [s{i}]: Statement {i}.\n        - [t{i}]: Its attack.\n" for i in range(n // 2)),
    "blocks": lambda n: "\n".join(
        f"[b{i}]: Statement {i}.\n" + "".join(f"    + [b{(i + j) % (n // 10)}]\n"
                                              for j in range(1, 11)) for i in range(n // 10)),
    "multiline": lambda n: "[root]: The root.\n" + "".join(
        f"    - [m{i}]: A statement\n      over three\n      lines {{credence: 0.5}}\n"
        for i in range(n)),
}


def argdown(sizes):
    print("Argdown import (parse_argdown), seconds and microseconds per relation:")
    for name, make in SHAPES.items():
        cells = []
        for n in sizes:
            text = make(n)
            seconds, graph = best_of(lambda: parse_argdown(text), runs=1, clock=CPU)
            relations = int(graph.graph["summary"].rsplit(", ", 1)[1].split()[0])
            cells.append(f"{n:>7,} ({len(text) / 1e6:.1f} MB): {seconds:6.2f} s "
                         f"{seconds / relations * 1e6:5.1f} us")
        print(f"  {name:<10}" + "   ".join(cells))
    return graph


def others(graph):
    print(f"the last graph ({graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges):")
    for name, write, read in (("argdown", export_argdown, parse_argdown),
                              ("aif", export_aif, parse_aif),
                              ("kialo", kialo.export_kialo, kialo.parse_kialo)):
        seconds, text = best_of(lambda: write(graph), runs=1, clock=CPU)
        back, _ = best_of(lambda: read(text), runs=1, clock=CPU)
        print(f"  {name:<8} export {seconds:6.2f} s ({len(text) / 1e6:.1f} MB), import {back:6.2f} s")


if __name__ == "__main__":
    gc.collect()
    last = argdown([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
    others(last)
