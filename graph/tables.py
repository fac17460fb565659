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
