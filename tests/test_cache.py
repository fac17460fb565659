"""The load cache (graph/files/cache.py): never changes what a load gives."""
import os
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graph.core.frontmatter
import graph.core.model
import graph.files.cache
import graph.files.validate
from graph.files.cache import CACHE_DIR, CACHE_NAME
from graph.files.corpus import Corpus

NODE = """---
kind: {kind}
title: Node {i} {title}
credence: 0.{credence}
{date}{extra}supports:
  - target: {target}
    weight: 0.5
---
Body of {i}.
"""


def node_text(i, *, credence=5, title="x", target=None, extra="", kind=None, n=5):
    kind = kind or ("evidence" if i % 2 else "claim")
    date = "date: 2024-0{}-01\n".format(1 + i % 9) if kind == "evidence" else ""
    return NODE.format(kind=kind, i=i, title=title, credence=credence, date=date, extra=extra,
                       target=target or f"n{(i + 1) % n}")


def make(root, n=5):
    for i in range(n):
        path = root / ("sub" if i % 2 else "") / f"n{i}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(node_text(i, n=n), encoding="utf-8")


def summary(corpus):
    """Everything a load gives, comparable."""
    g = corpus.graph
    return (sorted((n, sorted((k, str(v)) for k, v in a.items())) for n, a in g.nodes(data=True)),
            sorted((u, v, k, sorted(d.items())) for u, v, k, d in g.edges(keys=True, data=True)),
            [str(p) for p in corpus.problems])


def uncached(root, monkeypatch):
    with monkeypatch.context() as m:
        m.setenv("TAKEOFF_NO_CACHE", "1")
        return Corpus.load(root)


@pytest.fixture
def counting(monkeypatch):
    """Counts the node files actually read from disk."""
    calls = []
    real = graph.files.corpus.read_node_file

    def read(path, text=None, root=None):
        calls.append(path)
        return real(path, text, root)

    monkeypatch.setattr(graph.files.corpus, "read_node_file", read)
    return calls


@pytest.fixture
def old_enough(monkeypatch):
    """Files written by the test count as older than the racy window (the cache's clock runs
    a minute ahead), so that they are cached at once."""
    real = time.time_ns
    monkeypatch.setattr(graph.files.cache.time, "time_ns", lambda: real() + 60 * 10 ** 9)


def test_second_load_reads_nothing(tmp_path, counting, old_enough, monkeypatch):
    make(tmp_path)
    first = Corpus.load(tmp_path)
    assert len(counting) == 5 and (tmp_path / CACHE_DIR / CACHE_NAME).is_file()
    assert (tmp_path / CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    counting.clear()
    second = Corpus.load(tmp_path)
    assert counting == [] and summary(second) == summary(first) == summary(uncached(tmp_path, monkeypatch))


def test_changed_file_is_read_alone(tmp_path, counting, old_enough):
    make(tmp_path)
    Corpus.load(tmp_path)
    counting.clear()
    (tmp_path / "n2.md").write_text(node_text(2, title="changed"), encoding="utf-8")
    corpus = Corpus.load(tmp_path)
    assert counting == [tmp_path / "n2.md"]
    assert corpus.graph.nodes["n2"]["title"] == "Node 2 changed"


def test_same_size_edit_with_mtime_put_back_is_seen(tmp_path, old_enough):
    make(tmp_path)
    path = tmp_path / "n2.md"
    before = os.stat(path)
    Corpus.load(tmp_path)
    path.write_text(node_text(2, credence=7), encoding="utf-8")     # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))      # same mtime
    assert os.stat(path).st_size == before.st_size
    assert Corpus.load(tmp_path).graph.nodes["n2"]["credence"] == 0.7


def test_racy_files_are_not_cached(tmp_path, counting):
    """A file changed less than RACY_NS before it was read may change again in the same
    timestamp tick: it is read again next time (git's racy-clean rule)."""
    make(tmp_path)
    Corpus.load(tmp_path)
    counting.clear()
    Corpus.load(tmp_path)
    assert len(counting) == 5   # all just written: none trusted yet


@pytest.mark.parametrize("damage", [
    b"", b"garbage", b"{}\n{}", b'{"format": "takeoff-load-cache", "version": 1}\n{}',
    "truncate", "flip", "foreign-version",
])
def test_damaged_cache_is_ignored_and_rebuilt(tmp_path, counting, old_enough, monkeypatch, damage):
    make(tmp_path)
    expected = summary(Corpus.load(tmp_path))
    cache = tmp_path / CACHE_DIR / CACHE_NAME
    data = cache.read_bytes()
    if damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "flip":   # a changed title with the header intact: the checksum fails
        data = data.replace(b"Node 3", b"Node 9")
    elif damage == "foreign-version":
        data = data.replace(b'"version": %d' % graph.files.cache.VERSION, b'"version": 99')
    else:
        data = damage
    cache.write_bytes(data)
    counting.clear()
    assert summary(Corpus.load(tmp_path)) == expected
    assert len(counting) == 5
    counting.clear()
    assert summary(Corpus.load(tmp_path)) == expected and counting == []


def test_unwritable_corpus_just_is_not_cached(tmp_path, monkeypatch):
    make(tmp_path)
    (tmp_path / CACHE_DIR).write_text("a file where the cache folder would go")
    assert summary(Corpus.load(tmp_path)) == summary(uncached(tmp_path, monkeypatch))


def test_symlinked_file_is_always_read(tmp_path, counting, old_enough):
    make(tmp_path)
    outside = tmp_path / ".targets" / "n9.md"   # inside the corpus, in a folder not walked
    outside.parent.mkdir()
    outside.write_text(node_text(9, target="n0"), encoding="utf-8")
    (tmp_path / "n9.md").symlink_to(outside)
    Corpus.load(tmp_path)
    counting.clear()
    outside.write_text(node_text(9, target="n1"), encoding="utf-8")
    corpus = Corpus.load(tmp_path)
    assert counting == [tmp_path / "n9.md"]
    assert corpus.graph.has_edge("n9", "n1")


def test_problems_keep_their_lines_from_the_cache(tmp_path, old_enough, monkeypatch):
    make(tmp_path)
    (tmp_path / "n1.md").write_text(node_text(1, extra="colour: red\n", target="nowhere"))
    first = [str(p) for p in Corpus.load(tmp_path).problems]
    assert any("unknown key 'colour'" in p for p in first) and any("nowhere" in p for p in first)
    assert [str(p) for p in Corpus.load(tmp_path).problems] == first


EDITS = st.lists(st.tuples(
    st.sampled_from(["credence", "title", "target", "bad-yaml", "unknown-key", "delete", "add",
                     "kind", "no-front"]),
    st.integers(0, 6), st.integers(1, 9), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(EDITS)
def test_cached_load_equals_uncached_load(monkeypatch, edits):
    """Random edits, some of the same size with the mtime put back, between loads: the cached
    load always gives what a load without the cache gives."""
    real = time.time_ns
    monkeypatch.setattr(graph.files.cache.time, "time_ns", lambda: real() + 60 * 10 ** 9)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        make(root, 7)
        Corpus.load(root)
        for what, i, value, keep_mtime in edits:
            path = root / ("sub" if i % 2 else "") / f"n{i}.md"
            old = os.stat(path) if path.exists() else None
            if what == "delete":
                path.unlink(missing_ok=True)
            elif what == "add":
                path.parent.mkdir(exist_ok=True)
                path.write_text(node_text(i, n=7, credence=value), encoding="utf-8")
            else:
                text = {"credence": node_text(i, n=7, credence=value),
                        "title": node_text(i, n=7, title="t" * value),
                        "target": node_text(i, n=7, target=f"n{value % 8}"),
                        "bad-yaml": node_text(i, n=7).replace("weight: 0.5", "weight: [0.5"),
                        "unknown-key": node_text(i, n=7, extra=f"k{value}: v\n"),
                        "kind": node_text(i, n=7, kind="model"),
                        "no-front": f"no front matter {value}\n"}[what]
                path.write_text(text, encoding="utf-8")
            if keep_mtime and old is not None and path.exists():
                os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
            assert summary(Corpus.load(root)) == summary(uncached(root, monkeypatch))


# ---- a crafted cache (issue 28): signed, bound to the code, checked on the way in ---------------

def read_cache(root):
    """The header and the columns (as graph.files.cache._columns makes them) of ``root``'s
    cache."""
    import json

    head, body = (root / CACHE_DIR / CACHE_NAME).read_bytes().split(b"\n", 1)
    head = json.loads(head)
    sections = graph.files.cache._split(body, head["sections"])
    return head, graph.files.cache._full(graph.files.cache._fast_columns(sections), sections)


def craft(root, edit, key=None, fingerprint=None):
    """Rewrite ``root``'s cache as an attacker would: its true ``lstat`` keys and digests, the
    columns changed by ``edit(columns)`` (or, for a ``Raw`` edit, the encoded sections
    ``[[name, length]...]`` and body changed by it), signed with ``key`` (the user's own
    secret: the worst case) or a wrong one, for the package's fingerprint or ``fingerprint``."""
    import json

    head, columns = read_cache(root)
    if not isinstance(edit, Raw):
        edit(columns)
    lengths, body = graph.files.cache._encode(columns)
    if isinstance(edit, Raw):
        lengths, body = edit.edit(lengths, body)
    fingerprint = fingerprint or head["fingerprint"]
    head["fingerprint"] = fingerprint
    head["sections"] = lengths
    head["mac"] = graph.files.cache._mac(key or b"x" * 32, fingerprint, body)
    (root / CACHE_DIR / CACHE_NAME).write_bytes(json.dumps(head).encode() + b"\n" + body)


class Raw:
    """An edit of the encoded sections rather than of the columns."""

    def __init__(self, edit):
        self.edit = edit


def section_edit(name, change):
    """A ``Raw`` edit replacing section ``name``'s bytes by ``change(bytes)``."""
    def edit(lengths, body):
        parts, at = {}, 0
        for section, length in lengths:
            parts[section] = body[at:at + length]
            at += length
        parts[name] = change(parts[name])
        return [[section, len(parts[section])] for section, _ in lengths], b"".join(parts.values())
    return Raw(edit)


def drop_section(name):
    def edit(lengths, body):
        at = 0
        for section, length in lengths:
            if section == name:
                return [entry for entry in lengths if entry[0] != name], \
                    body[:at] + body[at + length:]
            at += length
    return Raw(edit)


def row_of(columns, rel):
    return columns["rel"].index(rel)


def setter(column, value, rel="n0.md"):
    def edit(columns):
        columns[column][row_of(columns, rel)] = value
    return edit


def edge_setter(column, value):
    """Set the first entry of a column of edges, sources or tags."""
    def edit(columns):
        columns[column][0] = value
    return edit


WITH_SOURCES = """tags: [a, b]
sources:
  - url: https://example.org/a
    date: 2024-05
  - title: A book
"""
BAD_COLUMNS = {
    "credence 7.5": setter("credence", 7.5),
    "credence NaN": setter("credence", float("nan")),
    "kind out of range": setter("kind", 9),
    "kind negative": setter("kind", -1),
    "weight 7": edge_setter("weight", 7.0),
    "weight 0": edge_setter("weight", 0.0),
    "weight infinite": edge_setter("weight", float("inf")),
    "a trusted flag of 2": section_edit("trusted", lambda data: b"\x02" + data[1:]),
    "a column of another length": section_edit("credence", lambda data: data[:-8]),
    "a stat column cut short": section_edit("stat", lambda data: data[:-8]),
    "a path twice": setter("rel", "sub/n1.md"),
    "relation out of range": edge_setter("relation", 2),
    "empty target": edge_setter("target", ""),
    "empty title": setter("title", "  "),
    "month 13": setter("date", "2024-13", rel="sub/n1.md"),
    "evidence without a date": setter("date", None, rel="sub/n1.md"),
    "a javascript URL": edge_setter("url", "javascript:alert(1)"),
    "a source with neither URL nor title": edge_setter("url", None),
    "a source date that is no date": edge_setter("source_date", "yesterday"),
    "a label of two lines": setter("label", "a\nb"),
    "a tag that is a number": edge_setter("tag", 1),
    "tags that do not add up": setter("tags", 3),
    "an impossible distribution": setter("credence_dist", {"mean": 0.5, "spread": 0.9}),
    "provenance that is no id": edge_setter("extra", {"from": "Not An Id"}),
    "a column missing": drop_section("weight"),
    "edges that do not add up": setter("edges", 7),
    "a warning of another file": lambda c: c["warnings"].append([99, 1, "x"]),
}


@pytest.mark.parametrize("name", sorted(BAD_COLUMNS))
def test_a_cache_signed_with_the_users_own_key_still_cannot_pass_a_bad_value(
        tmp_path, old_enough, monkeypatch, counting, run, name):
    """Verdicts are cached, signed with the user's secret; even a cache signed with it (an
    attacker cannot have it) is checked on the way in: a value no valid file could give makes
    the whole cache ignored, and the load is the load without a cache."""
    make(tmp_path)
    (tmp_path / "n0.md").write_text(node_text(0, extra=WITH_SOURCES), encoding="utf-8")
    expected = summary(uncached(tmp_path, monkeypatch))
    Corpus.load(tmp_path)
    craft(tmp_path, BAD_COLUMNS[name], key=graph.files.cache.user_key())
    counting.clear()
    assert summary(Corpus.load(tmp_path)) == expected
    assert len(counting) == 5   # every file read again
    result = run(tmp_path, "check")
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output


def test_a_forged_cache_cannot_make_list_or_show_display_what_the_file_does_not_hold(
        tmp_path, old_enough, run):
    def forge(columns):
        row = row_of(columns, "n0.md")
        columns["title"][row] = "Forged title"
        columns["sources"][row] = [{"url": "https://evil.example/", "date": None}]
    make(tmp_path)
    Corpus.load(tmp_path)
    craft(tmp_path, forge)   # a valid cache in every other way, signed with another key
    for args in (["list"], ["show", "n0"], ["check"]):
        result = run(tmp_path, *args)
        assert result.exit_code == 0 and "Forged" not in result.output
        assert "evil.example" not in result.output
    assert "Node 0" in run(tmp_path, "show", "n0").output


def test_a_cache_relabelled_for_this_code_is_ignored(tmp_path, old_enough, counting, monkeypatch):
    """The signature covers the code's fingerprint: a cache made by other code (whose verdicts
    may differ) cannot be passed off as this code's by editing its header."""
    make(tmp_path)
    fingerprint = graph.files.cache._fingerprint()
    monkeypatch.setattr(graph.files.cache, "_fingerprint", lambda: "other code")
    Corpus.load(tmp_path)                          # written by "other code"
    head, _ = read_cache(tmp_path)
    assert head["fingerprint"] == "other code"
    cache = tmp_path / CACHE_DIR / CACHE_NAME
    cache.write_bytes(cache.read_bytes().replace(b"other code", fingerprint.encode()))
    monkeypatch.setattr(graph.files.cache, "_fingerprint", lambda: fingerprint)
    counting.clear()
    Corpus.load(tmp_path)
    assert len(counting) == 5


def test_changed_code_rebuilds_the_cache(tmp_path, old_enough, counting, monkeypatch):
    make(tmp_path)
    Corpus.load(tmp_path)
    monkeypatch.setattr(graph.files.cache, "_fingerprint", lambda: "changed code")
    counting.clear()
    Corpus.load(tmp_path)
    assert len(counting) == 5
    counting.clear()
    Corpus.load(tmp_path)
    assert counting == []


def test_the_fingerprint_covers_every_module_and_python(monkeypatch):
    """Any module of the package (the validation, the parser) and Python's version change it."""
    fingerprint = graph.files.cache._fingerprint()
    validate = Path(graph.files.validate.__file__)
    original = validate.read_bytes()
    try:
        validate.write_bytes(original + b"\n# a change\n")
        assert graph.files.cache._fingerprint() != fingerprint
    finally:
        validate.write_bytes(original)
    assert graph.files.cache._fingerprint() == fingerprint
    monkeypatch.setattr(graph.files.cache.sys, "version", "3.99.0 (another Python)")
    assert graph.files.cache._fingerprint() != fingerprint


@pytest.fixture
def checks(monkeypatch):
    """Counts the files parsed and checked on their own (not taken from the cache)."""
    calls = []
    real = graph.files.corpus.check_file

    def check(nf):
        calls.append(nf.path)
        return real(nf)

    monkeypatch.setattr(graph.files.corpus, "check_file", check)
    return calls


def test_second_load_parses_and_checks_nothing(tmp_path, old_enough, checks):
    make(tmp_path)
    Corpus.load(tmp_path)
    assert len(checks) == 5
    checks.clear()
    Corpus.load(tmp_path)
    assert checks == []


def test_a_touched_file_is_read_but_not_parsed_again(tmp_path, old_enough, counting, checks):
    """Same bytes, another mtime (touch, a checkout that rewrote it): its digest matches."""
    make(tmp_path)
    Corpus.load(tmp_path)
    path = tmp_path / "n2.md"
    path.write_bytes(path.read_bytes())
    counting.clear(), checks.clear()
    first = summary(Corpus.load(tmp_path))
    assert counting == [path] and checks == []
    counting.clear()
    assert summary(Corpus.load(tmp_path)) == first and counting == []   # its new lstat kept


def test_a_racy_file_is_read_every_time_but_parsed_once(tmp_path, counting, checks):
    make(tmp_path)
    Corpus.load(tmp_path)
    counting.clear(), checks.clear()
    Corpus.load(tmp_path)
    assert len(counting) == 5 and checks == []   # read (lstat not trusted), digest matched


def test_a_racy_edit_of_the_same_size_is_seen(tmp_path, monkeypatch):
    """Edited within the timestamp granularity, same size, mtime put back: the lstat may be
    identical, but a racy entry's lstat is never trusted."""
    make(tmp_path)
    Corpus.load(tmp_path)
    path = tmp_path / "n2.md"
    before = os.stat(path)
    path.write_text(node_text(2, credence=7), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert Corpus.load(tmp_path).graph.nodes["n2"]["credence"] == 0.7


def test_a_deleted_file_leaves_the_graph_and_its_edges_are_reported_at_their_line(
        tmp_path, old_enough, counting):
    """n3 supports n4; deleting n4 makes n3's cached verdict point at an unknown id: the error
    is found on the load, with the line of the target in n3 (the file is read for it)."""
    make(tmp_path)
    Corpus.load(tmp_path)
    (tmp_path / "n4.md").unlink()
    counting.clear()
    corpus = Corpus.load(tmp_path)
    assert "n4" not in corpus.graph and counting == []
    errors = [str(p) for p in corpus.errors]
    expected = [str(p) for p in uncached_problems(tmp_path) if p.level == "error"]
    assert errors == expected and len(errors) == 1
    where = graph.core.model.display_path(tmp_path / "sub" / "n3.md")
    assert errors[0].startswith(f"{where}:7: supports unknown id 'n4'")


def uncached_problems(root):
    os.environ["TAKEOFF_NO_CACHE"] = "1"
    try:
        return Corpus.load(root).problems
    finally:
        del os.environ["TAKEOFF_NO_CACHE"]


def test_a_file_replaced_by_a_link_is_read_through_the_link(tmp_path, old_enough, counting):
    make(tmp_path)
    Corpus.load(tmp_path)
    target = tmp_path / ".elsewhere" / "n2.md"
    target.parent.mkdir()
    target.write_text(node_text(2, title="through a link"), encoding="utf-8")
    (tmp_path / "n2.md").unlink()
    (tmp_path / "n2.md").symlink_to(target)
    for _ in range(2):
        counting.clear()
        corpus = Corpus.load(tmp_path)
        assert counting == [tmp_path / "n2.md"]
        assert corpus.graph.nodes["n2"]["title"] == "Node 2 through a link"


def test_a_file_replaced_by_a_link_outside_is_refused(tmp_path, old_enough):
    make(tmp_path)
    Corpus.load(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.md"
    outside.write_text(node_text(2), encoding="utf-8")
    (tmp_path / "n2.md").unlink()
    (tmp_path / "n2.md").symlink_to(outside)
    corpus = Corpus.load(tmp_path)
    assert "n2" not in corpus.graph
    assert any("outside the corpus" in p.message for p in corpus.errors)


def test_warnings_of_a_cached_file_keep_their_lines(tmp_path, old_enough, checks):
    make(tmp_path)
    (tmp_path / "n2.md").write_text(node_text(2, extra="colour: red\n") + "See [[nowhere]].\n")
    first = [str(p) for p in Corpus.load(tmp_path).problems]
    assert any("n2.md:5: warning: unknown key 'colour'" in p for p in first), first
    assert any("n2.md:11: warning: annotation links to unknown id 'nowhere'" in p for p in first), first
    checks.clear()
    assert [str(p) for p in Corpus.load(tmp_path).problems] == first and checks == []
    (tmp_path / "n9.md").write_text(node_text(9, kind="claim", n=10).replace("n0", "n1"))
    (tmp_path / "nowhere.md").write_text(node_text(7, kind="claim", target="n0"))
    problems = [str(p) for p in Corpus.load(tmp_path).problems]
    assert not any("nowhere" in p for p in problems)   # the link now resolves: checked each load


def test_month_dated_files_are_cached(tmp_path, counting, old_enough):
    """Files with month dates (2025-05) were parsed again on every command."""
    make(tmp_path)
    (tmp_path / "sub" / "n1.md").write_text(node_text(1).replace("date: 2024-02-01", "date: 2025-05"))
    first = summary(Corpus.load(tmp_path))
    counting.clear()
    corpus = Corpus.load(tmp_path)
    assert counting == [] and summary(corpus) == first
    assert corpus.graph.nodes["n1"]["date"].isoformat() == "2025-05"


def test_takeoff_toml_is_read_once_per_command(tmp_path, monkeypatch, run):
    """The settings and the sources of a command come from one read and parse of
    takeoff.toml; an edited one is read again."""
    import graph.files.config
    import graph.files.store

    monkeypatch.setattr(graph.files.config, "_RACY_NS", -10 ** 12)   # no file counts as racy
    make(tmp_path)
    marker = tmp_path / "takeoff.toml"
    marker.write_text('title = "t"\n[sources.alice]\ntitle = "Alice"\n', encoding="utf-8")
    reads = []
    real = graph.files.store.read_text

    def read_text(path, root=None):
        if Path(path).name == "takeoff.toml":
            reads.append(path)
        return real(path, root)

    monkeypatch.setattr(graph.files.config, "read_text", read_text)   # its guarded read
    graph.files.config._READ.clear()
    assert run(tmp_path, "score").exit_code == 0
    assert len(reads) == 1
    marker.write_text('title = "t"\n[sources.bob]\ntitle = "Bob"\n', encoding="utf-8")
    corpus = Corpus.load(tmp_path)
    assert len(reads) == 2 and set(corpus.graph.graph["sources"]) == {"bob"}
