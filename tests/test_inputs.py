"""Hostile and broken inputs: every one gets ``path:line: message`` (or a usage error naming
the argument), a non-zero exit, no traceback, bounded time, and leaves the corpus untouched."""
import json
import re
import time

import pytest

from helpers import snapshot, write_node
from graph.formats.interchange import IMPORTABLE
from graph.core.limits import MAX_DEPTH, MAX_NUMBER_CHARS, MAX_QUOTE, quote

BIG = "1" * 5000  # over Python's 4,300-digit limit for int("...")
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
NODE = "---\nkind: claim\ntitle: X\n{extra}---\n"


def no_traceback(result):
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def checked(run, corpus, *args):
    """Run a command that must fail cleanly; returns its output."""
    before = snapshot(corpus)
    start = time.perf_counter()
    result = run(corpus, *args)
    assert time.perf_counter() - start < 10
    no_traceback(result)
    assert result.exit_code == 1, result.output
    assert snapshot(corpus) == before
    return result.output


# ---- node files -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, data, message", [
    ("not-utf8", b"---\nkind: claim\ntitle: \xff\n---\n", "x.md:3: not UTF-8 text (byte 0xff at column 8)"),
    # After a UTF-8 byte-order mark the place is still counted in the file's own lines.
    ("bom-not-utf8", b"\xef\xbb\xbf---\nkind: claim\ntitle: \xff\n---\n",
     "x.md:3: not UTF-8 text (byte 0xff at column 8)"),
    ("utf16", NODE.format(extra="").encode("utf-16"), "x.md:1: the file is UTF-16 text"),
    ("utf32", NODE.format(extra="").encode("utf-32"), "x.md:1: the file is UTF-32 text"),
    ("billion-laughs", ("---\n" + LAUGHS + "kind: claim\ntitle: *j\n---\n").encode(),
     "x.md:2: bad YAML: YAML anchors (&name) are not allowed"),
    ("alias", b"---\nkind: claim\ntitle: X\ntags: *t\n---\n", "x.md:4: bad YAML: YAML aliases"),
    ("big-int", NODE.format(extra=f"credence: {BIG}\n").encode(),
     f"x.md:4: bad YAML: a number of 5000 characters (at most {MAX_NUMBER_CHARS})"),
    ("big-float", NODE.format(extra=f"credence: 0.{BIG}\n").encode(), "x.md:4: bad YAML: a number of 5002"),
    ("duplicate-key", b"---\nkind: claim\ntitle: X\ntitle: Y\n---\n", "x.md:4: bad YAML: duplicate key 'title'"),
    ("duplicate-nested", b"---\nkind: claim\ntitle: X\nsupports:\n  - target: m1\n    target: m1\n---\n",
     "x.md:6: bad YAML: duplicate key 'target'"),
    ("deep-flow", NODE.format(extra="tags: " + "[" * 100_000 + "]" * 100_000 + "\n").encode(),
     f"x.md:4: bad YAML: nested deeper than {MAX_DEPTH} levels"),
    ("deep-compact", NODE.format(extra="tags:\n" + "- " * 50_000 + "x\n").encode(),
     "x.md:5: bad YAML: nested deeper than"),
    ("deep-block", NODE.format(extra="tags:\n" + "".join(" " * i + "-\n" for i in range(1, 200))).encode(),
     "bad YAML: nested deeper than"),
])
def test_bad_node_file_is_an_error_with_its_line(small_corpus, run, name, data, message):
    (small_corpus / "x.md").write_bytes(data)
    output = checked(run, small_corpus, "check")
    assert message in output
    assert len(max(output.splitlines(), key=len)) < 400


def test_a_utf8_byte_order_mark_is_accepted_and_crlf_too(small_corpus, run):
    (small_corpus / "x.md").write_bytes(b"\xef\xbb\xbf" + NODE.format(extra="").replace("\n", "\r\n").encode())
    result = run(small_corpus, "check")
    assert result.exit_code == 0, result.output
    result = run(small_corpus, "set", "x", "credence", "0.3")
    assert result.exit_code == 0, result.output
    assert (small_corpus / "x.md").read_bytes().startswith(b"---\nkind: claim\n")


def test_a_long_bad_value_is_quoted_short(small_corpus, run):
    write_node(small_corpus, "x", "---\nkind: " + "k" * 100_000 + "\ntitle: X\n---\n")
    output = checked(run, small_corpus, "check")
    line = next(line for line in output.splitlines() if "unknown kind" in line)
    message = line.split(": ", 1)[1]
    assert "(100000 characters)" in message and len(message) < MAX_QUOTE + 80


def test_quote_is_bounded_for_any_value():
    assert quote("abc") == "'abc'"
    assert len(quote("x" * 10**6)) < MAX_QUOTE + 30
    assert len(quote(list(range(10**5)))) <= MAX_QUOTE + 20
    assert "digits" in quote(10**5000)
    assert len(quote({"a": [[[[[1]]]]]} )) < MAX_QUOTE + 20


@pytest.mark.parametrize("args", [("set", "x", "credence", "0.3"), ("link", "x", "m1", "--supports"),
                                  ("unlink", "x", "m1"), ("rm", "x")])
def test_commands_on_a_node_with_duplicate_keys_say_why(small_corpus, run, args):
    write_node(small_corpus, "x", "---\nkind: claim\ntitle: X\ntitle: Y\nsupports: [m1]\n---\n")
    output = checked(run, small_corpus, *args)
    assert "'x' cannot be used until its file is fixed" in output
    assert "x.md:4: bad YAML: duplicate key 'title'" in output


def test_rm_force_beside_a_file_with_duplicate_keys(small_corpus, run):
    write_node(small_corpus, "x", "---\nkind: claim\ntitle: X\ntitle: Y\nsupports: [c2]\n---\n")
    result = run(small_corpus, "rm", "c1", "--force")
    no_traceback(result)
    assert result.exit_code == 0, result.output


# ---- perspectives ---------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    (b"description: \xff\n", "p.yaml:1: not UTF-8 text (byte 0xff at column 14)"),
    ("description: x\n".encode("utf-16"), "p.yaml:1: the file is UTF-16 text"),
    ((LAUGHS + "description: *j\n").encode(), "p.yaml:1: bad YAML: YAML anchors"),
    (f"credences:\n  c1: {BIG}\n".encode(), "p.yaml:2: bad YAML: a number of 5000 characters"),
    (b"description: a\ndescription: b\n", "p.yaml:2: bad YAML: duplicate key 'description'"),
    (("credences: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n").encode(), "p.yaml:1: bad YAML: nested deeper"),
])
def test_bad_perspective_file_is_an_error_with_its_line(small_corpus, run, data, message):
    (small_corpus / "perspectives").mkdir()
    (small_corpus / "perspectives" / "p.yaml").write_bytes(data)
    for args in (("check",), ("score", "--perspective", "p"), ("perspective", "show", "p"),
                 ("perspective", "set", "p", "c1", "credence", "0.5")):
        assert message in checked(run, small_corpus, *args)


# ---- imports --------------------------------------------------------------------------------

def node_link(nodes, edges=()):
    return json.dumps({"nodes": nodes, "edges": list(edges)})


A = {"id": "a1", "kind": "claim", "title": "A"}
B = {"id": "b1", "kind": "claim", "title": "B"}
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("fmt, text, message", [
    ("node-link", node_link([{**A, "kind": ["claim"]}]), "nodes[0]: unknown kind ['claim']"),
    ("node-link", node_link([{**A, "sources": [1]}]), "nodes[0]: a source needs a url (or, without one, a title): 1"),
    ("node-link", node_link([{**A, "tags": "abc"}]), "nodes[0]: tags must be a list of text"),
    ("node-link", node_link([{**A, "body": 5}]), "nodes[0]: body must be text"),
    ("node-link", node_link([{**A, "sources": [{"url": "https://e.org", "title": 7}]}]),
     "nodes[0]: a source's title must be text"),
    ("node-link", node_link([A, B], [{"source": "a1", "target": "b1"}]),
     "edges[0]: the edge a1 -> b1 has no 'relation'"),
    ("node-link", node_link([A, B], [{"source": "a1", "target": "b1", "relation": "likes"}]),
     "edges[0]: the edge a1 -> b1 has the relation 'likes'"),
    ("node-link", node_link([A, B], [{"source": "a1", "target": "b1", "relation": "supports"}] * 2),
     "edges[1]: a second supports edge from 'a1' to 'b1'"),
    ("node-link", node_link([A, A]), "nodes[1]: id 'a1' is used by another node too"),
    ("node-link", node_link([{"id": "a1", "kind": "claim"}]), "nodes[0]: node 'a1' needs a text 'title'"),
    ("node-link", node_link([A], [{"source": "m1", "target": "a1", "relation": "supports"}]),
     "edges from nodes the file does not define: m1 -> a1"),
    ("node-link", NESTED, f"line 1: nested deeper than {MAX_DEPTH} levels"),
    ("node-link", '{"nodes": [{"id": "a1", "kind": "claim", "title": "A", "credence": ' + BIG + "}]}",
     "line 1: a number of 5000 characters"),
    ("aif", '{"nodes": [{"nodeID": ' + BIG + ', "type": "I", "text": "x"}], "edges": []}',
     "line 1: a number of 5000 characters"),
    ("aif", NESTED, "line 1: nested deeper than"),
    ("jsonld", '{"@id": "x", "http://e.org/p": ' + BIG + "}", "line 1: a number of 5000 characters"),
    ("jsonld", NESTED, "line 1: nested deeper than"),
    ("turtle", "@prefix : <http://e.org/> .\n:a :p " + "[ :p " * 20_000 + "1" + " ]" * 20_000 + " .\n",
     "line 2: nested deeper than"),
    ("turtle", "@prefix : <http://e.org/> .\n:a :p " + "( " * 20_000 + ")" * 20_000 + " .\n",
     "line 2: nested deeper than"),
    ("turtle", "@prefix : <http://e.org/> .\n:a :p " + BIG + " .\n", "line 2: an integer of 5000 digits"),
    ("nt", "<http://e.org/a> <http://e.org/p> " + BIG + " .\n", "line 1: an integer of 5000 digits"),
    ("argdown", "[a]: A {credence: " + BIG + "}\n", "line 1: bad YAML data: a number of 5000"),
    ("argdown", "[a]: A {x: " + NESTED + "}\n", "line 1: bad YAML data: nested deeper than"),
    ("argdown", "[a]: A {" + LAUGHS.replace("\n", ", ") + "}\n", "line 1: bad YAML data: YAML anchors"),
    ("argdown", "[a]: A {kind: claim, kind: model}\n", "line 1: bad YAML data: duplicate key 'kind'"),
])
def test_bad_import_is_refused_with_its_place(small_corpus, tmp_path, run, fmt, text, message):
    (tmp_path / "in.txt").write_text(text, encoding="utf-8")
    output = checked(run, small_corpus, "import", "--format", fmt, tmp_path / "in.txt")
    assert message in output


@pytest.mark.parametrize("data, message", [
    (b'{"nodes": [{"id": "\xff"}]}', "line 1: not UTF-8 text (byte 0xff at column 20)"),
    ("{}".encode("utf-16"), "the file is UTF-16 text"),
])
def test_import_of_bytes_that_are_not_utf8(small_corpus, tmp_path, run, data, message):
    (tmp_path / "in.json").write_bytes(data)
    assert message in checked(run, small_corpus, "import", tmp_path / "in.json")


def test_unknown_node_link_keys_are_a_counted_warning_and_the_summary_counts_what_was_written(
        small_corpus, tmp_path, run):
    text = node_link([{**A, "strength": 0.3}, {**B, "strength": 0.2}],
                     [{"source": "a1", "target": "b1", "relation": "supports", "colour": "red"},
                      {"source": "b1", "target": "m1", "relation": "undermines"}])
    (tmp_path / "in.json").write_text(text)
    result = run(small_corpus, "import", tmp_path / "in.json")
    assert result.exit_code == 0, result.output
    assert "ignored the node key 'strength' of 2 item(s)" in result.output
    assert "ignored the edge key 'colour' of 1 item(s)" in result.output
    # m1 is only an edge's target: it is a corpus node, not written by the import
    assert "imported 2 nodes and 2 edges" in result.output and "(2 warning(s))" in result.output
    shown = run(small_corpus, "show", "b1", "--json")
    assert json.loads(shown.stdout)["out"][0]["target"] == "m1"


# ---- command-line arguments -----------------------------------------------------------------

@pytest.mark.parametrize("args, option", [
    (("add", "claim", "z", "--title", "T", "--body", "\udcff"), "'--body'"),
    (("add", "claim", "z", "--title", "T\udcff"), "'--title'"),
    (("add", "claim", "z", "--title", "T", "--tag", "\udcfe"), "'--tag'"),
    (("link", "c1", "m1", "--supports", "--note", "\udcff"), "'--note'"),
    (("set", "c1", "title", "\udcff"), "'VALUE'"),
    (("perspective", "new", "p", "--description", "\udcff"), "'--description'"),
])
def test_arguments_that_are_not_utf8_are_usage_errors(small_corpus, run, args, option):
    before = snapshot(small_corpus)
    result = run(small_corpus, *args)
    no_traceback(result)
    assert result.exit_code == 2
    assert f"Invalid value for {option}: not UTF-8 text (byte 0x" in result.output
    assert snapshot(small_corpus) == before


@pytest.mark.parametrize("args, message", [
    (("--seed", "-1"), "'--seed': -1 is not in the range 0<=x<=4294967295"),
    (("--samples", "100000000"), "'--samples': 100000000 is not in the range 1<=x<=10000"),
    (("--samples", "0"), "'--samples': 0 is not in the range 1<=x<=10000"),
])
def test_compare_ranges_are_usage_errors(small_corpus, run, args, message):
    result = run(small_corpus, "compare", "base", "base", *args)
    no_traceback(result)
    assert result.exit_code == 2 and message in result.output


def test_node_link_keeps_uncertain_credences_and_weights(small_corpus, tmp_path, run):
    nodes = [{**A, "credence_dist": {"mean": 0.6, "spread": 0.1}}, B]
    edges = [{"source": "a1", "target": "b1", "relation": "supports", "weight_dist": {"low": 0.2, "high": 0.6}}]
    (tmp_path / "in.json").write_text(node_link(nodes, edges))
    result = run(small_corpus, "import", tmp_path / "in.json")
    assert result.exit_code == 0 and "warning" not in result.output, result.output
    text = (small_corpus / "a1.md").read_text()
    assert "credence: {mean: 0.6, spread: 0.1}" in text and "weight: {low: 0.2, high: 0.6}" in text


@pytest.mark.parametrize("node, message", [
    ({**A, "credence_dist": {"mean": 0.6}}, "nodes[0]: credence {'mean': 0.6}: a distribution is"),
    ({**A, "credence_dist": 3}, "nodes[0]: credence_dist must be {mean, spread} or {low, high}, not 3"),
])
def test_node_link_bad_distributions_are_errors(small_corpus, tmp_path, run, node, message):
    (tmp_path / "in.json").write_text(node_link([node]))
    assert message in checked(run, small_corpus, "import", tmp_path / "in.json")


@pytest.mark.parametrize("fmt", IMPORTABLE)
def test_the_import_summary_counts_exactly_what_was_written(small_corpus, tmp_path, run, fmt):
    exported = run(small_corpus, "export", "--format", fmt)
    assert exported.exit_code == 0, exported.output
    (tmp_path / "in.txt").write_text(exported.stdout)
    empty = tmp_path / "empty"
    assert run(small_corpus, "init", empty).exit_code == 0
    result = run(empty, "import", "--format", fmt, tmp_path / "in.txt")
    assert result.exit_code == 0, result.output
    counts = re.search(r"imported (\d+) nodes and (\d+) edges", result.output).groups()
    written = json.loads(run(empty, "check", "--json").stdout)
    assert (int(counts[0]), int(counts[1])) == (written["nodes"], written["edges"]) == (4, 3)
    assert len(list(empty.rglob("*.md"))) == 4
