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


# ---- a crafted cache (issue 28): content only, signed, validated on every load -----------------

def craft(root, forged, key=None):
    """Write ``root``'s cache by hand, as an attacker would: every node file's true ``lstat``
    key and the package's fingerprint, with the parsed front matter of ``forged[rel]`` in place
    of the file's; signed with ``key`` (the user's own secret: the worst case) or a wrong one."""
    import hashlib
    import hmac
    import json

    lines = []
    for path in sorted(root.rglob("*.md")):
        rel = str(path.relative_to(root))
        text = path.read_text()
        front, body = graph.core.model.split_front_matter(text)
        parsed = forged[rel] if rel in forged else graph.core.frontmatter.parse_front(front)
        lines.append(json.dumps([rel, [graph.files.cache._key(os.lstat(path)), front, body, parsed]]) + "\n")
    body = "".join(lines).encode()
    mac = hmac.new(key or b"x" * 32, body, hashlib.sha256).hexdigest()
    head = json.dumps({"format": graph.files.cache.FORMAT, "version": graph.files.cache.VERSION,
                       "fingerprint": graph.files.cache._fingerprint(), "mac": mac})
    cache = root / CACHE_DIR / CACHE_NAME
    cache.parent.mkdir(exist_ok=True)
    cache.write_bytes(head.encode() + b"\n" + body)


BAD_VALUES = [{"kind": "claim", "title": "t", "credence": 7.5},
              {"kind": "claim", "title": "t", "credence": "NaN"},
              {"kind": "wizard", "title": "t"},
              {"kind": "claim", "title": "t", "supports": [{"target": "n1", "weight": 7}]},
              {"title": "no kind"},
              {}]


@pytest.mark.parametrize("forged", BAD_VALUES)
def test_a_cache_signed_with_the_users_own_key_still_cannot_pass_a_bad_value(
        tmp_path, old_enough, monkeypatch, run, forged):
    """Verdicts are never cached: even a cache signed with the user's own secret (an attacker
    cannot have it) only saves the parse; every load validates what it gives."""
    make(tmp_path)
    Corpus.load(tmp_path)
    craft(tmp_path, {"n0.md": forged}, key=graph.files.cache.user_key())
    result = run(tmp_path, "check")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "n0.md" in result.output


def test_a_forged_cache_cannot_make_list_or_show_display_what_the_file_does_not_hold(
        tmp_path, old_enough, run):
    make(tmp_path)
    Corpus.load(tmp_path)
    craft(tmp_path, {"n0.md": {"kind": "claim", "title": "Forged title", "credence": 0.5,
                               "sources": [{"url": "https://evil.example/"}],
                               "supports": [{"target": "n1", "weight": 0.5}]}})
    for args in (["list"], ["show", "n0"], ["check"]):
        result = run(tmp_path, *args)
        assert result.exit_code == 0 and "Forged" not in result.output
        assert "evil.example" not in result.output
    assert "Node 0" in run(tmp_path, "show", "n0").output


def test_month_dated_files_are_cached(tmp_path, counting, old_enough):
    """Files with month dates (2025-05) were parsed again on every command."""
    make(tmp_path)
    (tmp_path / "sub" / "n1.md").write_text(node_text(1).replace("date: 2024-02-01", "date: 2025-05"))
    first = summary(Corpus.load(tmp_path))
    counting.clear()
    corpus = Corpus.load(tmp_path)
    assert counting == [] and summary(corpus) == first
    assert corpus.graph.nodes["n1"]["date"].isoformat() == "2025-05"
