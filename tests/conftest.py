"""Shared fixtures: small corpora written as files, and a CliRunner bound to one."""
import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli

REPO = Path(__file__).resolve().parent.parent


def write_node(folder, node_id, text):
    """Write ``folder/node_id.md`` from dedented text; returns its path."""
    path = Path(folder) / f"{node_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def small_corpus(tmp_path):
    """Three nodes: evidence e1 supports claim c1, which supports model m1; c2 undermines m1."""
    root = tmp_path / "claims"
    write_node(root, "m1", """
        ---
        kind: model
        title: A takeoff path
        ---
        The path.
        """)
    write_node(root, "c1", """
        ---
        kind: claim
        title: A claim
        credence: 0.6
        supports:
          - target: m1
            weight: 0.8
            note: because
        ---
        """)
    write_node(root, "c2", """
        ---
        kind: claim
        title: Another claim
        undermines:
          - target: m1
        ---
        """)
    write_node(root, "e1", """
        ---
        kind: evidence
        title: An observation
        credence: 0.9
        date: 2025-05-14
        tags: [rl, compute]
        sources:
          - url: https://example.org/report
            title: The report
            quote: "it happened"
            date: 2025-05-14
        supports:
          - target: c1
            weight: 0.5
            note: shows it
        ---
        Body of the evidence.
        """)
    return root


def snapshot(folder):
    """Every file below ``folder`` with its bytes (to prove that nothing was written); the load
    cache (``.takeoff/``) is not part of the corpus."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()
            and p.name != ".takeoff.lock" and ".takeoff" not in p.relative_to(folder).parts}


@pytest.fixture
def run():
    """``run(corpus, *args)`` invokes the CLI in-process and returns click's Result."""
    runner = CliRunner()

    def invoke(corpus, *args, input=None):
        return runner.invoke(cli, ["--corpus", str(corpus), *map(str, args)], input=input)

    return invoke


# ---- what a CI run must prove ----------------------------------------------------------------
# Locally a test may skip when a judge is missing (no Chromium, no oxigraph binary, no Argdown
# CLI from npm), with its reason. Under CI=true (.ci/run sets it) every such test must run: a
# skip is a failure, so a green CI run cannot hide an unrun browser, server or judge test.
# The quick subset for daily work leaves out the files marked slow here (`-m "not slow"`).
SLOW_FILES = {"test_crash.py", "test_fuzz.py", "test_html.py", "test_whatif.py", "test_server.py",
              "test_hostile.py", "test_docs.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: browser, server, crash, fuzz and docs tests (left out "
                                       "of the quick subset, `python -m pytest -m 'not slow'`)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") == "true" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"
