"""The fast path of the front-matter loader: plain YAML read line by line, or left to PyYAML.

Front matter is nearly always the same few shapes: ``key: value`` lines, block lists of
mappings (``- target: x``), flow lists of words (``tags: [rl, compute]``), plain, single- and
double-quoted one-line scalars, comments. PyYAML's C parser still builds every value in
Python, through a node tree, its resolver and its constructors: about a quarter of a
millisecond a file, most of a cold load. :func:`plain_loader` reads that subset directly and
gives **exactly** the value PyYAML's loader gives, or :data:`DEFER` for anything else, which
the caller then gives to PyYAML: a multi-line or escaped scalar, a flow mapping, an anchor,
alias or tag, a duplicate key, a number in any form but the plain decimal one or longer than
:data:`graph.core.limits.MAX_NUMBER_CHARS`, a tab, a character YAML treats as a line break or
refuses, a document marker, anything malformed. So every error and every limit is PyYAML's, with
its line, and the subset has no rules of its own: each plain scalar is resolved by the loader's
own table of implicit resolvers (so ``yes`` is true and a date stays text, as in PyYAML with
takeoff's loader). ``tests/test_plainyaml.py`` holds it to PyYAML on generated documents.
"""
from __future__ import annotations

import re

from graph.core.limits import MAX_NUMBER_CHARS

DEFER = object()   # "not in the subset: ask PyYAML"
# Nesting deeper than this is left to PyYAML (which refuses past limits.MAX_DEPTH).
MAX_PLAIN_DEPTH = 16

# What the subset may contain: printable characters, no tab, no \r, no byte-order mark, none of
# the characters YAML 1.1 reads as line breaks (NEL, LS, PS) or refuses.
_TEXT = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                   "\U00010000-\U0010ffff]*")
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +|$)")
_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_DOUBLE = re.compile(r'"((?:[^"\\]|\\["\\])*)"')   # escapes: only \" and \\
_UNESCAPE = re.compile(r'\\(["\\])')
_AFTER = re.compile(r"(?: +#.*)?")   # what may follow a quoted scalar or a flow list
_WORD = re.compile(r"[A-Za-z0-9_./+][A-Za-z0-9_./+ -]*")
_FLOW_ITEM = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*): +([A-Za-z0-9_./+][A-Za-z0-9_./+ -]*)")
# A plain scalar with nothing to look at twice: no comment, no ": ", no indicator first.
_SIMPLE = re.compile(r"[A-Za-z0-9_(./][^#:\n]*(?::+[^\s:#][^#:\n]*)*")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_BOOL = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
_STR = "tag:yaml.org,2002:str"
_IMMUTABLE = (str, int, float, bool, type(None))


def plain_loader(resolvers):
    """A function of front-matter text giving its value, or :data:`DEFER`.

    Parameters
    ----------
    resolvers : dict
        The loader's ``yaml_implicit_resolvers`` (first character -> ``[(tag, regexp)]``):
        plain scalars resolve exactly as the loader resolves them.
    """
    seen = {}   # plain scalar -> its value: keys, kinds, notes and numbers repeat
    entries = {}   # "key: scalar" line -> (key, value): whole lines repeat too
    keys = {}   # a name _KEY matched -> the key (a str)
    key_of = _KEY.match

    def scalar(text):
        """A plain scalar's value, as the loader constructs it (DEFER for a form the
        subset leaves to it); values are immutable, so one is kept per text."""
        value = seen.get(text, seen)
        if value is seen:
            if len(seen) > 100_000:
                seen.clear()
            value = seen[text] = resolve(text)
        return value

    def resolve(text):
        tag = _STR
        for candidate, regexp in resolvers.get(text[0], ()):
            if regexp.match(text):
                tag = candidate
                break
        if tag == _STR:
            return text
        if tag.endswith(":null"):
            return None
        if tag.endswith(":bool"):
            return _BOOL[text.lower()]
        if len(text) <= MAX_NUMBER_CHARS:
            if tag.endswith(":int") and _INT.fullmatch(text):
                return int(text)
            if tag.endswith(":float") and _FLOAT.fullmatch(text):
                return float(text)
        return DEFER

    def inline(rest):
        """The value written after ``key:`` or ``-`` on the same line."""
        if _SIMPLE.fullmatch(rest):   # most values: a plain scalar and nothing else
            return scalar(rest)
        first = rest[0]
        if first == "'" or first == '"':
            match = (_SINGLE if first == "'" else _DOUBLE).match(rest)
            if match is None or not _AFTER.fullmatch(rest, match.end()):
                return DEFER
            if first == "'":
                return match[1].replace("''", "'")
            return match[1] if "\\" not in match[1] else _UNESCAPE.sub(r"\1", match[1])
        if first == "{":
            return flow_mapping(rest)
        if first == "[":
            end = rest.find("]")
            if end < 0 or not _AFTER.fullmatch(rest, end + 1):
                return DEFER
            inner = rest[1:end].strip(" ")
            if not inner:
                return []
            items = []
            for word in inner.split(","):
                word = word.strip(" ")
                if not _WORD.fullmatch(word):
                    return DEFER
                value = scalar(word)
                if value is DEFER:
                    return DEFER
                items.append(value)
            return items
        if first in "]},&*!|>%@`#'\"" or (first in "-?:" and (len(rest) == 1 or rest[1] == " ")):
            return DEFER
        cut = rest.find(" #")
        if cut >= 0:
            rest = rest[:cut].rstrip(" ")
        if ": " in rest or rest[-1] == ":":
            return DEFER
        return scalar(rest)

    def flow_mapping(rest):
        """``{key: word, ...}`` on one line (an uncertain credence or weight)."""
        end = rest.find("}")
        if end < 0 or not _AFTER.fullmatch(rest, end + 1):
            return DEFER
        inner = rest[1:end].strip(" ")
        out = {}
        if not inner:
            return out
        for item in inner.split(","):
            match = _FLOW_ITEM.fullmatch(item.strip(" "))
            if match is None:
                return DEFER
            key, value = scalar(match[1]), scalar(match[2])
            if type(key) is not str or key in out or value is DEFER:
                return DEFER
            out[key] = value
        return out

    def node(lines, i, indent, depth):
        if depth > MAX_PLAIN_DEPTH:
            return DEFER, i
        text = lines[i][1]
        if text == "-" or text.startswith("- "):
            return sequence(lines, i, indent, depth)
        return mapping(lines, i, indent, depth)

    def value_below(lines, i, indent, depth, indentless):
        """The value of a ``key:`` or ``-`` with nothing after it, on the lines from ``i``."""
        if i < len(lines):
            below, text = lines[i]
            if below > indent:
                return node(lines, i, below, depth + 1)
            if indentless and below == indent and (text == "-" or text.startswith("- ")):
                return sequence(lines, i, indent, depth + 1)
        return None, i

    def mapping(lines, i, indent, depth):
        out, end = {}, len(lines)
        while i < end:
            column, text = lines[i]
            if column != indent:
                break
            i += 1
            entry = entries.get(text)   # a whole ``key: scalar`` line read before
            if entry is not None:
                key, value = entry
                if key in out:
                    return DEFER, i
            else:
                name, _, rest = text.partition(":")
                key = keys.get(name)
                if key is not None and (not rest or rest[0] == " "):
                    rest = rest.lstrip(" ")   # what _KEY matches, for a name it matched before
                else:
                    match = key_of(text)
                    if match is None:
                        return DEFER, i
                    key = scalar(match[1])
                    if type(key) is not str:
                        return DEFER, i
                    if len(keys) > 10_000:
                        keys.clear()
                    keys[match[1]] = key
                    rest = text[match.end():]
                if key in out:
                    return DEFER, i
                if rest:
                    # Every text kept in ``seen`` is a whole plain scalar, read alike here.
                    value = seen.get(rest, seen)
                    if value is seen:
                        value = inline(rest)
                    if value is not DEFER and type(value) in _IMMUTABLE:
                        if len(entries) > 100_000:
                            entries.clear()
                        entries[text] = (key, value)
                else:
                    value, i = value_below(lines, i, indent, depth, True)
            if value is DEFER or (i < end and lines[i][0] > indent):
                return DEFER, i
            out[key] = value
        return out, i

    def sequence(lines, i, indent, depth):
        out = []
        while i < len(lines) and lines[i][0] == indent:
            text = lines[i][1]
            if text == "-":
                value, i = value_below(lines, i + 1, indent, depth, False)
            elif text.startswith("- "):
                rest = text[2:].lstrip(" ")
                if _KEY.match(rest) or rest == "-" or rest.startswith("- "):
                    column = indent + len(text) - len(rest)
                    lines[i] = (column, rest)   # the item starts on the dash's line
                    value, i = node(lines, i, column, depth + 1)
                else:
                    value, i = inline(rest), i + 1
            else:
                break   # the mapping an indentless sequence is a value of goes on
            if value is DEFER or (i < len(lines) and lines[i][0] > indent):
                return DEFER, i
            out.append(value)
        return out, i

    def load(text):
        if not _TEXT.fullmatch(text):
            return DEFER
        lines = []
        for line in text.split("\n"):
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue   # blank, or a comment line
            if content is line and line[0] in "-.%" and line.startswith(("---", "...", "%")):
                return DEFER   # a document marker or a directive
            lines.append((len(line) - len(content), content.rstrip(" ")))
        if not lines:
            return None
        value, i = node(lines, 0, lines[0][0], 0)
        return DEFER if i < len(lines) else value

    return load
