"""Changes to perspective files: a new perspective, an override set or unset.

Each change is one corpus transaction (:func:`graph.files.edit.apply_change`): the file is edited
in round-trip mode (comments and order kept), checked, and replaced atomically under the corpus
lock; on any error nothing is written.
"""
from __future__ import annotations

import io
import os

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from graph.core.limits import quote
from graph.core.model import TakeoffError, display_path, unknown_id_message
from graph.files.edit import apply_change
from graph.files.perspectives import (
    PerspectiveError, item_label, parse_perspective, perspective_path, perspective_text,
)
from graph.files.rewrite import round_trip_yaml
from graph.files.validate import is_number


TEMPLATE = """\
# Perspective {name}: overrides of the corpus's credences and edge weights.
#   credences: node id -> credence in [0, 1]
#   weights:   a list of {{source, target, weight in [0, 1], note}} for edges of the corpus
# Edit with `takeoff perspective set {name} ...` or by hand; comments are kept.
description: {description}
"""


def new_perspective(root, name, description=""):
    """Create an empty perspective file ``claims/perspectives/NAME.yaml``.

    Returns
    -------
    pathlib.Path
        The new file.
    """
    path = perspective_path(root, name)
    text = TEMPLATE.format(name=name, description=_yaml_scalar(description))

    def change(corpus):
        if os.path.lexists(path):
            raise TakeoffError(f"{display_path(path)} exists already")
        return {path: text}

    apply_change(root, change, f"perspective new {name}")
    return path


def _yaml_scalar(text):
    """``text`` as a one-line YAML scalar (quoted as needed)."""
    stream = io.StringIO()
    y = round_trip_yaml()
    y.dump({"d": text}, stream)
    return stream.getvalue()[len("d: "):].rstrip("\n")


def set_override(root, name, item, value):
    """Set one override in perspective ``name``: ``item`` is ``("credence", id)`` or
    ``("weight", source, target)``; ``value`` a number in [0, 1].

    The file is edited in round-trip mode (comments and order kept), checked, and replaced
    atomically under the corpus lock; on any error nothing is written.
    """
    _check_value(item, value)

    def edit(data, graph):
        _check_item(graph, item)
        if item[0] == "credence":
            credences = _block_map(data, "credences")
            credences[item[1]] = value
            return
        entries = _block_seq(data, "weights")
        entry = _find_weight(entries, item)
        if entry is None:
            entries.append(CommentedMap(source=item[1], target=item[2], weight=value))
        else:
            entry["weight"] = value

    return _edit(root, name, edit, f"set {item_label(item)}")


def unset_override(root, name, item):
    """Remove one override from perspective ``name`` (see :func:`set_override`)."""

    def edit(data, graph):
        if item[0] == "credence":
            credences = data.get("credences")
            if not isinstance(credences, dict) or item[1] not in credences:
                raise TakeoffError(f"perspective {quote(name)} does not set {item_label(item)}")
            del credences[item[1]]
            return
        entries = data.get("weights")
        entry = _find_weight(entries if isinstance(entries, list) else [], item)
        if entry is None:
            raise TakeoffError(f"perspective {quote(name)} does not set {item_label(item)}")
        entries.remove(entry)

    return _edit(root, name, edit, f"unset {item_label(item)}")


def _check_value(item, value):
    if not is_number(value) or not 0 <= value <= 1:
        raise TakeoffError(f"VALUE: {item[0]} {quote(value)} must be a number in [0, 1]")


def _check_item(graph, item):
    for node in item[1:]:
        if node not in graph:
            raise TakeoffError(unknown_id_message(node, graph))
    if item[0] == "weight" and not graph.has_edge(item[1], item[2]):
        raise TakeoffError(f"the corpus has no edge {item[1]} -> {item[2]}")


def _find_weight(entries, item):
    return next((e for e in entries if isinstance(e, dict) and e.get("source") == item[1]
                 and e.get("target") == item[2]), None)


def _block_map(data, key):
    if not isinstance(data.get(key), CommentedMap) or not data[key]:
        data[key] = CommentedMap()  # block style even if the file had `key: {}`
    return data[key]


def _block_seq(data, key):
    if not isinstance(data.get(key), CommentedSeq) or not data[key]:
        data[key] = CommentedSeq()
    return data[key]


def _edit(root, name, edit, action):
    """Read, edit in round-trip mode and rewrite a perspective file as a corpus transaction
    (:func:`graph.files.edit.apply_change`): refused, nothing written, if the result has an error
    the corpus did not have before, so a file broken by a corpus change can still be mended
    an override at a time."""
    path = perspective_path(root, name)

    def change(corpus):
        if not path.is_file():
            raise TakeoffError(f"no perspective {quote(name)} (create it with "
                               f"`takeoff perspective new {name}`)")
        text = perspective_text(root, path)
        perspective, problems = parse_perspective(text, path, corpus.graph)
        if perspective is None:  # not YAML within the limits, or not a mapping: nothing to edit
            raise PerspectiveError(problems, f"{action} refused, nothing was written")
        data = round_trip_yaml().load(text)
        if data is None:
            data = CommentedMap()
        edit(data, corpus.graph)
        stream = io.StringIO()
        round_trip_yaml().dump(data, stream)
        return {path: stream.getvalue()}

    apply_change(root, change, action)
    return path
