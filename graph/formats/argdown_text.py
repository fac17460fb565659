"""The text layer of Argdown, below statements and arguments: code fences in Markdown, comments,
front matter, blocks of lines, YAML data ``{...}``, hashtags and backslash escapes.

Everything here is one pass over the text (linear in its size): :class:`Braces` follows the
``{`` of YAML data line by line, so no reader rescans what it has already seen.
"""
from __future__ import annotations

import re
import textwrap

import yaml

from graph.core.frontmatter import parse_front

# A fenced block the Argdown docs and Obsidian keep Argdown in (```argdown or ~~~argdown).
_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*(\S*)[^\n]*$", re.M)
_HEADING = re.compile(r"#+\s+(.*)")
_TAG = re.compile(r"(?:(?<=\s)|^)#(?:\(([^)]*)\)|([\w-]+))", re.UNICODE)
_INCLUDE = re.compile(r"@include\(")  # the official tools resolve it escaped or not
_BRACE_CHARS = re.compile(r"[{}\"'\\\\]")
_ESCAPED = re.compile(r"\\(.)", re.S)
# What Argdown reads as syntax inside a statement's text: brackets, data, tags, formatting,
# comments, mentions, links; and ``\`` itself. Escaped, each is the character (Argdown's lexer
# reads ``\`` before any character as that character).
_SPECIAL = re.compile(r"[\\\[\]<>{}#*_/@`]")


class Line:
    """A line of an Argdown block: its number, indentation, text without the indentation, and
    the raw line (YAML data in block style needs its indentation)."""

    __slots__ = ("number", "indent", "text", "raw")

    def __init__(self, number, indent, text, raw=None):
        self.number, self.indent, self.text = number, indent, text
        self.raw = text if raw is None else raw


def markdown_fences(text):
    """``(text, True)`` with every line outside its ```` ```argdown ```` fences blanked (line
    numbers kept) if ``text`` has such a fence (Markdown, as the Argdown docs and Obsidian keep
    Argdown); else ``(text, False)``."""
    fences = list(_FENCE.finditer(text))
    if not any(m.group(2).lower() == "argdown" for m in fences):
        return text, False

    def blank(part):
        return re.sub(r"[^\n]", "", part)

    kept, inside, last = [], None, 0
    for match in fences:
        if inside is None:
            kept.append(blank(text[last:match.end()]))
            inside, last = match, match.end()
        elif (match.group(1)[0] == inside.group(1)[0] and not match.group(2)
              and len(match.group(1)) >= len(inside.group(1))):
            body = text[last:match.start()]
            kept.append(body if inside.group(2).lower() == "argdown" else blank(body))
            inside, last = None, match.start()
    tail = text[last:]
    kept.append(tail if inside is not None and inside.group(2).lower() == "argdown" else blank(tail))
    return "".join(kept), True


def strip_comments(text):
    """Blank out ``/* */``, ``<!-- -->`` and ``//`` comments, keeping every line break (an
    escaped ``\\/`` starts none)."""
    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))

    text = re.sub(r"(?<!\\)/\*.*?\*/|(?<!\\)<!--.*?-->", blank, text, flags=re.S)
    return re.sub(r"(^|[ \t])//[^\n]*", lambda m: m.group(1), text, flags=re.M)


def front_matter(lines, build):
    """``(index of the first line after the ``===`` front matter, its settings)``; ``(0, {})``
    when there is none. The settings are read with the node files' YAML loader."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip() != "===":
        return 0, {}
    end = next((i for i in range(first + 1, len(lines)) if lines[i].strip() == "==="), None)
    if end is None:
        build.problems.append(f"line {first + 1}: the front matter (===) is never closed")
        return len(lines), {}
    for i in range(first + 1, end):
        if re.search(r"argdown\+", lines[i], re.I):
            build.problems.append(f"line {i + 1}: Argdown+ syntax is not supported: only plain "
                                  "Argdown (remove the 'syntax: argdown+' setting)")
    settings = load_yaml("\n".join(lines[first + 1:end]), first + 2, build, "front matter")
    return end + 1, settings if isinstance(settings, dict) else {}


def blocks(text, build):
    """The settings of the front matter, and the top-level blocks (runs of non-empty lines) as
    lists of :class:`Line`. A line that held only a comment is dropped, so it does not end a
    block; a heading is a block of its own; ``@include`` is refused."""
    raw_lines = text.split("\n")
    lines = strip_comments(text).split("\n")
    start, settings = front_matter(lines, build)

    def read():
        block = []
        for number in range(start, len(lines)):
            raw = lines[number].rstrip()
            if _INCLUDE.search(raw):
                build.problems.append(f"line {number + 1}: @include is not supported: import the "
                                      "included file itself, or paste it in")
            if not raw.strip():
                if raw_lines[number].strip():
                    continue  # a comment line
                if block:
                    yield block
                block = []
                continue
            stripped = raw.lstrip()
            if _HEADING.match(stripped) and len(raw) == len(stripped):
                if block:
                    yield block
                yield [Line(number + 1, 0, stripped)]
                block = []
                continue
            block.append(Line(number + 1, len(raw) - len(stripped), stripped, raw))
        if block:
            yield block

    return settings, read()


def heading(line):
    """The text of a heading line (``# Title``), or None."""
    match = _HEADING.match(line.text) if line.indent == 0 else None
    return match.group(1) if match else None


class Braces:
    """Where the YAML data ``{...}`` of a member's text stands, fed one line at a time.

    Outside data a backslash escapes the next character; inside, quotes are respected (a
    ``}`` in a string closes nothing) and an apostrophe inside a plain scalar (it's) opens no
    quote."""

    __slots__ = ("depth", "quote", "last", "start", "end", "offset")

    def __init__(self):
        self.depth, self.quote, self.last = 0, None, ""
        self.start = self.end = None  # offsets of the first data's { and } in the text fed
        self.offset = 0

    @property
    def open(self):
        """Whether a ``{`` is not closed yet."""
        return self.depth > 0

    def feed(self, text):
        """Follow ``text`` (the next piece of the member's text); returns ``self``. Jumps from
        one character that matters to the next, so plain text costs one regex search."""
        i = 0
        while True:
            match = _BRACE_CHARS.search(text, i)
            if match is None:
                break
            j = match.start()
            char, i = text[j], j + 1
            if self.quote:
                if char == "\\" and self.quote == '"':
                    i += 1
                elif char == self.quote:
                    self.quote = None
            elif char == "\\":
                i += self.depth == 0  # an escaped character, outside data
            elif self.depth and (char == '"' or (char == "'" and self._before(text, j) in "{[,:")):
                self.quote = char
            elif char == "{":
                if self.depth == 0 and self.start is None:
                    self.start = self.offset + j
                self.depth += 1
            elif char == "}" and self.depth:
                self.depth -= 1
                if self.depth == 0 and self.end is None:
                    self.end = self.offset + j
        stripped = text.rstrip()
        if stripped:
            self.last = stripped[-1]
        self.offset += len(text)
        return self

    def _before(self, text, j):
        """The last character before ``text[j]`` that is not blank (from earlier text too)."""
        k = j - 1
        while k >= 0 and text[k].isspace():
            k -= 1
        return text[k] if k >= 0 else self.last or " "


def split_data(text, number, build, known):
    """Split the YAML data ``{...}`` off a member's text: ``(text without it, data)``. Keys
    that are not in ``known`` are reported in a warning and left out."""
    braces = Braces().feed(text)
    if braces.start is None:
        return text, {}
    if braces.end is None:
        build.problems.append(f"line {number}: the YAML data '{{' is never closed")
        return text[:braces.start], {}
    start, end = braces.start, braces.end
    inner = text[start + 1:end]
    source = textwrap.dedent(inner) if inner.lstrip(" \t").startswith("\n") else "{" + inner + "}"
    data = load_yaml(source, number + text[:start].count("\n"), build, "YAML data")
    rest = text[:start] + " " + text[end + 1:]
    if data is None:
        return rest, {}
    if not isinstance(data, dict):
        build.problems.append(f"line {number}: YAML data must be a mapping of keys to values")
        return rest, {}
    ignored = sorted(str(k) for k in data if k not in known)
    if ignored:
        build.warnings.append(f"line {number}: YAML data {', '.join(ignored)} ignored "
                              "(no meaning in a takeoff-graph corpus)")
    return rest, {k: v for k, v in data.items() if k in known}


def load_yaml(source, number, build, what):
    """YAML read with the front matter's loader (:func:`graph.core.frontmatter.parse_front`: hardened,
    dates as text); a problem is reported at its line and gives None."""
    if not source.strip():
        return {}
    try:
        return parse_front(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = number + (mark.line if mark else 0)
        problem = getattr(exc, "problem", None) or exc
        build.problems.append(f"line {line}: bad {what}: {problem}")
        return None


def split_tags(text):
    """``(text without its hashtags, the tags)``: ``#tag`` and ``#(two words)``."""
    tags = []

    def take(match):
        tags.append(match.group(1) or match.group(2))
        return " "

    text = _TAG.sub(take, text)
    return text, [t.strip() for t in tags if t.strip()]


def unescape(text):
    """Argdown's reading of backslash escapes: ``\\X`` is the character X."""
    return _ESCAPED.sub(r"\1", text) if "\\" in text else text


def escape(text):
    """``text`` on one line, as Argdown statement text (after ``[title]: ``) that every Argdown
    tool shows as ``text``: what Argdown would read as syntax escaped with a backslash.

    >>> print(escape("p < 0.0001 in C# (50/50)"))
    p \\< 0.0001 in C\\# (50\\/50)
    """
    text = _SPECIAL.sub(lambda m: "\\" + m.group(), " ".join(text.split()))
    # The official tools resolve @include(...) on the raw text, escaped @ or not.
    return text.replace("include(", "include\\(")


def is_tag(text):
    """Whether ``text`` can be written as ``#text`` and read back the same."""
    return bool(re.fullmatch(r"[\w-]+", text, re.UNICODE))

