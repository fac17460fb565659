"""Bounds on the work one input can cause, and one way to read text and quote values.

Every file takeoff reads (node files, perspectives, imports) may be hostile or broken. Before a
parser expands or recurses over it, the text is checked against these limits, and a value
quoted in a message is cut to :data:`MAX_QUOTE` characters, so a bad input costs milliseconds
and a message of one line, never a traceback, a crash of the YAML library or minutes of work:

- text is UTF-8 (a UTF-8 byte-order mark is skipped; UTF-16 and UTF-32 are named and refused);
- YAML anchors and aliases are refused (a corpus has no use for them, and an alias chain
  expands exponentially: "billion laughs"); so are duplicate keys, which YAML readers resolve
  differently (PyYAML keeps the last, ruamel.yaml refuses);
- YAML, JSON and Turtle nest at most :data:`MAX_DEPTH` levels (libyaml's composer recurses in C
  and crashes the interpreter at about 20,000);
- a number literal has at most :data:`MAX_NUMBER_CHARS` characters (Python refuses to convert
  an int of more than 4,300 digits, with a ValueError deep inside the parser).

Problems raise :class:`InputError` (with a line). The YAML limits are applied by the YAML
loader, :mod:`graph.core.frontmatter`, which raises its own ``YAMLLimitError`` (a
``MarkedYAMLError``, so callers that report YAML errors with their line report these too); this
module imports no YAML library.
"""
from __future__ import annotations

import codecs
import re
import reprlib

MAX_QUOTE = 80
MAX_NUMBER_CHARS = 100
MAX_DEPTH = 64


class InputError(ValueError):
    """Input that breaks a limit or is not text; ``line`` is 1-based, 0 if unknown."""

    def __init__(self, line, message):
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message


# ---- quoting ---------------------------------------------------------------------------------

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = MAX_QUOTE
_repr.maxlevel, _repr.maxlist, _repr.maxdict = 2, 4, 4


def quote(value, limit=MAX_QUOTE):
    """``repr(value)`` for a message, at most about ``limit`` characters.

    A long string keeps its start and says how long it was; containers show their first items.

    >>> quote("x" * 1000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... (1000 characters)"
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit - 2]!r}... ({len(value)} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    text = _repr.repr(value)
    return text if len(text) <= limit + 20 else text[:limit] + "..."


# ---- text ------------------------------------------------------------------------------------

_OTHER_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
               (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def decode_text(data):
    """The text of UTF-8 ``data`` (bytes), with a byte-order mark skipped and line ends as
    ``\\n`` (as Python's text mode reads them); anything else raises :class:`InputError`."""
    if data[:1] in (b"\xff", b"\xfe", b"\x00"):   # how every other byte-order mark starts
        for bom, name in _OTHER_BOMS:
            if data.startswith(bom):
                raise InputError(1, f"the file is {name} text (it starts with a {name} "
                                    "byte-order mark); takeoff reads UTF-8: convert it, e.g. "
                                    f"with `iconv -f {name} -t UTF-8`")
    body = data[3:] if data[:3] == codecs.BOM_UTF8 else data   # as "utf-8-sig" reads it,
    try:                                                          # at a tenth of its cost
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        column = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(line, f"not UTF-8 text (byte 0x{body[exc.start]:02x} at column "
                               f"{column}); save the file as UTF-8") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def check_text_arg(value):
    """``value`` if it can be written as UTF-8, else the reason it cannot (a command-line
    argument with bytes that are not UTF-8 arrives with surrogate escapes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        byte = f"byte 0x{ord(bad) - 0xdc00:02x}" if 0xdc80 <= ord(bad) <= 0xdcff else quote(bad)
        raise InputError(0, f"not UTF-8 text ({byte} at character {exc.start + 1})") from None
    return value


# ---- JSON and Turtle -------------------------------------------------------------------------

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[{]|[\]}]')


def _line_of(text, index):
    return text.count("\n", 0, index) + 1


def check_depth(text, token, opening, closing):
    """Raise :class:`InputError` at the first bracket of ``text`` that opens level
    ``MAX_DEPTH + 1``; ``token`` matches brackets and what may hold them unmatched (strings)."""
    if sum(text.count(c) for c in opening) <= MAX_DEPTH:
        return
    depth = 0
    for match in token.finditer(text):
        char = match.group()
        if char in opening:
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(_line_of(text, match.start()),
                                 f"nested deeper than {MAX_DEPTH} levels")
        elif char in closing:
            depth -= 1


def load_json(text):
    """Parse JSON ``text`` with nesting and number length bounded; every problem raises
    :class:`InputError` with its line (``not valid JSON: ...`` for a syntax error)."""
    import json  # here, not at the top: a Tab imports this module and reads no JSON

    check_depth(text, _JSON_TOKEN, "[{", "]}")

    def number(kind):
        def parse(literal):
            if len(literal) > MAX_NUMBER_CHARS:
                raise InputError(_line_of(text, text.find(literal)),
                                 f"a number of {len(literal)} characters (at most {MAX_NUMBER_CHARS})")
            return kind(literal)
        return parse

    try:
        return json.loads(text, parse_int=number(int), parse_float=number(float))
    except json.JSONDecodeError as exc:
        raise InputError(exc.lineno, f"not valid JSON: {exc.msg}") from None


# Turtle and N-Triples: long and short strings, IRIs and comments are skipped; blank node
# property lists and collections nest; digits outside them are numbers.
_TURTLE_TOKEN = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*(?:""")?|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*(?:\'\'\')?'
                           r'|"(?:[^"\\\n]|\\.)*"?|\'(?:[^\'\\\n]|\\.)*\'?|<[^>\s]*>?|#[^\n]*'
                           r'|[\[(]|[\])]|(?<![\w:-])[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?')
_LONG_DIGITS = re.compile(r"[0-9]{%d}" % (MAX_NUMBER_CHARS + 1))


def check_turtle(text):
    """Refuse Turtle or N-Triples nested deeper than :data:`MAX_DEPTH` levels, or with an integer
    of more than :data:`MAX_NUMBER_CHARS` digits, before a parser recurses over it or converts
    it. (Decimals may be longer: ``xsd:decimal`` writes 5e-324 with 324 digits, and they are
    read in linear time.)"""
    check_depth(text, _TURTLE_TOKEN, "[(", "])")
    if _LONG_DIGITS.search(text) is None:
        return
    for match in _TURTLE_TOKEN.finditer(text):
        digits = match.group().lstrip("+-")
        if digits.isdigit() and len(digits) > MAX_NUMBER_CHARS:
            raise InputError(_line_of(text, match.start()), f"an integer of {len(digits)} "
                                                            f"digits (at most {MAX_NUMBER_CHARS})")


# ---- TOML (takeoff.toml) ---------------------------------------------------------------------

# Strings (multi-line first), comments and brackets; tomllib recurses once per nested array or
# inline table and ends in RecursionError at about 1,000.
_TOML_TOKEN = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*(?:""")?|\'\'\'(?:[^\']|\'(?!\'\'))*(?:\'\'\')?'
                         r'|"(?:[^"\\\n]|\\.)*"?|\'[^\'\n]*\'?|#[^\n]*|[\[{]|[\]}]')


def check_toml(text):
    """Refuse TOML ``text`` nested deeper than :data:`MAX_DEPTH` levels (arrays and inline
    tables) before ``tomllib`` recurses over it; raises :class:`InputError`. (An integer too
    long for Python is a ValueError of ``tomllib``, which the caller reports.)"""
    check_depth(text, _TOML_TOKEN, "[{", "]}")
