"""Finding the corpus and reading its settings, the way git finds a repository.

A corpus is a folder marked by a ``takeoff.toml`` file at its root. Which folder a command
works on is decided in this order (the first that applies wins, as git's ``--git-dir`` and
``$GIT_DIR`` win over its discovery):

1. ``--corpus FOLDER``;
2. ``$TAKEOFF_CORPUS``;
3. discovery: from the working folder up to the file-system root, the first folder ``D`` that
   holds ``D/takeoff.toml``, or else ``D/claims/takeoff.toml`` (so that the repository's root
   finds the bundled ``claims/``).

A folder named explicitly (1 or 2) must exist and be a corpus: hold ``takeoff.toml`` or at
least one node file (a corpus made before the marker existed). Nothing here creates a folder:
only ``takeoff init`` does.

Ownership, as git's ``safe.directory``: a corpus whose folder or ``takeoff.toml`` belongs to
another user is refused, however it was found and whatever the command (a corpus in a shared
folder could otherwise take your writes, give you its settings and have its state obeyed).
``$TAKEOFF_SAFE_DIRECTORIES`` lists folders (separated by ``:``, ``;`` on Windows) whose
corpora you trust anyway, or ``*`` for all.

``takeoff.toml`` may hold::

    title = "AI takeoff arguments"   # the HTML page's title
    semantics = "qe"                 # the default --semantics
    base = "https://example.org/n/"  # the base IRI of node ids in RDF

Unknown keys are warnings (with a did-you-mean), shown by every command.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from graph.core.limits import InputError, check_toml
from graph.core.model import PERSPECTIVES_DIR, Problem, TakeoffError, did_you_mean, display_path
from graph.files.store import UnsafeFileError, owned, owner_name, read_text

MARKER = "takeoff.toml"
# Also looked for below each folder walked, so that the repository's root finds claims/.
NESTED = "claims"
ENV_VAR = "TAKEOFF_CORPUS"
SAFE_VAR = "TAKEOFF_SAFE_DIRECTORIES"
# The settings takeoff.toml may hold, with what each must be.
SETTINGS = {
    "title": "text",
    "semantics": "text",
    "base": "text",
    # Default standard deviations of plain credences / weights for `takeoff robustness`.
    "spread": "number",
    "weight_spread": "number",
    # [sources.ID] tables: the sources edges name with `from:` (checked by graph.files.provenance).
    "sources": "table",
}


class CorpusNotFound(TakeoffError):
    """No corpus where the command looked; the message says where it looked and what to do."""


@dataclass
class Config:
    """The corpus a command works on and the settings of its ``takeoff.toml``.

    ``how`` says how it was found: ``--corpus``, ``$TAKEOFF_CORPUS`` or ``discovered``.
    ``warnings`` holds :class:`graph.core.model.Problem` items (unknown keys).
    """

    root: Path
    how: str
    settings: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    @property
    def marker(self):
        return self.root / MARKER


def find_corpus(option=None, *, environ=None, cwd=None):
    """The corpus named by ``option`` (``--corpus``), ``$TAKEOFF_CORPUS``, or found by walking
    up from ``cwd``.

    Parameters
    ----------
    option : path, optional
        The value of ``--corpus``.
    environ : mapping, optional
        The environment (default ``os.environ``).
    cwd : path, optional
        Where discovery starts (default: the working folder).

    Returns
    -------
    Config

    Raises
    ------
    CorpusNotFound
        The named folder is missing or not a corpus, or discovery found none.
    """
    environ = os.environ if environ is None else environ
    root, how = locate_corpus(option, environ=environ, cwd=cwd)
    if how == "discovered":
        return _config(root, how, environ)
    return _named(root, how, environ)


def locate_corpus(option=None, *, environ=None, cwd=None):
    """The folder :func:`find_corpus` would use and how it was named, without reading its
    settings or checking a named folder (shell completion needs only this, and fast).

    Returns
    -------
    (Path, str)
        The folder and ``--corpus``, ``$TAKEOFF_CORPUS`` or ``discovered``.
    """
    environ = os.environ if environ is None else environ
    if option is not None:
        return Path(option), "--corpus"
    named = env_corpus(environ)
    if named is not None:
        return named, f"${ENV_VAR}"
    start = Path(cwd or os.getcwd()).resolve()
    for folder in (start, *start.parents):
        for candidate in (folder, folder / NESTED):
            if (candidate / MARKER).is_file():
                return _relative(candidate), "discovered"
    raise CorpusNotFound(
        f"no corpus found: looked for {MARKER} (and {NESTED}/{MARKER}) in {start} and every "
        f"folder above it. Run takeoff inside a corpus, name one with --corpus FOLDER or "
        f"${ENV_VAR}, or create one with `takeoff init FOLDER`")


def env_corpus(environ=None):
    """The folder ``$TAKEOFF_CORPUS`` names (None if unset or empty).

    It must be absolute: a relative path would be read from whatever folder the next command
    runs in, and the folder it was set in is not known then, so after a ``cd`` it would name
    another folder (or none) without a word. Refused with the absolute form to export instead.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_VAR)
    if not value:
        return None
    folder = Path(value)
    if not folder.is_absolute():
        raise CorpusNotFound(
            f"${ENV_VAR} {value}: must be an absolute path (a relative one would name another "
            f"folder after a cd); e.g. export {ENV_VAR}=\"$PWD/{value}\"")
    return folder


def _named(folder, how, environ):
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "no such corpus folder"
        raise CorpusNotFound(f"{how} {folder}: {what} (create a corpus with "
                             f"`takeoff init {folder}`)")
    if not (folder / MARKER).is_file() and not has_node_files(folder):
        raise CorpusNotFound(f"{how} {folder}: not a corpus: it holds no {MARKER} and no node "
                             f"files (make it one with `takeoff init {folder}`)")
    return _config(folder, how, environ)


def _relative(path):
    """A discovered folder as the user would type it (relative when below the cwd)."""
    return Path(display_path(path))


def enclosing_corpus(folder):
    """The corpus ``folder`` would lie inside (the nearest folder above it holding
    ``takeoff.toml``), or None. A corpus reads every ``*.md`` below it, so one made there would
    have its nodes read as the outer corpus's too."""
    start = Path(folder).resolve()
    return next((p for p in start.parents if (p / MARKER).is_file()), None)


def has_node_files(folder):
    """Whether ``folder`` holds a ``*.md`` file (stops at the first one found)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        if any(f.endswith(".md") for f in filenames):
            return True
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != PERSPECTIVES_DIR]
    return False


def _config(root, how, environ):
    check_owner(root, environ)
    settings, warnings = read_settings(root / MARKER)
    return Config(root, how, settings, warnings)


def check_owner(root, environ=None):
    """Refuse the corpus at ``root`` if its folder or its ``takeoff.toml`` belongs to another
    user, unless ``$TAKEOFF_SAFE_DIRECTORIES`` names it (or is ``*``); see the module's
    docstring. Raises :class:`UnsafeCorpus` naming the owner and the setting."""
    if not hasattr(os, "geteuid"):
        return
    environ = os.environ if environ is None else environ
    for path in (Path(root), Path(root) / MARKER):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if owned(info) or _declared_safe(root, environ.get(SAFE_VAR, "")):
            continue
        raise UnsafeCorpus(
            f"{display_path(path)} belongs to {owner_name(info.st_uid)}, not to you: takeoff "
            f"refuses a corpus another user owns (its settings, state and files would act on "
            f"yours). If you trust it, add its folder to ${SAFE_VAR} "
            f"(export {SAFE_VAR}={os.path.abspath(root)}, or '*' for every folder)")


def _declared_safe(root, value):
    if not value:
        return False
    real = os.path.realpath(root)
    for entry in value.split(os.pathsep):
        entry = entry.strip()
        if entry == "*" or (entry and os.path.realpath(os.path.expanduser(entry)) == real):
            return True
    return False


class UnsafeCorpus(CorpusNotFound):
    """A corpus owned by another user and not declared safe."""


def corpus_settings(root):
    """The settings of the corpus at ``root`` (its ``takeoff.toml``; {} without one)."""
    return read_settings(Path(root) / MARKER)[0]


# takeoff.toml as read by this process: {absolute path: (lstat key, text, table or error)}.
_READ = {}
# A file changed this recently may change again within its timestamp's granularity (the load
# cache's racy rule, graph/files/cache.py): it is read again rather than remembered.
_RACY_NS = 2_000_000_000


def read_marker(path, strict=True):
    """``(text, table)`` of a ``takeoff.toml`` (the guarded read, then ``tomllib``), read and
    parsed once per process while the file is unchanged: the settings
    (:func:`read_settings`) and the sources (:func:`graph.files.provenance.read_sources`)
    of one command come from one read. A file that cannot be read raises
    :class:`graph.files.store.UnsafeFileError`; so does one that is not TOML (naming the
    line), unless not ``strict``: its table is then None."""
    path = Path(path)
    where = os.path.abspath(path)
    try:
        st = os.lstat(path)
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if not os.path.isfile(path) or max(key[3:]) >= time.time_ns() - _RACY_NS \
                or os.path.islink(path):
            key = None
    except OSError:
        key = None
    known = _READ.get(where)
    if key is not None and known is not None and known[0] == key:
        text, table = known[1], known[2]
    else:
        text = read_text(path, path.parent)  # the guarded read: size, kind, links, UTF-8, BOM
        table = _parse_toml(text)
        if key is not None:
            _READ[where] = (key, text, table)
    if isinstance(table, tuple):
        if not strict:
            return text, None
        raise UnsafeFileError(path, *table)
    return text, table


def _parse_toml(text):
    """The table of TOML ``text``, or ``(message, line)`` of why it is not one."""
    import tomllib

    try:
        check_toml(text)
        return tomllib.loads(text)
    except InputError as exc:
        return exc.message, exc.line
    except ValueError as exc:  # TOMLDecodeError, or an integer Python will not convert
        message, line = _toml_error(exc, text)
        return f"not valid TOML: {message}", line
    except RecursionError:
        return "nested too deeply", 0


def read_settings(path):
    """The settings of a ``takeoff.toml`` (empty if there is none) and its warnings.

    A file that is not TOML, or a setting of the wrong type, raises :class:`TakeoffError`
    naming the file and line.
    """
    path = Path(path)
    if not os.path.lexists(path):
        return {}, []
    text, data = read_marker(path)
    settings, warnings = {}, []
    for key, value in data.items():
        line = _key_line(text, key)
        if key not in SETTINGS:
            hint = did_you_mean(key, SETTINGS)
            known = f"known keys: {', '.join(SETTINGS)}"
            warnings.append(Problem(display_path(path), line,
                                    f"unknown key {key!r} ({hint or known})", "warning"))
            continue
        if SETTINGS[key] == "table":
            continue   # checked where it is used, with line numbers (graph.files.provenance)
        if SETTINGS[key] == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0 <= value <= 0.5:
                raise TakeoffError(f"{display_path(path)}:{line}: {key} must be a number in "
                                   f"[0, 0.5], not {value!r}")
        elif not isinstance(value, str) or not value.strip():
            raise TakeoffError(f"{display_path(path)}:{line}: {key} must be non-empty text "
                               f"in quotes, not {value!r}")
        settings[key] = value
    if "semantics" in settings:
        from graph.solving.propagation import SEMANTICS

        if settings["semantics"] not in SEMANTICS:
            raise TakeoffError(f"{display_path(path)}:{_key_line(text, 'semantics')}: semantics "
                               f"{settings['semantics']!r} is not one of {', '.join(SEMANTICS)}")
    return settings, warnings


def _toml_error(exc, source):
    """The message and line of a TOMLDecodeError (Python 3.11 puts the line in the text)."""
    text = str(exc)
    match = re.search(r" \(at line (\d+), column \d+\)$", text)
    if match:
        return text[:match.start()], int(match[1])
    if text.endswith(" (at end of document)"):
        return text[:-len(" (at end of document)")] + " at the end of the file", \
            source.rstrip("\n").count("\n") + 1
    return text, getattr(exc, "lineno", 0) or 0


def _key_line(text, key):
    """The line of ``key = ...`` in TOML text (1-based; 0 if not found)."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.split("=", 1)[0].strip().strip('"\'') == key:
            return number
    return 0


MARKER_TEMPLATE = """\
# This file marks {where} as a takeoff-graph corpus: takeoff commands run in it, or in any
# folder below it, work on this corpus. Every setting is optional.
title = {title}
# semantics = "qe"                          # the default --semantics: qe, dfquad or eb
# base = "https://example.org/my-corpus/"   # node ids become IRIs under this base in RDF
"""


def marker_text(title, where="this folder"):
    """The text of a new ``takeoff.toml``."""
    import json

    return MARKER_TEMPLATE.format(where=where, title=json.dumps(title, ensure_ascii=False))
