"""Cross-links between annotations: ``[[id]]``, ``[[id|text]]`` and ``[text](#id)``.

The first is the wiki-link habit of people who keep Markdown notes (Obsidian, Foam); the
second is plain CommonMark. Both name another node by its id. ``takeoff check`` warns about a
link to an unknown id, ``takeoff show`` lists the links, and the HTML page makes them select the
node. Links inside code (fenced blocks and backtick spans) are text, as in the page.
"""
from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_WIKI = re.compile(r"\[\[([^\[\]|\n]+)(?:\|[^\[\]\n]*)?\]\]")
_ANCHOR = re.compile(r"\[[^\[\]\n]*\]\(#([^()\s]+)\)")


def rename_links(body, old, new):
    """``body`` with every link to ``old`` made a link to ``new`` (code left as it is).

    Examples
    --------
    >>> rename_links("[[a]], [[a|the A]], [x](#a), [[ab]], `[[a]]`", "a", "b")
    '[[b]], [[b|the A]], [x](#b), [[ab]], `[[a]]`'
    """
    if old not in body:
        return body
    wiki = re.compile(r"\[\[\s*" + re.escape(old) + r"\s*(\||\]\])")
    anchor = re.compile(r"(\[[^\[\]\n]*\]\(#)" + re.escape(old) + r"\)")
    lines = body.split("\n")
    for number, line in _prose_lines(lines):
        parts = re.split(r"((`+).+?\2)", line)  # code spans stay as they are
        for i in range(0, len(parts), 3):
            parts[i] = anchor.sub(lambda m: f"{m.group(1)}{new})", wiki.sub(f"[[{new}\\1", parts[i]))
        lines[number] = "".join(p for i, p in enumerate(parts) if i % 3 != 2)
    return "\n".join(lines)


def annotation_links(body):
    """The ids an annotation links to, as ``(id, line)`` pairs in order of appearance.

    Parameters
    ----------
    body : str
        A node's Markdown annotation.

    Returns
    -------
    list of (str, int)
        Each linked id (stripped, as written) and the 1-based line of the body it is on.

    Examples
    --------
    >>> annotation_links("See [[bottlenecks]] and [the loop](#robot-loop).\\n`[[not-a-link]]`")
    [('bottlenecks', 1), ('robot-loop', 1)]
    """
    if "[[" not in body and "](#" not in body:
        return []  # most annotations: no scan at all
    links = []
    for number, line in _prose_lines(body.splitlines()):
        text = _CODE_SPAN.sub("", line)
        found = [(m.start(), m.group(1).strip()) for m in _WIKI.finditer(text)]
        found += [(m.start(), m.group(1)) for m in _ANCHOR.finditer(text)]
        links += [(target, number + 1) for _, target in sorted(found)]
    return links


def _prose_lines(lines):
    """``(index, line)`` of the lines outside fenced code blocks."""
    fence = None
    for number, line in enumerate(lines):
        opening = _FENCE.match(line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        yield number, line
