"""Zero tracebacks: random bytes, YAML and JSON thrown at check, score, import (every format)
and the write commands.

Each example runs in a fresh copy of a small corpus inside its own folder and asserts: the exit
status is 0, 1 or 2; nothing on the output looks like a traceback and no exception escaped;
a failed command changed nothing; a command that succeeded changed nothing outside the corpus
and left a corpus, perspectives included, that passes ``check``. Each test also asserts that its
attacks were both accepted and refused at least once: a fuzz whose every input stops at the first
parse checks nothing past it. The examples are derandomized (the same on every run) and bounded
so that the whole file runs in under two minutes (set TAKEOFF_FUZZ_EXAMPLES for more).
"""
import collections
import copy
import json
import os
import shutil
import traceback
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cli import cli
from helpers import snapshot, write_node
from graph.formats.interchange import IMPORTABLE
from graph.core.model import NODE_KEYS, SOURCE_KEYS

# A deeper run: TAKEOFF_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py
EXAMPLES = int(os.environ.get("TAKEOFF_FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

# ---- strategies ----------------------------------------------------------------------------
# Most inputs start from a valid file (the sandbox corpus, or its export in the format) and
# change a few things in it, so that the attack gets past the first check of a parser.

# Text with what makes parsers work: YAML and JSON indicators, brackets, line breaks, escapes,
# digits, non-ASCII and lone surrogates (what non-UTF-8 command-line bytes turn into).
tricky_text = st.text(
    alphabet=st.one_of(st.sampled_from(list("&*!|>-:?[]{},#'\"%@`\\\n\t \r<>_+=()/.0123456789eE")),
                       st.sampled_from(["\ufeff", "\x00", "\x85", "\u2028", "\udcff", "é", "日"]),
                       st.characters(codec="utf-8")),
    max_size=40)
# Placeholders written out after serialisation: values no serialiser would write as such.
SPECIAL = {"BIGINT": "1" * 5000, "BIGFLOAT": "0." + "1" * 5000, "DEEP": "[" * 3000 + "]" * 3000,
           "NEGBIG": "-" + "9" * 4400}
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                    st.floats(allow_nan=True, allow_infinity=True), tricky_text,
                    st.sampled_from(list(SPECIAL)),
                    st.sampled_from(["claim", "model", "evidence", "supports", "undermines", "I", "RA",
                                     "CA", "2025-01-01", "2025-13-45", "https://example.org/x", "c1",
                                     "m1", "e1", "x1", "new-node", "../x", "a/b", "1", "0.5"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=8)
KEYS = sorted(set(NODE_KEYS) | set(SOURCE_KEYS) | {
    "id", "body", "target", "weight", "note", "relation", "source", "key", "nodes", "edges",
    "links", "nodeID", "type", "text", "takeoff", "fromID", "toID", "@id", "@type", "@context",
    "@graph", "@list", "@value", "credences", "weights", "description", "<<"})
edits = st.lists(st.tuples(st.lists(st.integers(0, 40), max_size=5),
                           st.sampled_from(["set", "delete", "add"]),
                           st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), json_values),
                 min_size=1, max_size=3)


def mutate(doc, changes):
    """``doc`` with each change applied: at the end of a path (indices into the keys or items
    met on the way), set, delete or add a value."""
    doc = copy.deepcopy(doc)
    for path, op, key, value in changes:
        parent, node = None, doc
        for step in path:
            if not isinstance(node, (dict, list)) or not node:
                break
            index = list(node)[step % len(node)] if isinstance(node, dict) else step % len(node)
            parent, node = (node, index), node[index]
        if op == "add" and isinstance(node, dict):
            node[key] = value
        elif op == "add" and isinstance(node, list):
            node.append(value)
        elif parent is None:
            doc = value
        elif op == "delete":
            del parent[0][parent[1]]
        else:
            parent[0][parent[1]] = value
    return doc


def write_out(text):
    """Serialised text with the placeholders written out, as the bytes of a file."""
    for name, value in SPECIAL.items():
        text = text.replace(f'"{name}"', value).replace(f"'{name}'", value).replace(name, value)
    return text.encode("utf-8", "surrogateescape")


def yaml_dump(value):
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=4096)


TOKENS = {
    "yaml": ["&a ", "*a", "<<: ", "!!python/object ", "? ", "- ", ": ", "[", "{", "'", '"', "\t",
             "\n  ", "%YAML 1.1\n", "--- ", "...\n", "!!binary ", "!!float ", "BIGINT", "DEEP"],
    "turtle": ["[", "]", "(", ")", ";", ",", " . ", "\n", "a ", "tg:Claim ", "tg:credence ",
               '"x"', '"""', "<", ">", "#", "@prefix ", "_:b ", "^^xsd:integer ", "BIGINT", "DEEP",
               "tg:supports ", "tg:weight ", "dcterms:identifier ", '"../x" '],
    "argdown": ["[a]", "<A>: ", "\n  + ", "\n  - ", "\n  +> ", "\n  >< ", "\n  _ ", "{", "}",
                "{credence: BIGINT}", "{x: DEEP}", "{kind: [claim]}", "{tags: abc}", "#tag ",
                "//", "/*", "===\n", "(1) ", "\n\n", "&a ", "*a"],
    "kialo": ["\n1.1. Pro: ", "\n1.2. Con: ", "\n1.1.1. Con: ", "-> See 1.1.", "-> See 9.",
              "\n1. ", "Discussion Title: ", "\n1.1. Thesis: ", "\\(", "\n", "1.", "Pro:"],
}


def text_edits(kind):
    token = st.one_of(st.sampled_from(TOKENS[kind]), tricky_text)
    return st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 20), token), min_size=1, max_size=4)


# Words inserted with nothing dropped: an edit of a title or a note that even a strict line
# format (Kialo) may accept, so that some imports of every format get past the first parse.
word_edits = st.lists(st.tuples(st.integers(0, 10**6), st.just(0),
                                st.text(st.characters(categories=["L", "Nd", "Zs"]), min_size=1, max_size=12)),
                      min_size=1, max_size=3)


def splice(text, changes):
    """``text`` with each (position, characters to drop, insertion) applied."""
    for position, drop, insertion in changes:
        position %= len(text) + 1
        text = text[:position] + insertion + text[position + drop:]
    return text


def node_file_text(front):
    return f"---\n{front}---\nbody\n"


# ---- the harness ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("template") / "claims"
    write_node(root, "m1", "---\nkind: model\ntitle: A takeoff path\n---\nThe path.\n")
    write_node(root, "c1", "---\nkind: claim\ntitle: A claim\ncredence: 0.6\nsupports:\n"
                           "  - target: m1\n    weight: 0.8\n    note: because\n---\n")
    write_node(root, "c2", "---\nkind: claim\ntitle: Another claim\nundermines: [m1]\n---\n")
    write_node(root, "e1", "---\nkind: evidence\ntitle: An observation\ndate: 2025-05-14\n"
                           "tags: [rl]\nsupports:\n  - target: c1\n    weight: 0.5\n---\n")
    (root / "perspectives").mkdir()
    (root / "perspectives" / "p.yaml").write_text("description: a view\ncredences:\n  c1: 0.9\n"
                                                  "weights:\n  - source: c1\n    target: m1\n"
                                                  "    weight: 0.5\n")
    return root


@pytest.fixture(scope="module")
def exports(template):
    """The template corpus in every importable format (JSON formats parsed)."""
    found = {}
    for fmt in IMPORTABLE:
        result = CliRunner().invoke(cli, ["--corpus", str(template), "export", "--format", fmt])
        assert result.exit_code == 0, result.output
        found[fmt] = json.loads(result.stdout) if FORMAT_KIND[fmt] == "json" else result.stdout
    return found


FORMAT_KIND = {"node-link": "json", "aif": "json", "xaif": "json", "jsonld": "json",
               "turtle": "turtle", "nt": "turtle", "argdown": "argdown", "kialo": "kialo"}


class Sandbox:
    """A fresh copy of the template corpus in a folder of its own, and the CLI to run on it;
    ``outcomes`` counts the exit statuses of the commands run."""

    def __init__(self, template, base, outcomes):
        self.top, self.outcomes = base, outcomes
        if self.top.exists():
            shutil.rmtree(self.top)
        self.root = self.top / "claims"
        shutil.copytree(template, self.root)

    def run(self, kind, *args):
        before = snapshot(self.top)
        result = CliRunner().invoke(cli, ["--corpus", str(self.root), *map(str, args)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{args}: traceback\n"
                                 + "".join(traceback.format_exception(*result.exc_info)))
        assert result.exit_code in (0, 1, 2), (args, result.output)
        self.outcomes[kind, result.exit_code] += 1
        assert "Traceback (most recent call last)" not in result.output, (args, result.output)
        after = snapshot(self.top)
        if result.exit_code != 0:
            assert after == before, f"{args} failed ({result.output!r}) but changed files"
        else:
            outside = {p for p in set(before) | set(after) if p.parts[0] != "claims"}
            assert all(before.get(p) == after.get(p) for p in outside), f"{args} wrote outside the corpus"
        return result

    def problems(self):
        """``check --json``'s problems, each asserted to be a clean message: a path inside the
        corpus, a line number or none, one line of text, no traceback."""
        result = CliRunner().invoke(cli, ["--corpus", str(self.root), "check", "--json"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        problems = json.loads(result.stdout)["problems"]
        for problem in problems:
            assert Path(problem["path"]).resolve().is_relative_to(self.root.resolve()), problem
            assert problem["line"] is None or isinstance(problem["line"], int), problem
            assert problem["message"].strip() and "\n" not in problem["message"], problem
            assert "Traceback" not in problem["message"], problem
        return problems

    def check_still_valid(self):
        """Node files and perspectives are valid: a write that would leave a perspective
        pointing at a missing id or edge is refused (or, with --force, updates it)."""
        errors = [p for p in self.problems() if p["level"] == "error"]
        assert not errors, errors


@pytest.fixture
def outcomes():
    """(kind of attack, exit status) -> number of commands, for :func:`assert_accepted_and_refused`."""
    return collections.Counter()


@pytest.fixture
def sandbox(template, tmp_path, outcomes):
    return lambda: Sandbox(template, tmp_path / "box", outcomes)


def assert_accepted_and_refused(outcomes):
    """Some command succeeded (so the checks on a success ran) and some was refused (so the
    inputs were attacks): either missing means the strategies miss half of what they test."""
    statuses = {status for (_, status), count in outcomes.items() if count}
    assert 0 in statuses and statuses - {0}, dict(outcomes)


# ---- the tests ----------------------------------------------------------------------------

def node_file_attack(data, box, base_id):
    """A node file made from node ``base_id``'s front matter: changed as data, changed as
    text, or random bytes."""
    front = yaml.safe_load((box.root / f"{base_id}.md").read_text().split("---\n")[1])
    how = data.draw(st.sampled_from(["data", "text", "bytes"]))
    if how == "data":
        return write_out(node_file_text(yaml_dump(mutate(front, data.draw(edits)))))
    if how == "text":
        return write_out(splice(node_file_text(yaml_dump(front)), data.draw(text_edits("yaml"))))
    return data.draw(st.binary(max_size=300))


def test_random_node_files(sandbox, outcomes):
    @FUZZ
    @given(data=st.data())
    def attack(data):
        box = sandbox()
        base_id = data.draw(st.sampled_from(["m1", "c1", "c2", "e1"]))
        target = data.draw(st.sampled_from([f"{base_id}.md", "x.md", "sub/x.md"]))
        path = box.root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(node_file_attack(data, box, base_id))
        node = Path(target).stem
        box.run("node file: check", "check")
        box.run("node file: score", "score", "--perspective", "p")
        box.run("node file: set", "set", node, "credence", "0.4")
        box.run("node file: link", "link", "c2", node, "--supports")
        box.run("node file: rm --force", "rm", data.draw(st.sampled_from(["m1", "c1", node])), "--force")

    attack()
    assert_accepted_and_refused(outcomes)


def test_random_perspective_files(sandbox, outcomes):
    @FUZZ
    @given(data=st.data())
    def attack(data):
        box = sandbox()
        path = box.root / "perspectives" / "p.yaml"
        front = yaml.safe_load(path.read_text())
        how = data.draw(st.sampled_from(["data", "text", "bytes"]))
        if how == "data":
            attack = write_out(yaml_dump(mutate(front, data.draw(edits))))
        elif how == "text":
            attack = write_out(splice(path.read_text(), data.draw(text_edits("yaml"))))
        else:
            attack = data.draw(st.binary(max_size=300))
        path.write_bytes(attack)
        box.problems()  # whatever is wrong with the perspective is told as path:line: message
        box.run("perspective file: check", "check")
        box.run("perspective file: score", "score", "--perspective", "p")
        box.run("perspective file: compare", "compare", "base", "p")
        box.run("perspective file: set", "perspective", "set", "p", "c1", "credence", "0.3")
        box.run("perspective file: rm --force", "rm", "c1", "--force")

    attack()
    assert_accepted_and_refused(outcomes)


@pytest.mark.parametrize("fmt", IMPORTABLE)
def test_random_imports(sandbox, exports, outcomes, fmt):
    @FUZZ
    @given(how=st.sampled_from(["data", "text", "words", "as exported", "bytes", "json"]), data=st.data())
    @example(how="as exported", data=None)  # a round trip always runs: an import that succeeds
    def attack(how, data):
        box = sandbox()
        base = exports[fmt]
        if how == "as exported":
            text = write_out(base if isinstance(base, str) else json.dumps(base))
        elif how == "data" and FORMAT_KIND[fmt] == "json":
            text = write_out(json.dumps(mutate(base, data.draw(edits)), ensure_ascii=False))
        elif how in ("data", "text", "words"):
            base = base if isinstance(base, str) else json.dumps(base, indent=1)
            kind = "yaml" if FORMAT_KIND[fmt] == "json" else FORMAT_KIND[fmt]
            text = write_out(splice(base, data.draw(word_edits if how == "words" else text_edits(kind))))
        elif how == "json":
            text = write_out(json.dumps(data.draw(json_values)))
        else:
            text = data.draw(st.binary(max_size=300))
        (box.top / "input").write_bytes(text)
        replace = data.draw(st.sampled_from([True, True, True, False])) if data else True
        result = box.run(f"import --format {fmt}", "import", "--format", fmt, box.top / "input",
                         *(["--replace"] if replace else []))
        if result.exit_code == 0:
            box.check_still_valid()

    attack()
    assert_accepted_and_refused(outcomes)


ids = st.one_of(st.sampled_from(["c1", "c2", "m1", "e1", "x1", "new-node"]), tricky_text)


def maybe(valid, other=tricky_text):
    """Mostly one of the ``valid`` values, else ``other``: so that some commands succeed."""
    return st.one_of(*[st.sampled_from(valid)] * 3, other)


@st.composite
def arguments(draw, **fields):
    """Command arguments, ``name=(valid values, other strategy)``: every field valid except a
    random few (often none), so that a command of many arguments succeeds now and then."""
    broken = draw(st.sets(st.sampled_from(sorted(fields))))
    return {name: draw(other) if name in broken else draw(st.sampled_from(valid))
            for name, (valid, other) in fields.items()}


def test_random_add(sandbox, outcomes):
    @FUZZ
    @given(kind=st.sampled_from(["claim", "model", "evidence"]), args=arguments(
        node_id=(["x1", "new-node"], ids), title=(["A title"], tricky_text),
        body=(["A body."], tricky_text), tag=(["rl"], tricky_text),
        source=(["https://example.org/a"], tricky_text), date=(["2025-01-01"], tricky_text),
        supports=(["c1", "m1:0.5"], st.one_of(st.sampled_from(["c2:2", "x9", "m1:0"]), tricky_text)),
        credence=(["0.5", "0", "1", "1e-300"], tricky_text)))
    @example(kind="evidence", args={"node_id": "x1", "title": "A title", "body": "A body.", "tag": "rl",
                                    "source": "https://example.org/a", "date": "2025-01-01",
                                    "supports": "c1", "credence": "0.5"})
    def attack(kind, args):
        box = sandbox()
        result = box.run("add", "add", kind, args["node_id"], *[
            arg for name in ("title", "body", "tag", "source", "date", "supports", "credence")
            for arg in (f"--{name}", args[name])])
        if result.exit_code == 0:
            box.check_still_valid()

    attack()
    assert_accepted_and_refused(outcomes)


# A value each field takes, for `set` to succeed with.
SET_VALUES = [("title", "A new title"), ("credence", "0.3"), ("date", "2025-01-01"),
              ("tags", "rl"), ("body", "A body."), ("kind", "claim")]


def test_random_set(sandbox, outcomes):
    @FUZZ
    @given(node_id=maybe(["c1", "c2", "m1", "e1"], ids), field_value=maybe(SET_VALUES, st.tuples(
        maybe([field for field, _ in SET_VALUES]),
        st.one_of(tricky_text, scalars.map(str), st.sampled_from(list(SPECIAL.values()))))))
    @example(node_id="c1", field_value=("credence", "0.3"))
    def attack(node_id, field_value):
        box = sandbox()
        if box.run("set", "set", node_id, *field_value).exit_code == 0:
            box.check_still_valid()

    attack()
    assert_accepted_and_refused(outcomes)


def test_random_link(sandbox, outcomes):
    @FUZZ
    @given(source=ids, target=ids, relation=st.sampled_from(["--supports", "--undermines"]),
           weight=maybe(["0.5", "1", "1e-300"], st.sampled_from(["0", "2", "nan", "x", "1" * 5000])),
           note=tricky_text)
    @example(source="c2", target="c1", relation="--supports", weight="0.5", note="why")
    def attack(source, target, relation, weight, note):
        box = sandbox()
        if box.run("link", "link", source, target, relation, "--weight", weight, "--note", note).exit_code == 0:
            box.check_still_valid()

    attack()
    assert_accepted_and_refused(outcomes)
