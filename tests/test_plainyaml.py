"""The fast path of the front-matter loader (graph/core/plainyaml.py) gives exactly what
PyYAML's loader gives, or leaves the text to it: held to PyYAML on generated documents made of
the pieces front matter is written in, tricky scalars among them, and on every bundled file."""
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.core.frontmatter import _Loader, parse_front
from graph.core.model import split_front_matter
from graph.core.plainyaml import DEFER, plain_loader

ROOT = Path(__file__).resolve().parent.parent
plain = plain_loader(_Loader.yaml_implicit_resolvers)


def pyyaml(text):
    """PyYAML's value of ``text`` with the front matter's loader, or the exception class."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        return type(exc)


def same(a, b):
    """Equal, with the same types all the way down (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b and (not isinstance(a, float) or str(a) == str(b))


def agrees(text):
    fast = plain(text)
    if fast is DEFER:
        return True
    slow = pyyaml(text)
    assert same(fast, slow), (text, fast, slow)
    return False


# Scalars that resolve to every type, in every form YAML 1.1 knows, and texts that look like
# something else: what a resolver or a hand-written reader gets wrong.
SCALARS = ["claim", "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "Null", "~",
           "NULL", "0", "-0", "+0", "007", "0o17", "0x1F", "0b101", "1_000", "190:20:30", "12",
           "-12", "+12", "1" * 101, "1.5", "-1.5", "+.5", ".5", "-.5", "1.", "1e5", "1E-05",
           "1.5e+3", "-.5e3", "0.1_5", ".inf", "-.Inf", ".nan", "2024-05-01", "2024-05",
           "2024-05-01 10:00:00", "1:20", "a:b", "a: b", "a:", "https://example.org/x?a=1#f",
           "a #comment", "a#b", "#x", "- a", "-a", "? a", ":a", "a ? b", "=", "<<", "<a",
           "&anchor a", "*alias", "!!str 5", "!tag x", "|", ">", "%x", "@x", "`x", "[a, b]",
           "[]", "[a, [b]]", "[a,]", "[yes, 1, 1.5, ~]", "{a: 1}", "{mean: 0.5, spread: 0.1}",
           "{a: 1, a: 2}", "{}", "{a: b: c}", "'single'", "'it''s'", "'a' b", "'unclosed",
           '"double"', '"esc \\" \\\\"', '"\\n"', '"\\x41"', '"unclosed', '"a" # c', "'a' #c",
           "a  b", "Café au lait", "ünïcode", "a\u2028b", "a\x85b", "a\tb", "a\ufeffb",
           "\u00a0x", "a\x7fb", "x " * 3, "(parenthesised)", "./relative", "+", "-", ".",
           "...", "---", "a ,b", "a, b", "]", "}", ",", "a]", "'", '"']
KEYS = ["kind", "title", "credence", "supports", "target", "weight", "note", "tags", "yes",
        "on", "null", "1", "a b", "evidence_kind", "from", "quote", "k-1", "_x", "title"]


# What node files hold: the fast path reads documents made of these.
PLAIN = ["claim", "yes", "off", "null", "~", "0", "-12", "1.5", ".5", "1e5", "2024-05-01",
         "2024-05", "https://example.org/x?a=1#f", "a#b", "-a", "a ? b", "'it''s'", '"a \\" b"',
         "[a, b]", "[]", "[yes, 1, 1.5, null]", "{mean: 0.5, spread: 0.1}", "a  b", "Café", "1.",
         "x # comment", "(a)"]
PLAIN_KEYS = ["kind", "title", "credence", "supports", "target", "weight", "note", "tags",
              "evidence_kind", "from", "quote", "k-1", "_x", "url", "date", "low", "high"]


@st.composite
def documents(draw, depth=0, scalars=SCALARS, keys=KEYS, clean=False):
    """Front matter built from lines: mappings, block and indentless sequences, flow lists,
    comments, blank lines, odd indentation, in any mix. ``clean``: only what a well-formed
    file holds (distinct keys, aligned items, no stray line)."""
    lines, used = [], set()
    indent = draw(st.sampled_from(["", "", "", " ", "  "]))

    def a_key():
        key = draw(st.sampled_from([k for k in keys if k not in used] if clean else keys))
        used.add(key)
        return key

    for _ in range(draw(st.integers(1, 5 if not clean else min(5, len(keys) - 1)))):
        key = a_key()
        shape = draw(st.sampled_from(["scalar", "scalar", "scalar", "empty", "block", "indentless",
                                      "nested", "comment", "blank"]))
        if shape == "scalar":
            gap = draw(st.sampled_from([" ", "  "] if clean else [" ", "  ", ""]))
            lines.append(f"{indent}{key}:{gap}"
                         f"{draw(st.sampled_from(scalars))}{draw(st.sampled_from(['', ' ', ' # c']))}")
        elif shape == "empty":
            lines.append(f"{indent}{key}:")
        elif shape in ("block", "indentless"):
            lines.append(f"{indent}{key}:")
            dash = indent + ("" if shape == "indentless" else draw(st.sampled_from(["  ", "    ", " "])))
            for _ in range(draw(st.integers(0, 3))):
                if draw(st.booleans()):
                    lines.append(f"{dash}- {draw(st.sampled_from(scalars))}")
                else:
                    gap = draw(st.sampled_from([" ", "   "]))
                    lines.append(f"{dash}-{gap}target: {draw(st.sampled_from(scalars))}")
                    inner = dash + " " * (1 + len(gap))
                    if not clean:
                        inner += draw(st.sampled_from(["", "", "", " "]))
                    names = [k for k in keys if k != "target"]
                    for name in draw(st.lists(st.sampled_from(names), max_size=2,
                                              unique=clean)):
                        lines.append(f"{inner}{name}: {draw(st.sampled_from(scalars))}")
        elif shape == "nested" and depth < 2:
            lines.append(f"{indent}{key}:")
            child = draw(documents(depth + 1, scalars, keys, clean))
            pad = indent + draw(st.sampled_from(["  ", "    ", " "]))
            lines += [pad + line if line.strip() else line for line in child.split("\n")]
        elif shape == "comment":
            lines.append(f"{draw(st.sampled_from(['', '  ']))}# a comment: with [brackets]")
        else:
            lines.append(draw(st.sampled_from(["", "   "])))
    if not clean and draw(st.integers(0, 9)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(
            ["---", "...", "%YAML 1.1", "- stray", "  continued text", "\tkind: x", "kind: x\r"])))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=600, deadline=None)
@given(documents())
def test_the_fast_path_gives_what_pyyaml_gives_or_defers(text):
    agrees(text)


@settings(max_examples=1000, deadline=None)
@given(documents(scalars=PLAIN, keys=PLAIN_KEYS, clean=True))
def test_documents_written_like_node_files_take_the_fast_path(text):
    assert not agrees(text), text


@pytest.mark.parametrize("value", SCALARS)
@pytest.mark.parametrize("where", ["key: {}", "- {}", "a:\n  - {}", "a:\n- x: {}\n  y: 1",
                                   "tags: [{}]"])
def test_each_scalar_in_each_place(where, value):
    agrees(where.format(value))


def test_every_bundled_file_is_read_by_the_fast_path_as_pyyaml_reads_it():
    deferred = []
    files = sorted((ROOT / "claims").rglob("*.md"))
    for path in files:
        front, _ = split_front_matter(path.read_text(encoding="utf-8"))
        if agrees(front):
            deferred.append(path.name)
    assert len(files) > 50 and deferred == [], deferred


def test_what_the_fast_path_reads():
    """The shapes node files are written in are read without PyYAML."""
    text = ("kind: evidence\ntitle: \"METR: tasks \\\"double\\\"\"  # a comment\ncredence: {mean: 0.9, spread: 0.05}\n"
            "date: 2025-03\ntags: [agents, yes, 1.5]\nsources:\n  - url: https://metr.org/a?b=1#c\n"
            "    title: 'It''s long'\nsupports:\n- target: x\n  weight: 0.5\n  note:\n"
            "undermines:\n  -   target: y\n      weight:\n        low: 0.2\n        high: 0.4\n")
    value = plain(text)
    assert value is not DEFER and same(value, pyyaml(text))
    assert value["date"] == "2025-03" and value["tags"] == ["agents", True, 1.5]
    assert value["undermines"][0]["weight"] == {"low": 0.2, "high": 0.4}


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x", "a: 1\na: 2", "a: 1\na: 1", "a:\n- b: 1\n  b: 1", "a: !!int 5", "a: " + "9" * 101, "a: [" * 70 + "]" * 70,
    "a: |\n  text", "a: b\n  continued", "a: \"\\u0041\"",
])
def test_limits_and_errors_stay_pyyamls(text):
    """What the subset leaves to PyYAML still meets the limits (graph.core.limits), by the
    same loader, with PyYAML's line."""
    assert plain(text) is DEFER
    try:
        expected = ("value", yaml.load(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        expected = ("error", str(exc))
    try:
        got = ("value", parse_front(text))
    except yaml.YAMLError as exc:
        got = ("error", str(exc))
    if text.startswith("a: [") or "&x" in text:
        assert got[0] == "error"    # the limits of parse_front refuse it before PyYAML runs
    else:
        assert got == expected


def _split_by_search(text):
    """split_front_matter's rule spelled as one regular-expression search (the reference)."""
    import re

    if not text.startswith(("---\n", "---\r\n")):
        return None, text
    start = text.index("\n") + 1
    match = re.compile(r"^---[ \t]*\r?$", re.M).search(text, start)
    if match is None:
        return None, text
    end = text.find("\n", match.end())
    return text[start:match.start()], "" if end < 0 else text[end + 1:]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["---", "--- ", "---\t", "---\r", "----", "-- -", " ---", "x---",
                                 "kind: claim", "", "a: b", "---x", "...", "\r"]),
                max_size=8), st.sampled_from(["", "\n"]), st.sampled_from(["---", "---\r"]))
def test_front_matter_ends_at_the_first_closing_marker_line(lines, end, opening):
    text = "\n".join([opening, *lines]) + end
    assert split_front_matter(text) == _split_by_search(text)
