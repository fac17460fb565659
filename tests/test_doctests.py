"""Every example in the docstrings of graph/ runs and prints what it shows.

The examples run in the repository folder, so ``"claims"`` is the bundled corpus; they see it
loaded as ``corpus`` and its class as ``Corpus`` (as a reader of the docs would have them).
``# doctest: +SKIP`` is kept only for examples that write files or need a server.
"""
import doctest
import importlib

import pytest

from graph.files.corpus import Corpus
from helpers import REPO

# Found from the source text, not by importing: a module whose examples doctest cannot reach
# (in a comment, or in a nested function's docstring) is listed, and then fails below.
MODULES = sorted(".".join(path.relative_to(REPO).with_suffix("").parts)
                 for path in (REPO / "graph").rglob("*.py") if ">>>" in path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def namespace():
    return {"Corpus": Corpus, "corpus": Corpus.load(REPO / "claims").require_valid()}


def test_the_modules_with_examples_are_found():
    assert len(MODULES) >= 10, MODULES  # 19 when written: an empty list would test nothing


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, namespace, monkeypatch):
    monkeypatch.chdir(REPO)
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module, name, extraglobs=namespace)
    runnable = [example for test in tests for example in test.examples
                if not example.options.get(doctest.SKIP)]
    assert runnable, f"{name} shows examples but doctest finds none it runs"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
