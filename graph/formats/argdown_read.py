"""Reading Argdown as the official parser reads it (docs/argdown.md maps it construct by
construct).

Four parts, each with one job: :class:`_Members` reads a statement or an argument from its
lines (title, text, data, tags), :class:`_Document` reads blocks into members and the
relations nested below them, :class:`_Structures` reads premise-conclusion structures into
inference steps, and :class:`_GraphMaker` turns all of it into nodes and edges. Every part
looks at each line a bounded number of times, so reading is linear in the size of the file
(bench/bench_formats.py).
"""
from __future__ import annotations

import re

from graph.formats import argdown_text as lex
from graph.formats.argdown_text import Braces, Line
from graph.formats.common import Builder, Taken, slugify
from graph.core.limits import quote
from graph.core.model import DEFAULT_WEIGHT, is_id

# YAML data keys the importer reads; any other key is reported as ignored.
DATA_KEYS = ("id", "kind", "evidence_kind", "title", "label", "credence", "date", "tags", "sources",
             "body", "edges")
_INFERENCE_DATA_KEYS = ("uses",) + DATA_KEYS

_RELATION = re.compile(r"(<\+|<-|<_|\+>|->|_>|><|\+|-|_)(?:[ \t]+(.*)|$)", re.S)
_MEMBER = re.compile(r"(?:\[(?P<statement>(?:\\.|[^\[\]\\])+)\]|<(?P<argument>(?:\\.|[^<>\\])+)>)"
                     r"(?:\s*:\s*(?P<text>.*))?$", re.S)
_NUMBERED = re.compile(r"\(\d+\)(?:\s+(.*)|$)", re.S)
_INFERENCE = re.compile(r"--(.*?)-{2,}\s*$", re.S)  # a whole inference on one line
_INFERENCE_END = re.compile(r"-{2,}\s*$")
_LIST_ITEM = re.compile(r"(?:\*|\d+\.)\s+(.*)", re.S)
# Relation symbol -> (relation, whether the parent is the source), for the child-parent pair.
_SYMBOLS = {"+": ("support", False), "<+": ("support", False), "+>": ("support", True),
            "-": ("attack", False), "<-": ("attack", False), "->": ("attack", True),
            "_": ("undercut", False), "<_": ("undercut", False), "_>": ("undercut", True),
            "><": ("contradiction", True)}


def parse_argdown(text):
    """A corpus graph from Argdown text (or from the ```` ```argdown ```` blocks of Markdown).

    Reads statements (``[Title]: text``, references ``[Title]``, untitled text, each over as
    many lines as it runs), arguments (``<Title>: text``, ``<Title>``), premise-conclusion
    structures (numbered statements, indented or not, with inferences between them: ``----``,
    ``-- rule --``, or ``--``, the rules and ``{uses: [1, 2]}`` data on lines of their own,
    ``--``; intermediate conclusions included) and the relations below any of them, nested by
    indentation: ``+`` / ``<+`` / ``+>`` support, ``-`` / ``<-`` / ``->`` attack, ``_`` /
    ``<_`` / ``_>`` undercut and ``><`` contradiction (each undermines the other). With
    ``model: {mode: strict}`` in the front matter an attack between two statements is
    Argdown's *contrary*, which is symmetric: each undermines the other.

    An argument is a node of kind ``argument``: its premises support it and it supports its
    conclusion; each intermediate conclusion gets an argument of its own (``<Title - 1>``, as
    Argdown's own "explode arguments" names them). As in Argdown, a relation from an argument
    that has a premise-conclusion structure is its conclusion's. An attack on an argument or an
    undercut undermines the argument node. Statements with the same title are one node (an
    equivalence class); hashtags and the innermost heading become tags; YAML data ``{...}`` may
    carry takeoff fields (kind, credence, date, sources, body, title and an ``edges`` map of
    weights and notes by target id); backslash escapes are read as the character. Without
    data a node has credence 0.5 and an edge weight 1. Comments are skipped wherever they
    are. A self-attack (legal in Argdown) is left out with a warning: a corpus node cannot
    undermine itself.

    Parameters
    ----------
    text : str

    Returns
    -------
    networkx.MultiDiGraph
        With ``graph.graph["summary"]`` counting what was read and
        ``graph.graph["warnings"]`` listing what was left out.

    Raises
    ------
    FormatError
        With the line of each problem: bad YAML data, a relation with nothing above it or
        naming nothing, an undercut of a statement that no inference concludes, a
        premise-conclusion structure without a conclusion, an inference never closed, and
        what has no meaning here: Argdown+ front matter and ``@include``.

    Examples
    --------
    >>> G = parse_argdown("[Fast]: Takeoff is fast.\\n    - [Slow]: It is slow.\\n")
    >>> sorted(G.edges(keys=True))
    [('slow', 'fast', 'undermines')]
    """
    build = Builder("Argdown file")
    text, fenced = lex.markdown_fences(text)
    settings, blocks = lex.blocks(text, build)
    model = settings.get("model") if isinstance(settings.get("model"), dict) else {}
    document = _Document(build)
    for block in blocks:
        document.block(block)
    _GraphMaker(document, build, strict=model.get("mode") == "strict").make()
    if fenced:
        build.graph.graph["summary"] += " from ```argdown blocks"
    return build.result()


class _Members:
    """The statements and arguments of a document by key: ``("[" | "<" | "", title)``; an
    untitled statement's title is ``line:text`` (each is a statement of its own)."""

    def __init__(self, build):
        self.build = build
        self.by_key = {}  # key -> dict(texts, data, tags, line)
        self.section = None  # the innermost heading: it tags what is defined below it

    def read(self, lines):
        """Parse a member from its lines (the first without its relation symbol); returns its
        key."""
        number = lines[0].number
        text = "\n".join([lines[0].text] + [line.raw for line in lines[1:]])
        text, data = lex.split_data(text, number, self.build, DATA_KEYS)
        text, tags = lex.split_tags(text)
        text = " ".join(text.split())
        match = _MEMBER.match(text)
        if match and (match.group("statement") or match.group("argument")):
            title = lex.unescape(" ".join((match.group("statement") or match.group("argument")).split()))
            key = ("[" if match.group("statement") else "<", title)
            own_text = lex.unescape(match.group("text") or "").strip() or None
        elif text:
            key, own_text = ("", f"{number}:{text}"), lex.unescape(text)
        else:
            self.build.problems.append(f"line {number}: expected a statement or an argument")
            key, own_text = ("", f"{number}:"), None
        if own_text and self.section and self.section not in tags:
            tags.append(self.section)
        self.add(key, own_text, data, tags, number)
        return key

    def add(self, key, own_text, data, tags, number):
        member = self.by_key.setdefault(key, {"texts": [], "data": {}, "tags": [], "line": number})
        if own_text and own_text not in member["texts"]:
            member["texts"].append(own_text)
        member["data"].update(data)
        member["tags"] += [t for t in tags if t not in member["tags"]]

    def heading(self, text, number):
        text, _ = lex.split_data(text, number, self.build, DATA_KEYS)
        text, _ = lex.split_tags(text)
        self.section = lex.unescape(" ".join(text.split())) or None

    def untitled_argument(self, number):
        count = sum(k[0] == "<" and k[1].startswith("Untitled ") for k in self.by_key)
        key = ("<", f"Untitled {count + 1}")
        self.add(key, None, {}, [], number)
        return key


class _Document:
    """Blocks into members, relations and premise-conclusion structures."""

    def __init__(self, build):
        self.build = build
        self.members = _Members(build)
        self.structures = _Structures(self)
        self.relations = []  # (parent key, symbol, child key, line)
        self.previous = None  # the key of the member the previous block defined

    def block(self, block):
        heading = lex.heading(block[0])
        if heading is not None and len(block) == 1:
            self.members.heading(heading, block[0].number)
            return
        pcs_at = _pcs_start(block)
        head = self.tree(block[:pcs_at]) if pcs_at != 0 else self.previous
        if pcs_at is not None:
            if head is None or head[0] != "<":
                head = self.members.untitled_argument(block[pcs_at].number)
            self.structures.read(head, block[pcs_at:])
        # A structure belongs to the argument right above it; after one, a new one is untitled.
        self.previous = head if pcs_at is None else None

    def tree(self, lines, parent=None):
        """Read a member and the relations nested below it; returns the member's key (or
        ``parent``'s when the lines are only relations of ``parent``)."""
        stack = [(-1, parent)] if parent is not None else []
        head = parent
        for indent, symbol, member_lines in _elements(lines):
            if symbol is not None and not member_lines[0].text.strip():
                self.build.problems.append(f"line {member_lines[0].number}: relation {symbol!r} "
                                           "names no statement or argument")
                continue
            key = self.members.read(member_lines)
            if symbol is None:
                stack, head = [(indent, key)], key
                continue
            while stack and stack[-1][0] >= indent:
                stack.pop()
            if not stack:
                self.build.problems.append(f"line {member_lines[0].number}: relation {symbol!r} has "
                                           "no statement or argument above it to belong to")
                stack = [(indent, key)]
                continue
            self.relations.append((stack[-1][1], symbol, key, member_lines[0].number))
            stack.append((indent, key))
        return head


def _elements(lines):
    """The members of a run of lines: ``(indent, relation symbol or None, [lines])``, the first
    line without its symbol or list marker. A line continues the member above it unless it
    starts a relation or a list item outside open YAML data."""
    elements, braces, top = [], Braces(), None
    for line in lines:
        if elements and braces.open:
            elements[-1][2].append(line)
            braces.feed("\n" + line.raw)
            continue
        relation = _RELATION.match(line.text)
        item = _LIST_ITEM.match(line.text)
        if item and (top is None or line.indent <= top):
            first, symbol = Line(line.number, line.indent, item.group(1)), None
        elif relation:
            first, symbol = Line(line.number, line.indent, relation.group(2) or ""), relation.group(1)
        elif elements:
            elements[-1][2].append(line)
            braces.feed("\n" + line.raw)
            continue
        else:
            first, symbol = line, None
        top = line.indent if top is None else top
        elements.append((line.indent, symbol, [first]))
        braces = Braces().feed(first.text)
    return elements


def _pcs_start(block):
    """The index of the line that starts a premise-conclusion structure in ``block`` (a
    numbered statement at the block's indentation or left of it, outside YAML data), or None."""
    braces = Braces()
    for i, line in enumerate(block):
        if not braces.open:
            if _NUMBERED.match(line.text) and (i == 0 or line.indent <= block[0].indent):
                return i
            braces = Braces()
        braces.feed(line.text + "\n")
    return None


class _Statement:
    """A numbered statement being read: its lines, the YAML data state of its text, and where
    the relations below it begin."""

    __slots__ = ("lines", "braces", "cut")

    def __init__(self, line, text):
        self.lines = [Line(line.number, line.indent, text, text)]
        self.braces = Braces().feed(text)
        self.cut = None

    def add(self, line):
        if self.cut is None and not self.braces.open and _RELATION.match(line.text):
            self.cut = len(self.lines)
        self.lines.append(line)
        if self.cut is None:
            self.braces.feed("\n" + line.raw)


class _Structures:
    """Premise-conclusion structures, as inference steps: ``{argument key: [(premise keys,
    conclusion key, step key, rule, line)]}``."""

    def __init__(self, document):
        self.document = document
        self.build = document.build
        self.steps = {}
        self.step_keys = set()  # the members made for intermediate conclusions

    def read(self, argument, lines):
        """Read the structure of ``argument``: numbered statements (each over its lines, with
        the relations below it) and the inferences between them."""
        base = lines[0].indent
        items = []  # ("statement", key, line) or ("inference", rule, data, line)
        statement, inference = None, None  # what is being read

        def flush():
            nonlocal statement
            if statement is not None:
                cut = statement.cut or len(statement.lines)
                key = self.document.members.read(statement.lines[:cut])
                items.append(("statement", key, statement.lines[0].number))
                self.document.tree(statement.lines[cut:], parent=key)
                statement = None

        for line in lines:
            if statement is not None and statement.braces.open:
                statement.add(line)
            elif inference is not None:
                inference.append(line)
                if _INFERENCE_END.search(line.text):
                    items.append(self._inference(inference))
                    inference = None
            elif line.indent <= base and _NUMBERED.match(line.text):
                flush()
                statement = _Statement(line, _NUMBERED.match(line.text).group(1) or "")
            elif line.indent <= base and line.text.startswith("--"):
                flush()
                if _INFERENCE.match(line.text):
                    items.append(self._inference([line]))
                else:
                    inference = [line]
            elif statement is not None:
                statement.add(line)
            else:
                self.build.problems.append(f"line {line.number}: expected a numbered statement "
                                           "or an inference line (-- rule --)")
        flush()
        if inference is not None:
            self.build.problems.append(f"line {inference[0].number}: the inference is never "
                                       "closed (a line ending in --)")
            return
        self._split(argument, items, lines[0].number)

    def _inference(self, lines):
        """An inference item from its lines (the first starting ``--``, the last ending so)."""
        text = "\n".join([lines[0].text[2:]] + [line.raw for line in lines[1:]])
        text = _INFERENCE_END.sub("", text)
        text, data = lex.split_data(text, lines[0].number, self.build, _INFERENCE_DATA_KEYS)
        rules = [lex.unescape(" ".join(r.split())) for r in text.split(",")]
        return ("inference", ", ".join(r for r in rules if r), data, lines[0].number)

    def _split(self, argument, items, number):
        """Split a structure into inference steps, as Argdown's "explode arguments" does: an
        inference uses the statements named by its ``uses`` data, else those since the
        previous conclusion (that one included)."""
        if argument in self.steps:
            self.build.problems.append(f"line {number}: argument <{argument[1]}> has a second "
                                       "premise-conclusion structure (Argdown allows one)")
            return
        statements = [item[1] for item in items if item[0] == "statement"]
        inferences = [i for i, item in enumerate(items) if item[0] == "inference"]
        if not inferences or inferences[-1] != len(items) - 2 or inferences[0] == 0 \
                or any(b - a < 2 for a, b in zip(inferences, inferences[1:])):
            self.build.problems.append(f"line {number}: the premise-conclusion structure of "
                                       f"<{argument[1]}> needs premises, then an inference line "
                                       "(---- or -- rule --) before each conclusion, and ends "
                                       "with its conclusion")
            return
        steps, since = [], 0
        for n, at in enumerate(inferences, start=1):
            _, rule, data, line = items[at]
            index = at - n + 1  # the number of statements before this inference
            uses = data.get("uses")
            if isinstance(uses, list) and uses and all(
                    isinstance(u, int) and not isinstance(u, bool) and 1 <= u <= index for u in uses):
                premises = [statements[u - 1] for u in uses]
            elif uses is not None:
                self.build.problems.append(f"line {line}: 'uses' must list the numbers of "
                                           f"statements above the inference (1 to {index})")
                return
            else:
                premises = statements[since:index]
            since = index
            step = argument if n == len(inferences) else ("<", f"{argument[1]} - {n}")
            if step != argument:
                self.step_keys.add(step)
            self.document.members.add(step, None, {k: v for k, v in data.items() if k != "uses"},
                                      [], line)
            steps.append((premises, statements[index], step, rule, line))
        self.steps[argument] = steps


class _GraphMaker:
    """Members into nodes, structures and relations into edges."""

    def __init__(self, document, build, strict):
        self.document, self.build, self.strict = document, build, strict
        self.members = document.members.by_key
        self.ids = {}
        self.self_attacks = []
        self.distinct = set()  # the relations, as the official parser counts them

    def make(self):
        self._nodes()
        structures = self.document.structures.steps
        conclusion_of = {key: steps[-1][1] for key, steps in structures.items()}
        step_of, used_by = {}, {}  # statement -> the inference step concluding / using it
        for steps in structures.values():
            for premises, conclusion, step, rule, line in steps:
                step_of.setdefault(conclusion, step)
                for premise in premises:
                    used_by.setdefault(premise, step)
                    self._edge(premise, step, "supports", line)
                self._edge(step, conclusion, "supports", line, rule)
        for parent, symbol, child, number in self.document.relations:
            kind, parent_first = _SYMBOLS[symbol]
            source, target = (parent, child) if parent_first else (child, parent)
            if kind == "undercut" and target[0] != "<":
                # As in Argdown: undercutting a statement of a premise-conclusion structure
                # attacks the inference that concludes it, or else the one that uses it.
                target = step_of.get(target) or used_by.get(target)
                if target is None:
                    self.build.problems.append(
                        f"line {number}: an undercut ({symbol}) attacks an inference: its target "
                        "must be an argument or a statement of a premise-conclusion structure")
                    continue
            if source in conclusion_of:  # Argdown: the relation is the conclusion's
                source = conclusion_of[source]
                if source == target and kind == "support":
                    continue  # a relation to its own conclusion: the structure says it
            relation = "supports" if kind == "support" else "undermines"
            self._edge(source, target, relation, number)
            target = conclusion_of.get(target, target)
            contrary = self.strict and kind == "attack" and "<" not in (source[0], target[0])
            symmetric = kind == "contradiction" or contrary
            # The official parser counts one relation per pair and type, however often written.
            self.distinct.add((kind, frozenset((source, target))) if symmetric else (kind, source, target))
            if kind == "contradiction" or contrary:  # symmetric: each undermines the other
                self._edge(target, source, relation, number)
        self._summary()

    def _summary(self):
        """What was read, counted as the official parser counts it: statements (equivalence
        classes), arguments (the inference steps made for intermediate conclusions apart) and
        relations (one per pair and type, however often written; none for an argument's
        relation to its own conclusion)."""
        members = self.members
        structures = self.document.structures.steps
        statements = sum(key[0] != "<" for key in members)
        steps = sum(len(s) - 1 for s in structures.values())
        extra = f", {steps} intermediate inference(s) as arguments of their own" if steps else ""
        summary = (f"read {statements} statement(s), {len(members) - statements - steps} "
                   f"argument(s) ({len(structures)} with premise-conclusion structures{extra}), "
                   f"{len(self.distinct)} relation(s)")
        if self.strict:
            summary += " in strict mode (an attack between statements is a contrary: both ways)"
        if self.self_attacks:
            lines = ", ".join(str(n) for n in self.self_attacks[:10])
            self.build.warnings.append(
                f"left out {len(self.self_attacks)} self-attack(s) (line {lines}): a node of a "
                "takeoff-graph corpus cannot undermine itself")
        self.build.graph.graph["summary"] = summary

    def _nodes(self):
        build, taken, ids = self.build, Taken(), self.ids
        for key, member in self.members.items():
            data = member["data"]
            wanted = data.get("id")
            if is_id(wanted) and wanted not in taken:
                ids[key] = wanted
                taken.add(wanted)
            elif key[0] in "[<" and is_id(key[1]) and key[1] not in taken:
                ids[key] = key[1]
                taken.add(key[1])
            else:
                ids[key] = slugify(key[1].split(":", 1)[-1] if key[0] == "" else key[1], taken)
            kind = data.get("kind", "argument" if key[0] == "<" else "claim")
            if (kind == "argument") != (key[0] == "<"):
                build.problems.append(f"line {member['line']}: kind {quote(kind)} does not fit "
                                      f"{'an argument <...>' if key[0] == '<' else 'a statement'}: "
                                      "arguments are written <title>, other kinds [title]")
            texts = member["texts"]
            # The first text is the title (unless the data gives the exact one); any other
            # formulations of the same statement or argument are kept in the body.
            title = data.get("title") if isinstance(data.get("title"), str) else (texts[0] if texts else key[1])
            extra = texts[1:]
            body = data.get("body") if isinstance(data.get("body"), str) else ""
            if extra:
                body = "\n\n".join(([body.rstrip("\n")] if body else []) + extra) + "\n"
            tags = data["tags"] if "tags" in data else member["tags"]
            # An Argdown title that is not the id is the node's label (written back as
            # [title]); an inference step's title is made from its argument's.
            named = key[0] and key[1] != ids[key] and key not in self.document.structures.step_keys
            label = data.get("label", key[1] if named else None)
            build.add_node(ids[key], title, {**data, "kind": kind, "body": body, "tags": tags,
                                             "label": label}, f"line {member['line']}")

    def _edge(self, source, target, relation, number, note=""):
        where = f"line {number}"
        if source == target and relation == "undermines":
            self.self_attacks.append(number)
            return
        extras = self._edge_extras(source, self.ids[target], where)
        self.build.add_edge(self.ids[source], self.ids[target], relation,
                            extras.get("weight", DEFAULT_WEIGHT), extras.get("note", note), where,
                            provenance=extras)

    def _edge_extras(self, source, target, where):
        """The weight and note the source's data gives the edge to ``target`` (maybe none)."""
        edges = self.members[source]["data"].get("edges") or {}
        if not isinstance(edges, dict):
            self.build.problems.append(f"{where}: the 'edges' data must map target ids to "
                                       "{weight, note}")
            return {}
        extras = edges.get(target) or {}
        return extras if isinstance(extras, dict) else {"weight": extras}
