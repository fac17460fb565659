"""Cross-links in annotations: [[id]], [[id|text]] and [text](#id), in check, show and the page."""
import json

from graph.page.html import write_html
from graph.core.links import annotation_links
from graph.files.corpus import Corpus

from helpers import Page, write_node


def test_annotation_links_finds_both_forms_in_order_and_skips_code():
    body = ("First [[alpha]] then [the b](#beta) and [[gamma|Gamma]].\n"
            "`[[in-span]]` stays text\n"
            "```\n[[in-fence]]\n```\n"
            "~~~~\n```\n[[still-fenced]]\n~~~~\n"
            "last [x](#delta) [[ spaced ]] [not](https://e.org/#frag)\n")
    assert annotation_links(body) == [("alpha", 1), ("beta", 1), ("gamma", 1), ("delta", 10),
                                      ("spaced", 10)]
    assert annotation_links("no links [here](https://example.org)") == []


def _linking_corpus(root, body):
    write_node(root, "m1", "---\nkind: model\ntitle: A path\n---\n")
    write_node(root, "c1", f"---\nkind: claim\ntitle: A claim\nsupports:\n  - target: m1\n---\n{body}")
    return root


def test_check_warns_about_a_link_to_an_unknown_id_with_its_line(tmp_path, run):
    root = _linking_corpus(tmp_path / "claims", "Intro.\n\nSee [[m2]] and [the path](#m1).\n")
    result = run(root, "check")
    assert result.exit_code == 0, result.output
    assert "c1.md:9: warning: annotation links to unknown id 'm2' (did you mean 'm1'?)" in result.output
    assert "'m1'" not in result.output.split("did you mean")[0]


def test_check_is_quiet_when_every_link_resolves(tmp_path, run):
    root = _linking_corpus(tmp_path / "claims", "See [[m1]] and [[m1|the path]].\n")
    result = run(root, "check")
    assert result.exit_code == 0 and "annotation" not in result.output, result.output


def test_show_lists_links_and_marks_unknown_ones(tmp_path, run):
    root = _linking_corpus(tmp_path / "claims", "See [[m1]], [[ghost]] and [again](#m1).\n")
    result = run(root, "show", "c1")
    assert "links: m1, ghost (unknown id)" in result.output
    data = json.loads(run(root, "show", "c1", "--json").stdout)
    assert data["links"] == [{"id": "m1", "exists": True}, {"id": "ghost", "exists": False}]


def test_links_in_the_page_select_the_node_and_stay_in_the_page(tmp_path, browser):  # noqa: F811
    root = _linking_corpus(tmp_path / "claims",
                           "Wiki [[m1|the path]], anchor [path](#m1), unknown [[nope]], "
                           "script [x](javascript:alert(1)), code `[[m1]]`.\n")
    corpus = Corpus.load(root).require_valid()
    path = tmp_path / "map.html"
    write_html(path, corpus.graph)
    page = Page(browser, path)
    try:
        page.js("() => takeoff.openPanel('c1')")
        links = page.js("""() => Array.from(document.querySelectorAll('.annotation a'))
                             .map(a => [a.textContent, a.getAttribute('href'), a.getAttribute('target')])""")
        assert links == [["the path", "#m1", None], ["path", "#m1", None], ["nope", "#nope", None]]
        assert page.js("() => document.querySelector('.annotation code').textContent") == "[[m1]]"
        page.page.click(".annotation a >> nth=0")
        assert page.js("() => takeoff.state.selected") == "m1"
        assert page.js("() => location.hash") in ("", "#")
        page.js("() => takeoff.openPanel('c1')")
        page.page.click(".annotation a >> nth=2")
        assert page.js("() => takeoff.state.selected") == "c1"
        page.assert_clean()
    finally:
        page.close()


def test_mv_rewrites_links_to_the_renamed_node(tmp_path, run):
    from graph.files.edit import init_corpus

    root = tmp_path / "claims"
    init_corpus(root)
    _linking_corpus(root, "See [[m1]], [[m1|the path]] and [it](#m1); `[[m1]]` is code.\n")
    write_node(root, "c2", "---\nkind: claim\ntitle: Other\n---\nAlso [[m1]] but not [[m10]].\n")
    result = run(root, "mv", "m1", "main-path")
    assert result.exit_code == 0, result.output
    assert (root / "c1.md").read_text().endswith(
        "See [[main-path]], [[main-path|the path]] and [it](#main-path); `[[m1]]` is code.\n")
    assert (root / "c2.md").read_text().endswith("Also [[main-path]] but not [[m10]].\n")
    check = run(root, "check")
    assert check.exit_code == 0 and "'main-path'" not in check.output + check.stderr
    assert "annotation links to unknown id 'm10'" in check.output + check.stderr
