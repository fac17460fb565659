"""The graph graph.files.validate.assemble builds through networkx's own dictionaries is the
graph networkx's add_node / add_edge build: the same nodes, edges, keys and data, and every
view and algorithm sees it alike."""
import networkx as nx

from graph.core.model import NodeFile
from graph.files.validate import build_graph

FILES = {
    "a": "kind: model\ntitle: A\n",
    "b": "kind: claim\ntitle: B\ncredence: 0.7\nsupports:\n  - target: a\n    weight: 0.5\n    note: n\n",
    "c": "kind: evidence\ntitle: C\ndate: 2024-05\nsupports: [b]\nundermines:\n  - target: a\n"
         "    weight: {low: 0.2, high: 0.4}\n",
    "d": "kind: argument\ntitle: D\nsupports:\n  - target: b\n  - target: c\n    weight: 0.9\n",
    "e": "kind: claim\ntitle: E\nsupports:\n  - target: nowhere\n  - target: e\n",
}


def loaded():
    from pathlib import Path

    files = [NodeFile(Path(f"/corpus/{i}.md"), i, front, f"Body of {i}.\n")
             for i, front in FILES.items()]
    return build_graph(files)


def rebuilt(graph):
    """The same graph made through networkx's public methods."""
    other = nx.MultiDiGraph()
    other.graph.update(graph.graph)
    for node, attrs in graph.nodes(data=True):
        other.add_node(node, **attrs)
    for u, v, key, data in graph.edges(keys=True, data=True):
        other.add_edge(u, v, key=key, **data)
    return other


def test_assembled_graph_equals_the_one_networkx_builds():
    graph, problems = loaded()
    other = rebuilt(graph)
    assert nx.utils.graphs_equal(graph, other)
    assert sorted(graph.edges(keys=True, data=True)) == sorted(other.edges(keys=True, data=True))
    assert dict(graph.in_degree()) == dict(other.in_degree())
    assert dict(graph.out_degree()) == dict(other.out_degree())
    assert graph.number_of_edges() == other.number_of_edges() == 5
    assert sorted(nx.topological_sort(graph)) == sorted(nx.topological_sort(other))
    assert graph.pred["a"] == other.pred["a"] and graph.succ["c"] == other.succ["c"]
    assert graph["c"]["a"]["undermines"]["weight_dist"] == {"low": 0.2, "high": 0.4}
    # e's unknown target and its self-loop are problems, not edges
    assert [p.message.split(" (")[0] for p in problems if p.level == "error"] == [
        "supports unknown id 'nowhere'", "'e' supports itself"]


def test_the_assembled_graph_can_be_changed_as_any_other():
    graph, _ = loaded()
    graph.add_edge("a", "e", key="supports", relation="supports", weight=1.0, note="")
    graph.remove_node("b")
    assert set(graph) == {"a", "c", "d", "e"} and graph.has_edge("a", "e", key="supports")
    assert not any(v == "b" for _, v in graph.edges())
    copy = graph.copy()
    assert nx.utils.graphs_equal(copy, graph)
