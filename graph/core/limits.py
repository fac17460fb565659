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

Problems raise :class:`InputError` (with a line) or, inside a YAML loader, :class:`YAMLLimitError`
(a ``MarkedYAMLError``, so callers that report YAML errors with their line report these too).
"""
from __future__ import annotations

import codecs
import json
import re
import reprlib

import yaml

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
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            raise InputError(1, f"the file is {name} text (it starts with a {name} byte-order "
                                "mark); takeoff reads UTF-8: convert it, e.g. with "
                                f"`iconv -f {name} -t UTF-8`")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column "
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


# ---- YAML ------------------------------------------------------------------------------------

class YAMLLimitError(yaml.MarkedYAMLError):
    """A YAML text that breaks a limit; ``problem_mark`` is where."""

    def __init__(self, problem, mark):
        super().__init__(problem=problem, problem_mark=mark)


_COLLECTION_START = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_COLLECTION_END = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def might_break_yaml_limits(text):
    """A cheap test that is False for most texts that keep the limits: every level of nesting
    needs its own ``[``, ``{``, ``-``, ``:`` or ``?``, and anchors and aliases need ``&``/``*``."""
    openers = (text.count("[") + text.count("{") + text.count("-") + text.count(":")
               + text.count("?"))
    return openers > MAX_DEPTH or "&" in text or "*" in text


def check_yaml_events(text, loader=yaml.CSafeLoader):
    """Refuse anchors, aliases and nesting deeper than :data:`MAX_DEPTH` in YAML ``text``.

    Works on the event stream, which libyaml produces without recursion and without expanding
    anything, so it is safe on any input. Raises :class:`YAMLLimitError`, or the parser's own
    ``yaml.YAMLError`` for a syntax error met on the way.
    """
    _check_flow_depth(text)
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            raise YAMLLimitError("YAML aliases (*name) are not allowed in takeoff files: write "
                                 "the value out", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise YAMLLimitError("YAML anchors (&name) are not allowed in takeoff files: write "
                                 "the value out", event.start_mark)
        if isinstance(event, _COLLECTION_START):
            depth += 1
            if depth > MAX_DEPTH:
                raise YAMLLimitError(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        elif isinstance(event, _COLLECTION_END):
            depth -= 1


# Flow brackets outside quoted strings and comments. libyaml's scanner reads a flow collection
# ahead of the parser, and since PyYAML 6.0.4 it has a nesting limit of its own, met before the
# event stream reaches ours: counting the brackets first keeps the message ours on every version.
# A quote opens a string only where YAML lets one start (an apostrophe inside a plain scalar,
# as in "Davidson's", does not).
_YAML_FLOW_TOKEN = re.compile(r"(?:^|(?<=[\s\[{,:]))(?:'(?:[^']|'')*'?|\"(?:[^\"\\]|\\.)*\"?)"
                              r"|(?:^|(?<=\s))#[^\n]*|[\[{]|[\]}]", re.MULTILINE)


def _check_flow_depth(text):
    try:
        check_depth(text, _YAML_FLOW_TOKEN, "[{", "]}")
    except InputError as exc:
        index = _nth_line_start(text, exc.line)
        raise YAMLLimitError(exc.message, yaml.Mark("<unicode string>", index, exc.line - 1, 0,
                                                    None, None)) from None


def _nth_line_start(text, line):
    index = 0
    for _ in range(line - 1):
        index = text.index("\n", index) + 1
    return index


def _bounded_number(constructor):
    def construct(loader, node):
        if len(node.value) > MAX_NUMBER_CHARS:
            raise YAMLLimitError(f"a number of {len(node.value)} characters (at most "
                                 f"{MAX_NUMBER_CHARS})", node.start_mark)
        return constructor(loader, node)
    return _marked(construct)


def _marked(constructor):
    """``constructor`` raising a YAML error at the node for a value its tag cannot take.

    PyYAML's scalar constructors trust the resolver: an explicit tag (``!!int 1.5``,
    ``!!bool x``, ``!!timestamp x``) reaches them with any text and ends in a ValueError,
    KeyError, IndexError or AttributeError instead of a ``yaml.YAMLError``."""
    def construct(loader, node):
        try:
            return constructor(loader, node)
        except (ValueError, KeyError, IndexError, AttributeError, TypeError):
            tag = node.tag.rsplit(":", 1)[-1]
            raise YAMLLimitError(f"{quote(node.value)} is not a valid !!{tag}",
                                 node.start_mark) from None
    return construct


def _mapping_without_duplicates(loader, node, deep=False):
    mapping = yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep)
    if len(mapping) != len(node.value):  # merge keys also change the count: look closer
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                continue  # unhashable keys are refused by the constructor itself
            if key in seen:
                raise YAMLLimitError(f"duplicate key {quote(key)}: a key may appear only once "
                                     "in a mapping", key_node.start_mark)
            seen.add(key)
    return mapping


def harden(loader):
    """Make a PyYAML loader class refuse long numbers and duplicate keys (returns it)."""
    loader.add_constructor("tag:yaml.org,2002:int",
                           _bounded_number(yaml.constructor.SafeConstructor.construct_yaml_int))
    loader.add_constructor("tag:yaml.org,2002:float",
                           _bounded_number(yaml.constructor.SafeConstructor.construct_yaml_float))
    for tag in ("bool", "timestamp"):
        loader.add_constructor(f"tag:yaml.org,2002:{tag}", _marked(
            getattr(yaml.constructor.SafeConstructor, f"construct_yaml_{tag}")))
    loader.construct_mapping = _mapping_without_duplicates
    return loader


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
