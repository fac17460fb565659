"""Tables for terminals and pipes: ids are never wrapped or cut, titles give way first.

A table is a list of :class:`Col` and rows of cells (text, or rich ``Text`` for colour). On a
terminal it is laid out to the terminal's width: ``id`` and ``num`` columns keep their full
width, ``text`` columns (titles, notes) shrink and end in an ellipsis, ``ids`` columns (a chain
of ids) wrap between words, never inside one. Piped (or with ``--plain``) it is tab-separated
text: a header line, then one line per row, no colour, no padding.
"""
from __future__ import annotations

from typing import NamedTuple

GAP = 2  # spaces between columns
MIN_TEXT = 8  # a shrinking text column keeps at least this many characters (or its header)


class Col(NamedTuple):
    header: str
    kind: str = "text"  # id | num | text | ids


def plain(cell):
    """A cell as one line of plain text (rich Text loses its style; newlines become '; ')."""
    text = getattr(cell, "plain", cell)
    text = "" if text is None else str(text)
    return "; ".join(line for line in text.splitlines() if line).replace("\t", " ")


def tsv(columns, rows):
    """The table as tab-separated lines (header first), ending in a newline."""
    lines = ["\t".join(c.header for c in columns)]
    lines += ["\t".join(plain(cell) for cell in row) for row in rows]
    return "\n".join(lines) + "\n"


def _lines(cell):
    text = getattr(cell, "plain", cell)
    return ("" if text is None else str(text)).splitlines() or [""]


def widths(columns, rows, width):
    """The width of each column so that the table fits in ``width`` characters if it can.

    ``text`` columns shrink first (down to ``MIN_TEXT`` or their header), then ``ids`` columns
    (down to their longest word); ``id`` and ``num`` columns never shrink. Returns the widths
    and whether the table fits.
    """
    natural, least = [], []
    for i, column in enumerate(columns):
        cells = [line for row in rows for line in _lines(row[i])]
        longest = max([len(column.header), *map(len, cells)])
        natural.append(longest)
        if column.kind == "text":
            least.append(min(longest, max(MIN_TEXT, len(column.header))))
        elif column.kind == "ids":
            words = [w for line in cells for w in line.split()]
            least.append(max([len(column.header), *map(len, words)]))
        else:
            least.append(longest)
    sizes = list(natural)
    excess = sum(sizes) + GAP * (len(sizes) - 1) - width
    for kind in ("text", "ids"):
        for i, column in enumerate(columns):
            if excess <= 0:
                break
            if column.kind == kind:
                cut = min(excess, sizes[i] - least[i])
                sizes[i] -= cut
                excess -= cut
    return sizes, excess <= 0


def spill(columns, rows, width):
    """Fit a table in ``width`` by moving ``ids`` columns, from the right, out of it.

    Returns the columns and rows kept, their widths, and ``(row index, header, cell)`` for each
    cell moved out (to be printed under the table, where it can wrap between words).
    """
    columns, rows, moved = list(columns), [list(r) for r in rows], []
    while True:
        sizes, fits = widths(columns, rows, width)
        movable = [i for i, c in enumerate(columns) if c.kind == "ids"]
        if fits or not movable:
            return columns, rows, sizes, sorted(moved, key=lambda m: m[0])
        i = movable[-1]
        moved += [(r, columns[i].header, row[i]) for r, row in enumerate(rows) if plain(row[i])]
        del columns[i]
        for row in rows:
            del row[i]


GLUE = "\u00a0"  # joins words that must stay on one line (a key and its id)


def wrap_words(text, width, indent="    "):
    """``text`` wrapped to ``width`` between words only: an id is never split, not even at its
    hyphens; words joined by ``GLUE`` stay together."""
    import textwrap

    lines = textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False,
                          break_on_hyphens=False)
    return [line.replace(GLUE, " ") for line in lines]


def rich_table(columns, rows, sizes):
    """A rich Table with the given column widths (see :func:`widths`)."""
    from rich.table import Column, Table
    from rich.text import Text

    table = Table(*(Column(c.header, width=w, no_wrap=c.kind != "ids",
                           overflow="ellipsis" if c.kind == "text" else "fold",
                           justify="right" if c.kind == "num" else "left")
                    for c, w in zip(columns, sizes)),
                  box=None, padding=(0, GAP // 2), pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*(cell if isinstance(cell, Text) else Text(plain_cell(cell))
                        for cell in row))
    return table


def plain_cell(cell):
    return "" if cell is None else str(cell)
