"""Rewriting YAML in place: ruamel.yaml in round-trip mode, the one way the tool edits a node
file's front matter or a perspective file so that comments, order and quoting are kept.

Reading for meaning always goes through :func:`graph.core.frontmatter.parse_front` (the bounded
loader) first; ruamel.yaml only ever sees text that passed it.
"""
from __future__ import annotations

import io

import yaml

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from graph.core.model import MonthDate, TakeoffError, split_front_matter
from graph.core.frontmatter import parse_front


def round_trip_yaml():
    """ruamel.yaml set up the way every edited file is written (comments and order kept)."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never fold long titles or notes onto a second line
    # A month-precision date is written as its text (YYYY-MM), which reads back as one.
    y.representer.add_representer(
        MonthDate, lambda rep, value: rep.represent_str(value.isoformat()))
    return y


def load_rt(text):
    """Front matter as a round-trip mapping, and the body, of a node file's text."""
    front, body = split_front_matter(text)
    if front is None:
        raise TakeoffError("the file has no YAML front matter")
    try:  # the one loader's limits first: ruamel.yaml only sees text that passed them
        parse_front(front)
    except yaml.YAMLError as exc:
        raise TakeoffError(f"the front matter is not valid YAML: {str(exc).splitlines()[0]}") from None
    data = round_trip_yaml().load(front)
    return (data if data is not None else CommentedMap()), body


def dump_rt(data, body):
    """The text of a node file from its front-matter mapping and body."""
    stream = io.StringIO()
    round_trip_yaml().dump(data, stream)
    return f"---\n{stream.getvalue()}---\n{body}"
