"""The attack graph for standard argumentation solvers: ICCMA's TGF and APX (export only).

An abstract argumentation framework (Dung 1995) has arguments and attacks, nothing else. Every
node is an argument and every ``undermines`` edge an attack; everything else a weighted
bipolar corpus holds is lost, and counted in the export's ``losses``: the ``supports`` edges
(a support is no attack: a solver never sees it), the weights of the attacks (an attack
either holds or not), the credences (every argument starts equal), and the kinds. A solver's
extensions are therefore about a different, cruder question than ``takeoff score``: which
sets of nodes can stand together when every undermining is taken at full strength.

TGF (Trivial Graph Format, as ICCMA 2015-2021 used it)::

    fast-takeoff
    compute-bottleneck
    #
    compute-bottleneck fast-takeoff

APX (ASPARTIX)::

    arg(fast_takeoff).
    arg(compute_bottleneck).
    att(compute_bottleneck,fast_takeoff).

APX names are Prolog atoms, so ``-`` becomes ``_`` (ids have no ``_``, so names stay apart).
"""
from __future__ import annotations

from graph.formats.common import ExportText
from graph.core.model import DEFAULT_CREDENCE, DEFAULT_WEIGHT


def attacks(graph):
    """The ``(attacker, attacked)`` pairs of the corpus graph, sorted."""
    return sorted((s, t) for s, t, k in graph.edges(keys=True) if k == "undermines")


def attack_losses(graph):
    """What an attack graph leaves out of ``graph``, as ``["12 supports edge(s)", ...]``."""
    counts = {
        "supports edge(s)": sum(1 for *_, k in graph.edges(keys=True) if k == "supports"),
        "attack weight(s) other than 1": sum(
            1 for *_, k, a in graph.edges(keys=True, data=True) if k == "undermines"
            and (a.get("weight_dist") or a.get("weight", DEFAULT_WEIGHT) != DEFAULT_WEIGHT)),
        "credence(s) other than 0.5": sum(
            1 for _, a in graph.nodes(data=True) if a.get("credence_dist")
            or a.get("credence", DEFAULT_CREDENCE) != DEFAULT_CREDENCE),
    }
    return [f"{n} {what}" for what, n in counts.items() if n]


def export_tgf(graph):
    """ICCMA's TGF of the attack graph: one node id per line, ``#``, one attack per line."""
    lines = sorted(graph) + ["#"] + [f"{s} {t}" for s, t in attacks(graph)]
    return ExportText("\n".join(lines) + "\n", attack_losses(graph))


def _atom(node):
    return node.replace("-", "_")


def export_apx(graph):
    """ICCMA's APX (ASPARTIX) of the attack graph: ``arg(a).`` and ``att(a,b).`` facts."""
    lines = [f"arg({_atom(n)})." for n in sorted(graph)]
    lines += [f"att({_atom(s)},{_atom(t)})." for s, t in attacks(graph)]
    return ExportText("\n".join(lines) + "\n", attack_losses(graph))
