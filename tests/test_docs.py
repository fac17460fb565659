"""The README's and the docs' example commands, run as written.

Every fenced ``sh`` and ``python`` block of README.md and docs/*.md runs with ``bash -e``, in
order, in one shell on one copy of the repository's corpus, as a newcomer reading the README
and then each page would run them (so a page may build on the pages before it, and must leave
the shell as the next expects). A block preceded by a line
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


REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_BLOCK = re.compile(r"(?P<before>[^\n]*)\n```(?P<lang>sh|python)\n(?P<body>.*?)\n```", re.S)
_SKIP = re.compile(r"<!--\s*doc-test:\s*skip\b")


def sh_blocks(page):
    """``(line, script)`` of each runnable ``sh`` or ``python`` block of a Markdown page (a
    Python block as a script that runs it with the Python that runs the tests)."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _BLOCK.finditer(text):
        if _SKIP.search(match["before"]):
            continue
        line = text.count("\n", 0, match.start("body")) + 1
        body = match["body"]
        if match["lang"] == "python":
            body = f"python - <<'PYTHON'\n{body}\nPYTHON"
        blocks.append((line, body))
    return blocks


def test_every_page_has_a_runnable_example():
    """Each docs page opens with an example a reader can run (the guide's rule)."""
    missing = [p.name for p in PAGES[1:] if not sh_blocks(p) and "```" not in p.read_text()]
    assert not missing, f"docs pages without an example: {missing}"


def _work_copy(tmp_path):
    """A folder like the repository's root, as a reader who cloned it has: the corpus and bench/."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(REPO / "claims", work / "claims", ignore=shutil.ignore_patterns(".takeoff*"))
    shutil.copytree(REPO / "bench", work / "bench")
    return work


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEOFF_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env["COLUMNS"] = "120"
    env["HOME"] = str(tmp_path)
    return env


def test_the_pages_run_in_order_in_one_shell(tmp_path):
    """A newcomer's session: every sh block of README.md, then of each docs page in the order
    of PAGES, in one bash (its cd, exports and files carry over from page to page) on one copy
    of the corpus. A page must leave the shell as a reader would expect the next to start:
    in the folder it started in, with no variable that changes what later commands see."""
    work = _work_copy(tmp_path)
    parts = []
    for page in PAGES:
        for line, script in sh_blocks(page):
            parts.append(f"echo '@@ {page.name}:{line}' >&2\n{script}")
    run = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", "\n".join(parts)], cwd=work,
                         env=_env(tmp_path), capture_output=True, text=True, timeout=2400)
    where = re.findall(r"^@@ (\S+)$", run.stderr, re.M)
    assert run.returncode == 0, (
        f"{where[-1] if where else '?'}: the example failed (exit {run.returncode}) after the "
        f"pages before it ran\n--- stdout\n{run.stdout[-2000:]}\n--- stderr\n{run.stderr[-3000:]}")
    assert "Traceback" not in run.stderr, run.stderr
    assert len(where) == sum(len(sh_blocks(p)) for p in PAGES)
