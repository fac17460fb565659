"""The package's layers, checked from the source: every import, at the top of a module or inside
a function, goes down or sideways within a layer, never up; no import circle; no module imports
another's private name; every layer says what it owns and what it may import."""
import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "graph"
# Each layer may import itself and the layers listed (graph/__init__.py draws the same map).
MAY_IMPORT = {
    "core": set(),
    "solving": {"core"},
    "files": {"core", "solving"},
    "explaining": {"core", "solving", "files"},
    "formats": {"core", "solving", "files"},
    "page": {"core", "solving", "files", "explaining", "formats"},
    "commands": {"core", "solving", "files", "explaining", "formats", "page"},
}


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


FUNCTION = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def is_type_checking(test):
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def catches_import_error(node):
    """Whether the ``try`` NODE handles a failed import (an optional package, a missing
    platform module)."""
    names = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    for handler in node.handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if handler.type is None or any(isinstance(k, ast.Name) and k.id in names for k in kinds):
            return True
    return False


def import_statements(tree):
    """``[(statement, where)]`` for every import statement of the module TREE; ``where`` is
    "top" (run when the module is imported), "checking" (under ``if TYPE_CHECKING:``, never
    run), "function" (run when a function is called) or "optional" (in a function, in a
    ``try`` that handles a failed import)."""
    found = []

    def visit(node, where):
        for field, value in ast.iter_fields(node):
            children = value if isinstance(value, list) else [value]
            for child in children:
                if not isinstance(child, ast.AST):
                    continue
                inner = where
                if isinstance(child, FUNCTION) and where == "top":
                    inner = "function"
                elif (isinstance(node, ast.If) and field == "body" and where == "top"
                      and is_type_checking(node.test)):
                    inner = "checking"
                elif (isinstance(node, ast.Try) and field == "body" and where == "function"
                      and catches_import_error(node)):
                    inner = "optional"
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    found.append((child, inner))
                visit(child, inner)

    visit(tree, "top")
    return found


def sources():
    """``{module name: (path, parsed tree)}`` for graph/ and cli.py."""
    paths = [*PACKAGE.rglob("*.py"), ROOT / "cli.py"]
    return {module_name(p): (p, ast.parse(p.read_text(), str(p))) for p in paths}


def targets(statement, modules):
    """``[(module, name or None)]``: what an import statement imports, a module being named
    whole where ``from package import module`` names one (a module of MODULES or of the
    measured table :data:`COSTLY`)."""
    if isinstance(statement, ast.Import):
        return [(alias.name, None) for alias in statement.names]
    if statement.level or not statement.module:
        return []
    found = []
    for alias in statement.names:
        full = f"{statement.module}.{alias.name}"
        found.append((full, None) if full in modules or full in COSTLY
                     else (statement.module, alias.name))
    return found


def all_imports():
    """``[(importer, imported module, name or None, line, where)]`` for every import of any
    module by a graph module or cli.py (``where`` as in :func:`import_statements`)."""
    parsed = sources()
    found = []
    for name, (_, tree) in parsed.items():
        for statement, where in import_statements(tree):
            found += [(name, module, imported, statement.lineno, where)
                      for module, imported in targets(statement, parsed)]
    return parsed, found


def graph_imports():
    """``[(importer, imported module, name or None, line)]`` for every import of a graph module
    by a graph module or cli.py, wherever it stands in the file."""
    parsed, found = all_imports()
    return parsed, [(a, b, n, line) for a, b, n, line, _ in found if b in parsed]


def layer(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[0] == "graph") else None


def test_the_layers_are_the_folders_of_graph():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(MAY_IMPORT)
    assert {p.name for p in PACKAGE.glob("*.py")} == {"__init__.py"}


@pytest.mark.parametrize("name", sorted(MAY_IMPORT))
def test_every_layer_says_what_it_owns_and_may_import(name):
    doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
    assert doc and "May import" in doc, f"graph/{name}/__init__.py needs a docstring saying what it may import"
    allowed = MAY_IMPORT[name]
    named = {other for other in MAY_IMPORT
             if other != name and f"graph.{other}" in doc.split("May import", 1)[1]}
    assert named == allowed, (name, named, allowed)


def test_no_import_goes_up_a_layer():
    _, imports = graph_imports()
    upward = [f"{a}:{line} imports {b}" for a, b, _, line in imports
              if layer(a) and layer(b) and layer(b) != layer(a) and layer(b) not in MAY_IMPORT[layer(a)]]
    assert upward == []


def test_no_import_circle():
    modules, imports = graph_imports()
    g = nx.DiGraph((a, b) for a, b, _, _ in imports if a != b and not b == "graph")
    circles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert circles == []


def test_no_module_imports_a_private_name_of_another():
    _, imports = graph_imports()
    private = [f"{a}:{line} imports {b}.{n}" for a, b, n, line in imports
               if n and n.startswith("_") and a != b]
    assert private == []


def test_cli_only_parses_and_prints():
    """cli.py and the command modules reach the package through its public functions and
    define no algorithm: each function stays short."""
    files = [ROOT / "cli.py", *(PACKAGE / "commands").glob("*.py")]
    long = [f"{path.name}:{f.name}" for path in files
            for f in ast.walk(ast.parse(path.read_text())) if isinstance(f, ast.FunctionDef)
            and f.end_lineno - f.lineno > 80]
    assert long == []


# A function may span at most this many lines of its own, from its `def` to its last line,
# docstring included, less the functions nested in it, which are held to the bound themselves
# (what a reader scrolls through; issue 22: long functions split by what they do). A closure
# such as plainyaml.plain_loader, short functions sharing local names for speed, is read
# function by function.
MAX_FUNCTION_LINES = 80


def function_spans(tree, prefix=""):
    """``[(qualified name, own lines)]`` of every function in ``tree``, nested ones and methods
    included; a function's own lines leave out those of the functions nested in it."""
    spans = []
    for node in ast.iter_child_nodes(tree):
        inner = prefix + node.name + "." if isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else prefix
        nested = function_spans(node, inner)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            children = sum(lines for name, lines in nested if name.count(".") == inner.count("."))
            spans.append((prefix + node.name, node.end_lineno - node.lineno + 1 - children))
        spans += nested
    return spans


def test_no_function_is_longer_than_the_bound():
    files = [*PACKAGE.rglob("*.py"), ROOT / "cli.py"]
    long = {f"{path.relative_to(ROOT).as_posix()}:{name}": lines for path in files
            for name, lines in function_spans(ast.parse(path.read_text(), str(path)))
            if lines > MAX_FUNCTION_LINES}
    assert long == {}


def test_the_function_length_bound_sees_methods_and_nested_functions():
    tree = ast.parse("class A:\n    def f(self):\n        def g():\n            pass\n"
                     "        return g\n")
    assert function_spans(tree) == [("A.f", 2), ("A.f.g", 2)]


# Imports inside functions: only where they keep start-up fast (docs/architecture.md). An
# import inside a function is allowed only if what it imports loads, statically (following
# top-level imports), a costly module that the importing module's own top-level imports do not
# load: numpy for a command that may never solve, rdflib for the one format that needs it. On
# the start-up path (Loads.startup) every module not loaded anyway counts. Anything else goes
# at the top of the module, where a reader sees what the module depends on. Imports in a
# ``try`` that handles a failed import (an optional package, a platform module) are exempt.
# `python tests/test_layers.py --lazy` prints each lazy import with what it keeps out: its
# reason, computed rather than written beside it, so that it cannot go stale.
#
# COSTLY: every third-party module, and every stdlib module whose import took at least
# THRESHOLD_MS of CPU time (CPU, not wall: the machine is shared), each imported alone in a
# fresh interpreter, the least of five runs, with the other costly modules its import loads;
# CHEAP: the other stdlib modules, 0.0 for those the interpreter loads at start-up. Measured
# with time.process_time() around `import NAME` (`python tests/test_layers.py --measure`
# prints both tables afresh, for every module graph/ and cli.py import), Python 3.11.7 on the
# 2-core development machine, where `import numpy` took 138 ms. A third-party module missing
# from the tables counts as costly, a stdlib one as cheap (but not loaded at start-up).
THRESHOLD_MS = 2.0
COSTLY = {  # name: (CPU ms, the other costly modules its import loads)
    "calendar": (6.4, "datetime"),
    "click": (25.4, "datetime uuid"),
    "click.shell_completion": (25.9, "click datetime uuid"),
    "concurrent.futures": (17.1, ""),
    "ctypes": (2.9, ""),
    "dataclasses": (12.4, ""),
    "datetime": (3.0, ""),
    "decimal": (2.0, ""),
    "filelock": (51.4, "dataclasses decimal hashlib hmac secrets"),
    "hashlib": (5.0, ""),
    "hmac": (6.1, "hashlib"),
    "http.client": (35.7, "calendar datetime socket ssl"),
    "jinja2": (70.2, "hashlib json markupsafe pickle"),
    "json": (3.6, ""),
    "markupsafe": (3.6, ""),
    "matplotlib": (366.2, "ctypes dataclasses datetime decimal numpy pickle pyparsing subprocess"),
    "matplotlib.dates": (404.6,
        "calendar ctypes dataclasses datetime decimal matplotlib numpy pickle pyparsing "
        "subprocess"),
    "matplotlib.pyplot": (1084.5,
        "calendar ctypes dataclasses datetime decimal hashlib json matplotlib matplotlib.dates "
        "numpy pickle pyparsing socket subprocess uuid"),
    "networkx": (314.6, "calendar dataclasses datetime hashlib socket"),
    "numpy": (138.4, "ctypes datetime pickle"),
    "orjson": (23.2, "dataclasses datetime json uuid"),   # measured alone, least of 5, at merge
    "oxrdflib": (417.5,
        "calendar dataclasses datetime decimal hashlib http.client json oxrdflib.store pickle "
        "pyoxigraph pyparsing rdflib rdflib.collection rdflib.graph rdflib.namespace "
        "rdflib.plugins.sparql.algebra rdflib.plugins.sparql.parser "
        "rdflib.plugins.sparql.parserutils rdflib.query socket ssl uuid"),
    "oxrdflib.store": (431.2,
        "calendar dataclasses datetime decimal hashlib http.client json oxrdflib pickle "
        "pyoxigraph pyparsing rdflib rdflib.collection rdflib.graph rdflib.namespace "
        "rdflib.plugins.sparql.algebra rdflib.plugins.sparql.parser "
        "rdflib.plugins.sparql.parserutils rdflib.query socket ssl uuid"),
    "pickle": (4.4, ""),
    "pyoxigraph": (6.7, ""),
    "pyparsing": (103.8, "dataclasses datetime"),
    "pyshacl": (418.6,
        "calendar dataclasses datetime decimal hashlib http.client json pickle pyoxigraph "
        "pyparsing rdflib rdflib.collection rdflib.graph rdflib.namespace "
        "rdflib.plugins.sparql.algebra rdflib.plugins.sparql.parser "
        "rdflib.plugins.sparql.parserutils rdflib.query socket ssl uuid"),
    "pyvis": (1028.3,
        "calendar concurrent.futures ctypes dataclasses datetime decimal hashlib hmac "
        "http.client jinja2 json markupsafe networkx pickle pyvis.network secrets socket ssl "
        "subprocess uuid yaml"),
    "pyvis.network": (1037.4,
        "calendar concurrent.futures ctypes dataclasses datetime decimal hashlib hmac "
        "http.client jinja2 json markupsafe networkx pickle pyvis secrets socket ssl subprocess "
        "uuid yaml"),
    "rdflib": (205.6,
        "calendar datetime decimal hashlib http.client pickle rdflib.collection rdflib.graph "
        "rdflib.namespace rdflib.query socket ssl uuid"),
    "rdflib.collection": (200.5,
        "calendar datetime decimal hashlib http.client pickle rdflib rdflib.graph "
        "rdflib.namespace rdflib.query socket ssl uuid"),
    "rdflib.graph": (173.7,
        "calendar datetime decimal hashlib http.client pickle rdflib rdflib.collection "
        "rdflib.namespace rdflib.query socket ssl uuid"),
    "rdflib.namespace": (184.0,
        "calendar datetime decimal hashlib http.client pickle rdflib rdflib.collection "
        "rdflib.graph rdflib.query socket ssl uuid"),
    "rdflib.plugins.parsers.notation3": (158.3,
        "calendar datetime decimal hashlib http.client pickle rdflib rdflib.collection "
        "rdflib.graph rdflib.namespace rdflib.query socket ssl uuid"),
    "rdflib.plugins.sparql.algebra": (357.3,
        "calendar dataclasses datetime decimal hashlib http.client json pickle pyparsing rdflib "
        "rdflib.collection rdflib.graph rdflib.namespace rdflib.plugins.sparql.parser "
        "rdflib.plugins.sparql.parserutils rdflib.query socket ssl uuid"),
    "rdflib.plugins.sparql.parser": (363.0,
        "calendar dataclasses datetime decimal hashlib http.client json pickle pyparsing rdflib "
        "rdflib.collection rdflib.graph rdflib.namespace rdflib.plugins.sparql.algebra "
        "rdflib.plugins.sparql.parserutils rdflib.query socket ssl uuid"),
    "rdflib.plugins.sparql.parserutils": (320.2,
        "calendar dataclasses datetime decimal hashlib http.client json pickle pyparsing rdflib "
        "rdflib.collection rdflib.graph rdflib.namespace rdflib.plugins.sparql.algebra "
        "rdflib.plugins.sparql.parser rdflib.query socket ssl uuid"),
    "rdflib.query": (170.4,
        "calendar datetime decimal hashlib http.client pickle rdflib rdflib.collection "
        "rdflib.graph rdflib.namespace socket ssl uuid"),
    "rich.console": (50.1, "dataclasses datetime pickle rich.text"),
    "rich.table": (43.6, "dataclasses decimal pickle rich.text"),
    "rich.text": (25.7, "pickle"),
    "rich.tree": (61.9, "dataclasses datetime pickle rich.console rich.text"),
    "ruamel.yaml": (26.1, "datetime ruamel.yaml.comments ruamel.yaml.error ruamel.yaml.tokens"),
    "ruamel.yaml.comments": (22.1, "datetime ruamel.yaml ruamel.yaml.error ruamel.yaml.tokens"),
    "ruamel.yaml.error": (27.0, "datetime ruamel.yaml ruamel.yaml.comments ruamel.yaml.tokens"),
    "ruamel.yaml.tokens": (26.0, "datetime ruamel.yaml ruamel.yaml.comments ruamel.yaml.error"),
    "scipy.optimize": (692.3,
        "calendar concurrent.futures ctypes dataclasses datetime decimal hashlib hmac json "
        "numpy pickle scipy.sparse scipy.sparse.linalg scipy.special secrets socket subprocess"),
    "scipy.sparse": (413.8,
        "calendar concurrent.futures ctypes dataclasses datetime hashlib hmac json numpy pickle "
        "secrets socket subprocess"),
    "scipy.sparse.csgraph": (560.2,
        "calendar concurrent.futures ctypes dataclasses datetime hashlib hmac json numpy pickle "
        "scipy.sparse scipy.sparse.linalg secrets socket subprocess"),
    "scipy.sparse.linalg": (599.7,
        "calendar concurrent.futures ctypes dataclasses datetime hashlib hmac json numpy pickle "
        "scipy.sparse secrets socket subprocess"),
    "scipy.special": (492.4,
        "calendar concurrent.futures ctypes dataclasses datetime hashlib hmac json numpy pickle "
        "secrets socket subprocess"),
    "scipy.stats": (1734.4,
        "calendar concurrent.futures ctypes dataclasses datetime decimal hashlib hmac json "
        "numpy pickle scipy.optimize scipy.sparse scipy.sparse.csgraph scipy.sparse.linalg "
        "scipy.special secrets socket subprocess"),
    "secrets": (6.6, "hashlib hmac"),
    "socket": (6.0, ""),
    "ssl": (17.8, "socket"),
    "subprocess": (6.5, ""),
    "tomllib": (5.7, "datetime"),
    "uuid": (4.6, ""),
    "yaml": (21.6, "datetime"),
}
CHEAP = {  # the stdlib modules measured below THRESHOLD_MS: CPU ms (0.0: loaded at start-up)
    "__future__": 0.0, "base64": 0.4, "bisect": 0.0, "codecs": 0.0, "collections": 0.0,
    "collections.abc": 0.0, "contextlib": 0.0, "copy": 0.6, "csv": 1.4, "difflib": 2.0, "errno":
    0.0, "functools": 0.0, "gc": 0.1, "heapq": 0.6, "importlib": 0.0, "importlib.resources": 0.0,
    "io": 0.0, "itertools": 0.0, "math": 0.0, "netrc": 1.1, "os": 0.0, "pathlib": 0.0, "pwd": 0.1,
    "re": 0.0, "reprlib": 0.0, "select": 0.5, "shlex": 0.5, "shutil": 0.0, "signal": 1.3, "stat":
    0.0, "sys": 0.0, "tempfile": 0.0, "textwrap": 1.5, "threading": 0.0, "time": 0.0, "typing":
    0.0, "unicodedata": 0.4, "urllib.parse": 0.0
}


def top_package(module):
    return module.split(".")[0]


def is_external(module, parsed):
    return module not in parsed and top_package(module) not in ("graph", "cli")


def is_stdlib(module):
    return top_package(module) in sys.stdlib_module_names


def prefixes(module):
    """``a``, ``a.b``, ``a.b.c`` for ``a.b.c``: what importing it imports first."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def external_cost(module):
    """The costly modules importing MODULE (not a graph module) loads."""
    cost = set()
    for name in prefixes(module):
        if name in COSTLY:
            cost |= {name, *COSTLY[name][1].split()}
        elif name == module and not is_stdlib(name):
            cost.add(name)
    return cost


class Loads:
    """What importing a module of graph/ or cli.py loads, following only top-level imports."""

    def __init__(self):
        self.parsed, found = all_imports()
        self.top = {}
        for importer, module, _, _, where in found:
            if where == "top":
                self.top.setdefault(importer, set()).add(module)
        # What `takeoff --help` and a command's --help or Tab import: cli.py and each command
        # module, with what they import at the top. There every module not loaded anyway
        # counts (a graph module, a stdlib one not loaded at start-up): config, provenance and
        # store at the top of graph.commands.common cost `import cli` 6 ms of CPU (11 -> 17
        # ms), difflib at the top of graph.core.model 2 ms (measured when this was written).
        commands = [m for m in self.parsed if m.startswith("graph.commands.")]
        self.startup = {m for name in ["cli", *commands] for m in self.closure(name)
                        if m in self.parsed}

    def closure(self, module):
        """Every module importing MODULE runs: its packages, and theirs, and their imports."""
        seen, todo = set(), [module]
        while todo:
            name = todo.pop()
            for step in prefixes(name):
                if step not in seen:
                    seen.add(step)
                    if step in self.parsed:
                        todo += self.top.get(step, ())
        return seen

    def cost(self, module):
        """The costly modules importing MODULE loads (measured ones: :data:`COSTLY`)."""
        return {c for name in self.closure(module) if is_external(name, self.parsed)
                for c in external_cost(name)}

    def kept_out(self, importer, module):
        """What importing MODULE inside a function of IMPORTER keeps out of IMPORTER's own
        import: the costly modules it would load, and on the start-up path its graph modules."""
        kept = self.cost(module) - self.cost(importer)
        if importer in self.startup:
            new = self.closure(module) - self.closure(importer)
            kept |= {m for m in new if m in self.parsed or (
                is_stdlib(m) and CHEAP.get(m, 1) > 0 and not any(
                    n.startswith(m + ".") for n in new))}   # a package: its module counts
        return kept


def lazy_imports():
    """``[(path, line, importer, imported, kept out)]`` for every import inside a function of
    graph/ and cli.py (outside a ``try`` handling ImportError): ``kept out`` is what the import
    keeps out of the importing module's own import (:meth:`Loads.kept_out`), empty when it
    saves nothing. A statement naming several modules keeps out what any of them would."""
    loads = Loads()
    rows = {}
    for importer, module, _, line, where in all_imports()[1]:
        if where != "function":
            continue
        path = loads.parsed[importer][0].relative_to(ROOT)
        key = (str(path), line, importer)
        kept = loads.kept_out(importer, module)
        names, saved = rows.get(key, ((), set()))
        rows[key] = (names if module in names else (*names, module), saved | kept)
    return [(*key, ", ".join(names), saved) for key, (names, saved) in sorted(rows.items())]


def test_imports_inside_functions_keep_costly_modules_out():
    needless = [f"{path}:{line}: `import {imported}` inside a function loads no costly module "
                f"that {importer} does not already load: move it to the top of the module "
                f"(python tools/hoist.py . does it)"
                for path, line, importer, imported, kept in lazy_imports() if not kept]
    assert needless == [], "\n".join(needless)


def test_costly_modules_were_measured_for_this_code():
    """Every third-party module graph/ and cli.py import is in the table, with what it loads: a
    new one needs `python tests/test_layers.py --measure`."""
    parsed, found = all_imports()
    unmeasured = sorted({m for _, m, _, _, _ in found
                         if is_external(m, parsed) and not is_stdlib(m) and m not in COSTLY})
    assert unmeasured == [], f"run `python tests/test_layers.py --measure` for {unmeasured}"


def measure(name, runs=5):
    """``(CPU ms, modules loaded)`` of importing NAME alone in a fresh interpreter: the least
    of RUNS runs (CPU, not wall: the machine is shared)."""
    probe = ("import sys, time; before = set(sys.modules); start = time.process_time(); "
             f"import {name}; cpu = time.process_time() - start; "
             "print(cpu * 1000, *sorted(set(sys.modules) - before))")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    best, loaded = None, set()
    for _ in range(runs):
        run = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                             text=True)
        if run.returncode:
            return None, set()
        ms, *modules = run.stdout.split()
        best = float(ms) if best is None else min(best, float(ms))
        loaded = set(modules)
    return best, loaded


def print_measurements():
    import importlib.util

    parsed, found = all_imports()
    names = set()
    for _, module, imported, _, _ in found:
        if is_external(module, parsed):
            names.add(module)
            try:
                if imported and importlib.util.find_spec(f"{module}.{imported}"):
                    names.add(f"{module}.{imported}")
            except (ImportError, ValueError):
                pass
    figures = {name: measure(name) for name in sorted(names)}
    costly = {n for n, (ms, _) in figures.items()
              if ms is not None and (ms >= THRESHOLD_MS or not is_stdlib(n))}
    table = {name: (figures[name][0], sorted((figures[name][1] & costly) - {name}))
             for name in costly}
    cheap = {n: ms for n, (ms, _) in figures.items() if n not in costly and ms is not None}
    print(format_table(table, cheap))


def format_table(table, cheap):
    """The source of :data:`COSTLY` and :data:`CHEAP` from ``{name: (ms, [costly modules
    loaded])}`` and ``{name: ms}``."""
    out = ["COSTLY = {  # name: (CPU ms, the other costly modules its import loads)"]
    for name, (ms, loaded) in sorted(table.items()):
        line = f'    "{name}": ({ms:.1f}, "{" ".join(loaded)}"),'
        if len(line) > 100:
            parts = [f"{part} " for part in textwrap.wrap(" ".join(loaded), 86)]
            parts[-1] = parts[-1].rstrip()
            line = f'    "{name}": ({ms:.1f},\n' + "\n".join(f'        "{part}"' for part in parts) + "),"
        out.append(line)
    items = ", ".join(f'"{name}": {ms:.1f}' for name, ms in sorted(cheap.items()))
    return "\n".join([*out, "}", "CHEAP = {  # the stdlib modules measured below THRESHOLD_MS: "
                      "CPU ms (0.0: loaded at start-up)", *("    " + line for line in
                                                            textwrap.wrap(items, 95)), "}"])


def reason(kept, parsed):
    """What a lazy import keeps out, in short: the costly modules that no larger one of them
    loads anyway, then what only the start-up path counts (graph modules, packages aside;
    cheap stdlib modules)."""
    costly, covered = [], set()
    kept = {m for m in kept if not any(k.startswith(m + ".") for k in kept)}  # no packages
    for name in sorted((m for m in kept if m in COSTLY or not (m in parsed or is_stdlib(m))),
                       key=lambda m: -COSTLY.get(m, (float("inf"),))[0]):
        if name not in covered and not any(k.startswith(name + ".") for k in kept):
            costly.append(name)
            covered |= external_cost(name)
    ours = sorted(m for m in kept if m in parsed and parsed[m][0].name != "__init__.py")
    if len(ours) > 3:
        ours = [f"{ours[0]} and {len(ours) - 1} more graph modules"]
    ours += sorted(m for m in kept if m not in parsed and m not in COSTLY and is_stdlib(m))
    return ", ".join(costly + [f"{', '.join(ours)} (start-up)"] * bool(ours))


def print_lazy_imports():
    """Each import inside a function and what it keeps out of start-up."""
    parsed = sources()
    for path, line, importer, imported, kept in lazy_imports():
        print(f"{path}:{line}: {imported}: {reason(kept, parsed) or 'NOTHING (move it up)'}")


if __name__ == "__main__":
    {"--measure": print_measurements, "--lazy": print_lazy_imports}[sys.argv[1]]()
