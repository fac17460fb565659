"""Tables for terminals and pipes: ids are never wrapped or cut, titles give way first.

A table is a list of :class:`Col` and rows of cells (text, or rich ``Text`` for colour). On a
terminal it is laid out to the terminal's width: ``id`` and ``num`` columns keep their full
width, ``text`` columns (titles, notes) shrink and end in an ellipsis, ``ids`` columns (a chain
of ids) wrap between words, never inside one. Piped (or with ``--plain``) it is tab-separated
text: a header line, then one line per row, no colour, no padding.

Text from files and servers is made inert before it reaches a terminal (:func:`inert`): a
title may hold escape sequences that set the window title, clear the screen or write to the
clipboard (OSC 52), a carriage return that hides what precedes it, or bidirectional overrides
that reorder what is shown. Every cell and line printed passes through it.
"""
from __future__ import annotations

import re
from typing import NamedTuple

GAP = 2  # spaces between columns
MIN_TEXT = 8  # a shrinking text column keeps at least this many characters (or its header)


class Col(NamedTuple):
    header: str
    kind: str = "text"  # id | num | text | ids


# C0 controls but tab and newline, DEL, C1 controls (CSI 0x9b, OSC 0x9d...), the line and
# paragraph separators and the bidirectional embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _shown(match):
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ESC is shown as U+241B
    if code == 0x7f:
        return "\u2421"
    return f"\\x{code:02x}" if code <= 0xff else f"\\u{code:04x}"


def inert(text, keep="\n\t"):
    r"""``text`` with every control character a terminal would obey shown visibly instead.

    C0 controls become their Control Pictures (ESC as U+241B, CR as U+240D), DEL U+2421, C1
    controls and bidirectional overrides ``\x9b`` / ``\u202e``. The characters in ``keep``
    (newline and tab by default) stay as they are.

    >>> inert("\x1b]52;c;ZWNobw==\x07title\r")
    '␛]52;c;ZWNobw==␇title␍'
    """
    text = "" if text is None else str(text)
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _shown(m), text)


def inert_all(value):
    """``value`` with every string in it (in dicts and lists too) made :func:`inert`."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, dict):
        return {key: inert_all(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(inert_all(item) for item in value)
    return value


# What JSON leaves raw with ensure_ascii=False but a terminal may obey: DEL, C1 controls, the
# line separators and the bidirectional controls (json.dumps escapes C0 controls itself).
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def inert_json(text):
    """JSON text with the characters a terminal may obey escaped as ``\\uXXXX``: still the
    same JSON (they occur only inside strings), readable as text."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """``value`` as an inert CSV cell that no spreadsheet runs as a formula: a cell starting
    with ``= + - @``, a tab or a carriage return gets a leading ``'`` (OWASP's rule), unless it
    is a plain number such as ``-0.5``.

    >>> csv_cell("=1+2"), csv_cell("-0.5"), csv_cell("-2+3")
    ("'=1+2", '-0.5', "'-2+3")
    """
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        try:
            float(text)
        except ValueError:
            text = "'" + text
    return inert(text)


def plain(cell):
    """A cell as one line of inert plain text (rich Text loses its style; newlines become
    '; ', tabs spaces)."""
    text = getattr(cell, "plain", cell)
    text = "" if text is None else str(text)
    return inert("; ".join(line for line in text.split("\n") if line).replace("\t", " "))


def tsv(columns, rows):
    """The table as tab-separated lines (header first), ending in a newline."""
    lines = ["\t".join(c.header for c in columns)]
    lines += ["\t".join(plain(cell) for cell in row) for row in rows]
    return "\n".join(lines) + "\n"


def _lines(cell):
    return plain_cell(getattr(cell, "plain", cell)).split("\n")


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
        table.add_row(*(inert_rich(cell) if isinstance(cell, Text) else Text(plain_cell(cell))
                        for cell in row))
    return table


def inert_rich(text):
    """A rich Text with its characters made inert (its style kept; the control characters
    it holds are one character each, so spans of the usual text stay in place)."""
    shown = inert(text.plain)
    if shown != text.plain:
        text = text.copy()
        text.plain = shown
    return text


def plain_cell(cell):
    """A cell as inert text that may span lines."""
    return inert("" if cell is None else str(cell), keep="\n")
