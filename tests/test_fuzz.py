"""Zero tracebacks: random bytes, YAML and JSON thrown at check, score, import (every format)
and the write commands.

Each example runs in a fresh copy of a small corpus inside its own folder and asserts: the exit
status is 0, 1 or 2; nothing on the output looks like a traceback and no exception escaped;
a failed command changed nothing; a command that succeeded changed nothing outside the corpus
and left a corpus that passes ``check``. The examples are derandomized (the same on every run)
and bounded so that the whole file runs in under a minute (set TAKEOFF_FUZZ_EXAMPLES for more).
"""
import json
import os
import shutil
import traceback
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import cli
from conftest import snapshot, write_node
from graph.interchange import IMPORTABLE
from graph.model import NODE_KEYS, SOURCE_KEYS

# A deeper run: TAKEOFF_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py
EXAMPLES = int(os.environ.get("TAKEOFF_FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

# ---- strategies -----------------------------------------------------------------------------

# Text with what makes parsers work: YAML and JSON indicators, brackets, line breaks, escapes,
# digits, non-ASCII and lone surrogates (what non-UTF-8 command-line bytes turn into).
tricky_text = st.text(
    alphabet=st.one_of(st.sampled_from(list("&*!|>-:?[]{},#'\"%@`\\\n\t \r<>_+=()/.0123456789eE")),
                       st.sampled_from(["\ufeff", "\x00", "\x85", "\u2028", "\udcff", "é", "日"]),
                       st.characters(codec="utf-8")),
    max_size=60)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                    st.floats(allow_nan=True, allow_infinity=True), tricky_text,
                    st.sampled_from(["claim", "model", "evidence", "supports", "undermines",
                                     "2025-01-01", "2025-13-45", "https://example.org/x", "c1",
                                     "m1", "e1", "1" * 5000, "0." + "1" * 200]))
json_values = st.recursive(scalars.filter(lambda v: not isinstance(v, str) or "\udcff" not in v),
                           lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)
ids = st.one_of(st.sampled_from(["c1", "c2", "m1", "e1", "x1", "new-node"]), tricky_text)


def keyed(keys, values):
    """Mappings whose keys are mostly the ones a format knows, with values of any type."""
    return st.dictionaries(st.one_of(st.sampled_from(keys), st.text(max_size=6)), values, max_size=len(keys))


node_fields = keyed(list(NODE_KEYS) + ["id", "body"], st.one_of(
    json_values, st.lists(st.one_of(ids, keyed(["target", "weight", "note", "url"] + list(SOURCE_KEYS),
                                                  json_values)), max_size=3)))


def yaml_dump(value):
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


# A node file: front matter from structured fields, random YAML text or random bytes.
front_matter = st.one_of(node_fields.map(yaml_dump), tricky_text,
                         json_values.map(lambda v: json.dumps(v, ensure_ascii=False)))
node_files = st.one_of(front_matter.map(lambda f: f"---\n{f}\n---\nbody\n".encode("utf-8", "surrogateescape")),
                       st.binary(max_size=200))
perspective_files = st.one_of(
    keyed(["description", "credences", "weights"],
          st.one_of(json_values, st.dictionaries(ids, json_values, max_size=3),
                    st.lists(keyed(["source", "target", "weight", "note"], json_values), max_size=3)))
    .map(yaml_dump).map(lambda t: t.encode("utf-8", "surrogateescape")),
    tricky_text.map(lambda t: t.encode("utf-8", "surrogateescape")),
    st.binary(max_size=200))

# Inputs shaped like each importable format, so that fuzzing gets past "not JSON".
node_link = st.fixed_dictionaries({
    "nodes": st.lists(keyed(["id", "kind", "title", "credence", "date", "tags", "sources", "body"],
                            st.one_of(json_values, ids)), max_size=4),
    "edges": st.lists(keyed(["source", "target", "relation", "weight", "note", "key"],
                            st.one_of(json_values, ids)), max_size=4)})
aif = st.fixed_dictionaries({
    "nodes": st.lists(keyed(["nodeID", "type", "text", "takeoff"],
                            st.one_of(json_values, st.sampled_from(["I", "RA", "CA", "L", "MA", "YA"]),
                                      node_fields)), max_size=5),
    "edges": st.lists(keyed(["fromID", "toID", "edgeID"],
                            st.one_of(st.integers(0, 6), st.text("0123456", max_size=2), json_values)),
                      max_size=5)})
TG = "https://w3id.org/takeoff-graph/vocab#"
jsonld = st.fixed_dictionaries({
    "@context": st.one_of(st.just({"tg": TG, "dcterms": "http://purl.org/dc/terms/"}), json_values),
    "@graph": st.lists(keyed(["@id", "@type", "tg:credence", "dcterms:title", "dcterms:identifier",
                              "tg:supports", "tg:weight", "tg:tags", "@list", "@value"],
                             st.one_of(json_values, st.sampled_from(["tg:Claim", "tg:Model", "tg:Support"]))),
                       max_size=4)})
turtle_words = st.sampled_from(
    ["@prefix tg: <https://w3id.org/takeoff-graph/vocab#> .", "@prefix dcterms: <http://purl.org/dc/terms/> .",
     "<https://w3id.org/takeoff-graph/node/a>", "<https://w3id.org/takeoff-graph/node/b>", "a", "tg:Claim",
     "tg:Model", "tg:credence", "tg:supports", "dcterms:title", "dcterms:identifier", '"a"', '"x"@en',
     "0.5", "2", "-1", "1" * 5000, "[", "]", "(", ")", ";", ",", ".", "\n", '"2025-01-01"^^<http://www.w3.org/2001/XMLSchema#date>',
     "tg:Support", "tg:source", "tg:target", "tg:weight", "_:b1", "tg:tags", "rdf:nil"])
turtle = st.lists(st.one_of(turtle_words, tricky_text), max_size=40).map(" ".join)
argdown_words = st.sampled_from(
    ["[a]", "[b]: text", "<A>", "<A>: arg", "\n", "\n  + ", "\n  - ", "\n  +> ", "\n  -> ", "\n  >< ",
     "\n  _ ", "{kind: model}", "{credence: 2}", "{edges: {b: {weight: 0.5}}}", "{", "}", "#tag",
     "#(a b)", "//", "/*", "*/", "===", "# Heading", "(1)", "\n\n", "{tags: abc}", "{date: x}"])
argdown = st.lists(st.one_of(argdown_words, tricky_text), max_size=30).map("".join)
shaped = {"node-link": node_link.map(json.dumps), "aif": aif.map(json.dumps),
          "jsonld": jsonld.map(json.dumps), "turtle": turtle, "nt": turtle, "argdown": argdown}


def import_inputs(fmt):
    return st.one_of(shaped.get(fmt, tricky_text).map(lambda t: t.encode("utf-8", "surrogateescape")),
                     json_values.map(lambda v: json.dumps(v).encode()),
                     tricky_text.map(lambda t: t.encode("utf-8", "surrogateescape")),
                     st.binary(max_size=200))


# ---- the harness ----------------------------------------------------------------------------

ATTACKS = {}  # kind -> number of commands run (printed by the last test)


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
    (root / "perspectives" / "p.yaml").write_text("credences:\n  c1: 0.9\n")
    return root


class Sandbox:
    """A fresh copy of the template corpus in a folder of its own, and the CLI to run on it."""

    def __init__(self, template, base):
        self.top = base
        if self.top.exists():
            shutil.rmtree(self.top)
        self.root = self.top / "claims"
        shutil.copytree(template, self.root)

    def run(self, kind, *args):
        ATTACKS[kind] = ATTACKS.get(kind, 0) + 1
        before = snapshot(self.top)
        result = CliRunner().invoke(cli, ["--corpus", str(self.root), *map(str, args)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{args}: traceback\n"
                                 + "".join(traceback.format_exception(*result.exc_info)))
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "Traceback (most recent call last)" not in result.output, (args, result.output)
        after = snapshot(self.top)
        if result.exit_code != 0:
            assert after == before, f"{args} failed ({result.output!r}) but changed files"
        else:
            outside = {p for p in set(before) | set(after) if p.parts[0] != "claims"}
            assert all(before.get(p) == after.get(p) for p in outside), f"{args} wrote outside the corpus"
        return result

    def check_still_valid(self):
        result = CliRunner().invoke(cli, ["--corpus", str(self.root), "check"])
        assert result.exit_code == 0, result.output


@pytest.fixture
def sandbox(template, tmp_path):
    return lambda: Sandbox(template, tmp_path / "box")


# ---- the tests ------------------------------------------------------------------------------

@FUZZ
@given(data=node_files, where=st.sampled_from(["x.md", "claims/c1.md", "deep/er/y.md"]))
def test_random_node_files(sandbox, data, where):
    box = sandbox()
    path = box.root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    box.run("node file: check", "check")
    box.run("node file: score", "score")
    box.run("node file: set", "set", Path(where).stem, "credence", "0.4")


@FUZZ
@given(data=perspective_files)
def test_random_perspective_files(sandbox, data):
    box = sandbox()
    (box.root / "perspectives" / "p.yaml").write_bytes(data)
    box.run("perspective file: check", "check")
    box.run("perspective file: score", "score", "--perspective", "p")
    box.run("perspective file: set", "perspective", "set", "p", "c1", "credence", "0.3")


@pytest.mark.parametrize("fmt", IMPORTABLE)
def test_random_imports(sandbox, fmt):
    @FUZZ
    @given(data=import_inputs(fmt), replace=st.booleans())
    def attack(data, replace):
        box = sandbox()
        path = box.top / "input"
        path.write_bytes(data)
        result = box.run(f"import --format {fmt}", "import", "--format", fmt, path,
                         *(["--replace"] if replace else []))
        if result.exit_code == 0:
            box.check_still_valid()

    attack()


@FUZZ
@given(kind=st.sampled_from(["claim", "model", "evidence"]), node_id=ids, title=tricky_text,
       body=tricky_text, tag=tricky_text, source=tricky_text, date=tricky_text,
       supports=st.one_of(ids, tricky_text), credence=st.sampled_from(["0.5", "2", "nan", "-0", "1e-400"]))
def test_random_add(sandbox, kind, node_id, title, body, tag, source, date, supports, credence):
    box = sandbox()
    result = box.run("add", "add", kind, node_id, "--title", title, "--body", body, "--tag", tag,
                     "--source", source, "--date", date, "--supports", supports, "--credence", credence)
    if result.exit_code == 0:
        box.check_still_valid()


@FUZZ
@given(node_id=ids, field=st.one_of(st.sampled_from(["kind", "title", "credence", "date", "tags", "body"]),
                                    tricky_text), value=st.one_of(tricky_text, scalars.map(str)))
def test_random_set(sandbox, node_id, field, value):
    box = sandbox()
    if box.run("set", "set", node_id, field, value).exit_code == 0:
        box.check_still_valid()


@FUZZ
@given(source=ids, target=ids, relation=st.sampled_from(["--supports", "--undermines"]),
       weight=st.sampled_from(["0.5", "1", "0", "2", "nan", "x"]), note=tricky_text)
def test_random_link(sandbox, source, target, relation, weight, note):
    box = sandbox()
    if box.run("link", "link", source, target, relation, "--weight", weight, "--note", note).exit_code == 0:
        box.check_still_valid()


def test_attack_counts(capsys):
    """Print how many commands each kind of attack ran (for the report); runs last."""
    with capsys.disabled():
        for kind, count in sorted(ATTACKS.items()):
            print(f"\n  {count:4d} {kind}", end="")
        print(f"\n  {sum(ATTACKS.values()):4d} in all")
    assert not ATTACKS or sum(ATTACKS.values()) >= EXAMPLES
