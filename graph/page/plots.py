"""Charts: a history (:func:`plot_history`) and a robustness result (:func:`plot_robustness`)
drawn with matplotlib to ``.png`` or ``.svg``, written atomically and without a creation date,
so the same data gives the same file.

It may import every layer below the page;
it draws what :mod:`graph.solving.timeline` and :mod:`graph.solving.robustness` computed.
"""
from __future__ import annotations

import io
from pathlib import Path

from graph.core.model import TakeoffError, parse_date
from graph.files.store import atomic_write
from graph.solving.timeline import shifted


def plot_history(data, path, *, title=None):
    """Draw a :func:`history` result to ``path`` (``.png`` or ``.svg``) with matplotlib.

    One line per node; below the lines, every dated piece of evidence is marked at its date
    with its id (labels stacked so that none overprints another).
    The file is written atomically.

    Parameters
    ----------
    data : dict
        The return value of :func:`history`.
    path : str or pathlib.Path
        The output file; its suffix (``.png`` or ``.svg``) picks the format.
    title : str, optional
        The chart title (default: names the semantics and step).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise TakeoffError(f"{path}: the plot file must end in .png or .svg")
    figure = _figure(data, title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=150, metadata=plot_metadata(fmt))
    import matplotlib.pyplot as plt

    plt.close(figure)
    atomic_write(path, buffer.getvalue())
    return path


def plot_metadata(fmt):
    # No creation date, so the same history gives the same file.
    return {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}


_EVIDENCE_COLOUR = "#555555"
_LABEL_CHARS_ACROSS = 150  # about how many 6.5 pt characters fit across the axes


def _figure(data, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    dates = [parse_date(d) for d in data["dates"]]
    evidence = [(parse_date(e["date"]), e["id"]) for e in data["evidence"]]
    first = shifted(min([dates[0]] + [day for day, _ in evidence[:1]]), -10)
    last = shifted(dates[-1], 10)
    rows = _label_rows(evidence, (last - first).days / _LABEL_CHARS_ACROSS)
    levels = max(rows, default=0) + 1
    figure, (top, strip) = plt.subplots(
        2, 1, sharex=True, figsize=(11, 5.5 + 0.17 * levels),
        gridspec_kw={"height_ratios": [4.5, 0.6 + 0.17 * levels]}, layout="constrained")
    for node in data["nodes"]:
        values = [float("nan") if v is None else v for v in data["strengths"][node["id"]]]
        top.plot(dates, values, marker="o", markersize=3, linewidth=1.8, label=node["id"])
    for day, _ in evidence:
        top.axvline(day, color="#cccccc", linewidth=0.6, zorder=0)
    top.set_ylim(0, 1)
    top.set_ylabel(f"strength ({data['semantics']})")
    top.grid(axis="y", alpha=0.3)
    top.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    top.set_title(title or f"Strength of each takeoff path as of each {data['step']}")
    for (day, node), row in zip(evidence, rows):
        strip.plot([day, day], [0, row + 1], color=_EVIDENCE_COLOUR, linewidth=0.6)
        strip.annotate(node, (day, row + 1), fontsize=6.5, color=_EVIDENCE_COLOUR,
                       ha="left", va="center", zorder=3,
                       bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"})
    strip.plot([day for day, _ in evidence], [0] * len(evidence), "^",
               color=_EVIDENCE_COLOUR, markersize=5)
    strip.set_ylim(-0.5, levels + 0.7)
    strip.set_yticks([])
    strip.set_ylabel("dated\nevidence")
    for side in ("left", "right", "top"):
        strip.spines[side].set_visible(False)
    strip.set_xlim(first, last)
    locator = mdates.AutoDateLocator()
    strip.xaxis.set_major_locator(locator)
    strip.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return figure


def _label_rows(evidence, days_per_char):
    """A row for each evidence label, the lowest whose last label ends before this one starts,
    so that labels never overprint."""
    ends, rows = [], []
    for day, node in evidence:
        start = day.toordinal()
        row = next((i for i, end in enumerate(ends) if end < start), len(ends))
        if row == len(ends):
            ends.append(0)
        ends[row] = start + (len(node) + 2) * days_per_char
        rows.append(row)
    return rows


def plot_robustness(data, path):
    """Draw a :func:`robustness` result to ``path`` (``.png`` or ``.svg``): the 90% interval,
    mean and point strength of each path, and beside it the probability that it ranks first.
    The file is written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    rows = data["models"][::-1]  # strongest at the top
    labels = [r["id"] for r in rows]
    y = np.arange(len(rows))
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(10, 1.2 + 0.45 * len(rows)), sharey=True,
        gridspec_kw={"width_ratios": [3, 1]})
    left.hlines(y, [r["low"] for r in rows], [r["high"] for r in rows], color="#6a51a3", lw=6,
                alpha=0.45, label="90% interval")
    left.plot([r["mean"] for r in rows], y, "o", color="#3f007d", label="mean")
    left.plot([r["point"] for r in rows], y, "x", color="#d94801", label="point score")
    left.set_yticks(y, labels)
    left.set_xlim(0, 1)
    left.set_xlabel("strength")
    left.legend(loc="lower right", fontsize=8)
    left.grid(axis="x", alpha=0.3)
    p_first = [r["p_first"] for r in rows]
    right.barh(y, p_first, color="#41ab5d")
    for yi, p in zip(y, p_first):
        right.text(min(p + 0.02, 0.8), yi, f"{p:.2f}", va="center", fontsize=8)
    right.set_xlim(0, 1)
    right.set_xlabel("P(ranks first)")
    semantics = ", ".join(data["semantics"])
    figure.suptitle(f"How sure is the ranking? {data['samples']} samples of {data['inputs']} "
                    f"uncertain inputs ({semantics})", fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=150, metadata=plot_metadata(fmt))
    plt.close(figure)
    atomic_write(path, buffer.getvalue())
    return path
