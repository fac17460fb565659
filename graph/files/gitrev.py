"""Reading a corpus straight out of a git repository: no checkout, nothing written.

``takeoff diff`` and ``takeoff log`` look at old revisions of the corpus. They never touch the
work tree, the index or a branch: a revision is resolved with ``git rev-parse``, its files are
listed with ``git ls-tree`` and their text is read by one ``git cat-file --batch`` process per
revision. Git always runs with an argument list (never a shell); a revision that starts with
``-`` is refused before git sees it, so it cannot be taken for an option. Each file is held to
the size limit of a corpus file on disk (:data:`graph.files.store.MAX_FILE_BYTES`), read only if it
lies inside the corpus folder, and decoded as :func:`graph.files.store.read_text` decodes one.
"""
from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass

from graph.core.limits import quote
from graph.core.model import TakeoffError

GIT_TIMEOUT = 120


class GitError(TakeoffError):
    """git is missing, the folder is not in a repository, or a revision is unknown."""


def git(repo, *args, check=True, text=True):
    """Run ``git -C repo ARGS`` (a list, no shell); its stdout. A failure raises
    :class:`GitError` with git's own message unless ``check`` is false (then None)."""
    try:
        run = subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                             timeout=GIT_TIMEOUT, text=text, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("git is not installed (takeoff diff and log read revisions with it)") \
            from None
    except OSError as exc:  # e.g. an environment too large to start a program with (E2BIG)
        raise GitError(f"could not run git: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took over {GIT_TIMEOUT} s; stopped") from None
    if run.returncode != 0:
        if not check:
            return None
        message = (run.stderr if text else run.stderr.decode("utf-8", "replace")).strip()
        raise GitError(f"git {args[0]}: {message.splitlines()[-1] if message else 'failed'}")
    return run.stdout


@dataclass(frozen=True)
class Repository:
    """The repository holding a corpus: its top folder and the corpus's path inside it."""

    top: str
    prefix: str  # the corpus folder relative to ``top``, POSIX style ("" at the top)

    @classmethod
    def of(cls, folder):
        """The repository ``folder`` lies in; :class:`GitError` if it is in none."""
        top = git(folder, "rev-parse", "--show-toplevel", check=False)
        if top is None:
            raise GitError(f"{folder}: not inside a git repository (takeoff diff compares "
                           "revisions of a corpus kept in git, or two corpus folders)")
        top = top.strip()
        prefix = git(folder, "rev-parse", "--show-prefix").strip().rstrip("/")
        return cls(top, prefix)

    def resolve(self, revision):
        """The commit id ``revision`` names; a clear :class:`GitError` if it names none."""
        if not isinstance(revision, str) or not revision or revision.startswith("-"):
            raise GitError(f"{quote(revision)} is not a revision (a revision may not start "
                           "with '-')")
        sha = git(self.top, "rev-parse", "--verify", "--quiet", "--end-of-options",
                  f"{revision}^{{commit}}", check=False)
        if not sha:
            raise GitError(f"unknown revision {quote(revision)} (a branch, tag, commit or "
                           "an expression such as HEAD~2; see `git log`)")
        return sha.strip()

    def subject(self, sha):
        """``(short id, date, subject)`` of a commit."""
        short, date, subject = git(self.top, "show", "-s", "--format=%h%x00%ad%x00%s",
                                   "--date=short", sha, "--").rstrip("\n").split("\0", 2)
        return short, date, subject

    def tree(self, sha):
        """The files of the corpus folder at commit ``sha``: ``[(path inside the corpus,
        mode, object id, size)]``, sorted by path."""
        spec = self.prefix + "/" if self.prefix else "."
        raw = git(self.top, "ls-tree", "-r", "-l", "-z", "--full-tree", sha, "--", spec,
                  text=False)
        files = []
        for entry in raw.split(b"\0"):
            if not entry:
                continue
            info, _, name = entry.partition(b"\t")
            mode, kind, oid, size = info.decode().split()
            path = name.decode("utf-8", "surrogateescape")
            inside = _inside(path, self.prefix)
            if inside is not None and kind == "blob":
                files.append((inside, mode, oid, int(size)))
        return sorted(files)

    def commits(self, revisions=("HEAD",), max_count=None):
        """Commits reachable from ``revisions`` (resolved ids, ``^id`` to leave out what an id
        reaches) that changed the corpus, newest first: ``[(sha, [parent shas])]``."""
        spec = self.prefix or "."
        args = ["log", "--format=%H %P", "--topo-order"]
        if max_count:
            args.append(f"--max-count={int(max_count)}")
        out = git(self.top, *args, *revisions, "--", spec)
        return [(line.split()[0], line.split()[1:]) for line in out.splitlines() if line]

    def merge_heads(self):
        """``(ours, theirs)`` of the merge in progress (``MERGE_HEAD``) or of the merge
        commit at ``HEAD``; None when neither is a merge."""
        head = git(self.top, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
        if not head:
            return None
        theirs = git(self.top, "rev-parse", "--verify", "--quiet", "MERGE_HEAD", check=False)
        if theirs:
            return head.strip(), theirs.strip()
        parents = git(self.top, "show", "-s", "--format=%P", "HEAD").split()
        return tuple(parents) if len(parents) == 2 else None

    def merge_base(self, a, b):
        base = git(self.top, "merge-base", a, b, check=False)
        return base.strip() if base else None

    def name(self, sha):
        """A readable name of a commit: a branch or tag pointing at it, else its short id."""
        name = git(self.top, "name-rev", "--name-only", "--no-undefined", sha, check=False)
        short = git(self.top, "rev-parse", "--short", sha).strip()
        return f"{name.strip()} ({short})" if name else short


def _inside(path, prefix):
    """``path`` (from the repository's top) relative to the corpus folder, or None if it lies
    outside it or is not a plain relative path. (Plain string work: it runs once per file.)"""
    parts = path.split("/")
    if "" in parts or "." in parts or ".." in parts:
        return None
    if not prefix:
        return path
    return path[len(prefix) + 1:] if path.startswith(prefix + "/") else None


class BlobReader:
    """One ``git cat-file --batch`` process: the contents of many objects, in order.

    The object ids are written by a thread while the answers are read, so neither pipe can
    fill up and stall the other.
    """

    def __init__(self, repo):
        self.repo = repo

    def read(self, oids):
        """``{oid: bytes}`` for ``oids`` (ids known to be blobs within the size limit)."""
        oids = list(dict.fromkeys(oids))
        if not oids:
            return {}
        process = subprocess.Popen(["git", "-C", str(self.repo), "cat-file", "--batch"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)

        def feed():
            try:
                process.stdin.write(b"".join(o.encode() + b"\n" for o in oids))
                process.stdin.close()
            except BrokenPipeError:
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        out = {}
        try:
            for oid in oids:
                header = process.stdout.readline().split()
                if len(header) != 3:
                    raise GitError(f"git cat-file: cannot read object {oid}")
                size = int(header[2])
                out[oid] = process.stdout.read(size)
                process.stdout.read(1)  # the newline after each object
        finally:
            writer.join()
            process.stdout.close()
            process.wait()
        return out
