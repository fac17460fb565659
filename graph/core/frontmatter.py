"""The one YAML loader for front matter (:func:`parse_front`), bounded: PyYAML's C loader
with its limits checked first, so that no text can exhaust memory or the stack.

- anchors and aliases are refused (a corpus has no use for them, and an alias chain expands
  exponentially: "billion laughs"); so are duplicate keys, which YAML readers resolve
  differently (PyYAML keeps the last, ruamel.yaml refuses);
- nesting is at most :data:`graph.core.limits.MAX_DEPTH` levels (libyaml's composer recurses
  in C and crashes the interpreter at about 20,000), counted on the flow brackets before
  libyaml's scanner sees them, so the message is ours on every PyYAML version;
- a number literal has at most :data:`graph.core.limits.MAX_NUMBER_CHARS` characters, and a
  value an explicit tag cannot take (``!!int 1.5``) is a YAML error at its line.

Problems raise :class:`YAMLLimitError`, a ``yaml.MarkedYAMLError``, so callers that report YAML
errors with their line report these too. (Apart from graph.core.model, which holds no YAML, so
that what only lists files, a Tab among them, never imports PyYAML.)
"""
from __future__ import annotations

import re

import yaml

from graph.core.limits import MAX_DEPTH, MAX_NUMBER_CHARS, InputError, check_depth, quote
from graph.core.plainyaml import DEFER, plain_loader


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


@harden
class _Loader(yaml.CSafeLoader):
    """The C loader without implicit timestamps: dates stay text so that a bad one becomes a
    validation problem with a line number rather than an exception from the YAML library.
    Long numbers and duplicate keys are refused (:func:`harden`)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.1 wants a dot in a float's mantissa; ruamel.yaml writes 1e-05 without one.
_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"),
                              list("-+0123456789."))


_plain = plain_loader(_Loader.yaml_implicit_resolvers)


def parse_front(front):
    """Parse front-matter text (raises ``yaml.YAMLError``).

    The plain subset nearly every file is written in is read by
    :func:`graph.core.plainyaml.plain_loader`, which gives exactly what the loader gives; the
    rest by PyYAML's C loader. Anchors, aliases, deep nesting, long numbers and duplicate keys
    raise :class:`YAMLLimitError` before anything is expanded.
    """
    value = _plain(front)
    if value is not DEFER:
        return value
    if might_break_yaml_limits(front):
        check_yaml_events(front)
    return yaml.load(front, Loader=_Loader)


def parse_front_marked(front):
    """``(value, node)``: what :func:`parse_front` gives, and the YAML node tree it was built
    from (whose marks give each key's and value's line), in one parse."""
    if might_break_yaml_limits(front):
        check_yaml_events(front)
    loader = _Loader(front)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def compose_front(front):
    """The YAML node tree of front-matter text, by the same loader as :func:`parse_front`
    (the validator reads line numbers from it)."""
    return yaml.compose(front, Loader=_Loader)


