"""The README's and the docs' example commands, run as written.

Every fenced ``sh`` block of README.md and docs/*.md runs with ``bash -e`` in a fresh copy of
the repository's corpus (one copy per page, so a page's blocks run in order and may build on
each other, as a reader following it would). A block preceded by a line
``<!-- doc-test: skip (reason) -->`` is not run: the set-up commands (CI runs them), and
commands that need a server or a browser window.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_BLOCK = re.compile(r"(?P<before>[^\n]*)\n```sh\n(?P<body>.*?)\n```", re.S)
_SKIP = re.compile(r"<!--\s*doc-test:\s*skip\b")


def sh_blocks(page):
    """``(line, script)`` of each runnable ``sh`` block of a Markdown page."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _BLOCK.finditer(text):
        if _SKIP.search(match["before"]):
            continue
        line = text.count("\n", 0, match.start("body")) + 1
        blocks.append((line, match["body"]))
    return blocks


def test_every_page_has_a_runnable_example():
    """Each docs page opens with an example a reader can run (the guide's rule)."""
    missing = [p.name for p in PAGES[1:] if not sh_blocks(p) and "```" not in p.read_text()]
    assert not missing, f"docs pages without an example: {missing}"


@pytest.mark.parametrize("page", [p for p in PAGES if sh_blocks(p)], ids=lambda p: p.name)
def test_page_commands_run(page, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(REPO / "claims", work / "claims", ignore=shutil.ignore_patterns(".takeoff*"))
    shutil.copytree(REPO / "bench", work / "bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEOFF_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env["COLUMNS"] = "120"
    env["HOME"] = str(tmp_path)
    for line, script in sh_blocks(page):
        run = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, (
            f"{page.name}:{line}: the example failed (exit {run.returncode})\n{script}\n"
            f"--- stdout\n{run.stdout[-2000:]}\n--- stderr\n{run.stderr[-2000:]}")
        assert "Traceback" not in run.stderr, f"{page.name}:{line}: traceback\n{run.stderr}"
