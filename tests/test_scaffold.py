"""Rules the package and its test suite keep: every imported package is declared in
pyproject.toml; under CI=true a skipped test fails the run; no test hook is read from the
environment by production code; no test module imports another."""
import ast
import importlib.metadata
import os
import re
import sys
import textwrap
import tomllib

import pytest

from helpers import REPO

pytest_plugins = ["pytester"]

SOURCES = [*sorted((REPO / "graph").rglob("*.py")), REPO / "cli.py", *sorted((REPO / "tests").glob("*.py")),
           *sorted((REPO / "bench").glob("*.py"))]
LOCAL = {"graph", "cli"} | {path.stem for path in SOURCES}
# A distribution that `.[test]` does not install (so importlib.metadata cannot be asked), and
# the top-level module it provides: the bench extra's peer solver.
NOT_INSTALLED_FOR_TESTS = {"argumentation": "formal-argumentation"}


def imported_modules(path):
    """The top-level names ``path`` imports, anywhere in it (inside functions too), with the line
    of the first import of each; relative imports are the package's own."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        for name in names:
            top = name.split(".")[0]
            found[top] = min(found.get(top, node.lineno), node.lineno)
    return found


def canonical(name):
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions():
    """Every distribution named in pyproject.toml's dependencies and extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values()
                                                 for r in extra)]
    return {canonical(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", r).group(1)) for r in requirements}


def test_every_imported_package_is_declared():
    declared = declared_distributions()
    installed = importlib.metadata.packages_distributions()
    undeclared = []
    for path in SOURCES:
        for module, line in imported_modules(path).items():
            if module in sys.stdlib_module_names or module in LOCAL:
                continue
            providers = installed.get(module) or [NOT_INSTALLED_FOR_TESTS.get(module, f"no distribution ({module})")]
            if not declared & {canonical(p) for p in providers}:
                undeclared.append(f"{path.relative_to(REPO)}:{line}: imports {module}, from "
                                  f"{' or '.join(providers)}, not declared in pyproject.toml")
    assert not undeclared, "\n".join(undeclared)


def test_the_import_scan_sees_imports_inside_functions(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import os.path\n\ndef f():\n    from yaml import safe_load\n    from . import x\n")
    assert imported_modules(path) == {"os": 1, "yaml": 4}


def test_production_code_reads_no_test_variable():
    """Test hooks (the crash hook of the transaction) are set by the tests, in the process:
    no variable of the user's environment can turn one on."""
    readers = [f"{path.relative_to(REPO)}:{n}" for path in [*(REPO / "graph").rglob("*.py"), REPO / "cli.py"]
               for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if "TAKEOFF_TEST" in line]
    assert readers == []


def test_no_test_module_imports_another():
    """Shared helpers live in tests/helpers.py and fixtures in conftest.py."""
    found = [f"{path.name}:{line}: {module}" for path in sorted((REPO / "tests").glob("*.py"))
             for module, line in imported_modules(path).items()
             if module in ("conftest", "tests") or module.startswith("test_")]
    assert found == []


# ---- under CI=true, a skip is a failure --------------------------------------------------------

JUDGED = textwrap.dedent("""
    import pytest

    @pytest.fixture
    def judge():
        pytest.skip("no judge installed")

    def test_skipped_in_the_body():
        pytest.skip("no browser here")

    @pytest.mark.skipif(True, reason="no server here")
    def test_skipped_by_a_mark():
        pass

    def test_skipped_by_its_fixture(judge):
        pass

    @pytest.mark.xfail(reason="a known defect")
    def test_known_defect():
        assert False

    def test_plain():
        pass
""")


@pytest.mark.parametrize("ci, workers, outcomes", [
    # A skip while setting up (a mark, a fixture) fails as an error of the setup.
    ("true", "0", {"passed": 1, "failed": 1, "errors": 2, "xfailed": 1}),
    # The same in an xdist worker, as `python -m pytest` runs the suite (pyproject.toml's -n 2).
    ("true", "1", {"passed": 1, "failed": 1, "errors": 2, "xfailed": 1}),
    ("", "0", {"passed": 1, "skipped": 3, "xfailed": 1}),
])
def test_a_skip_fails_the_run_under_ci(pytester, monkeypatch, ci, workers, outcomes):
    """The suite's own conftest.py, on a file whose tests skip in each way pytest has."""
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(test_judged=JUDGED)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), str(REPO / "tests")]))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rfs", "-n", workers,
                                           timeout=300)
    result.assert_outcomes(**outcomes)
    assert (result.ret != 0) == bool(ci)
    if ci:
        for reason in ("no judge installed", "no browser here", "no server here"):
            result.stdout.fnmatch_lines([f"*skipped under CI=true, where every test must run: *{reason}*"])
