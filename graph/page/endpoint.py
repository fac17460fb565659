"""A shared map on a SPARQL server: publish, query and pull over the standard protocols.

Whole graphs travel by the SPARQL 1.1 Graph Store HTTP Protocol (``GET`` reads one named graph,
``PUT`` and ``POST`` write it); queries by the SPARQL 1.1 Protocol (``POST`` of an urlencoded
``query`` with ``default-graph-uri`` naming the published graph, so the shipped queries run
unchanged). Publishing replaces the graph in one SPARQL 1.1 Update, so readers see the old map
or the new one (see :func:`publish`). Nothing here is specific to one server; Oxigraph lays its
services out as ``URL/query``, ``URL/update`` and ``URL/store``, which is the default (see
:class:`Endpoint`).

A server is input like any file, and may be hostile. Every request has one deadline that covers
connecting, sending and each read of the answer (a server dripping one byte a second cannot
stretch it); an answer is capped at :data:`MAX_ANSWER_BYTES` and a pulled graph at
:data:`MAX_TRIPLES`; compressed answers (which the tool never asks for) and redirects are
refused, not followed.

Credentials come from the environment (``TAKEOFF_ENDPOINT_TOKEN`` for a bearer token, or
``TAKEOFF_ENDPOINT_USER`` and ``TAKEOFF_ENDPOINT_PASSWORD`` for HTTP basic, sent only to the
host named in ``TAKEOFF_ENDPOINT_HOST``) or from a netrc entry for the host (a netrc file other
users can read is refused); never from the command line or a URL, and they are never printed.
They are sent only over https unless the caller allows plain http. TLS certificates are
verified.

Only the standard library is used (http.client); rdflib parses the answers.
"""
from __future__ import annotations

import base64
import concurrent.futures
import http.client
import netrc
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

from graph.core.limits import InputError, decode_text
from graph.core.model import TakeoffError
from graph.formats.rdf import (
    DEFAULT_BASE, DEFAULT_TIMEOUT, KIND_CLASS, RESULTS_GRAPH, RESULTS_JSON, RDFError, VOCAB,
    as_published, check_timeout, parse, parse_results, prepare_query, query_namespaces, result_kind,
    serialize,
)
from graph.page.tables import inert

# The named graph a corpus is published to unless --graph names another.
DEFAULT_GRAPH = "https://w3id.org/takeoff-graph/graph/corpus"
# --graph default: the server's default graph (no graph parameter at all).
SERVER_DEFAULT_GRAPH = "default"
TOKEN_VARIABLE = "TAKEOFF_ENDPOINT_TOKEN"
USER_VARIABLE, PASSWORD_VARIABLE = "TAKEOFF_ENDPOINT_USER", "TAKEOFF_ENDPOINT_PASSWORD"
HOST_VARIABLE = "TAKEOFF_ENDPOINT_HOST"
HTTP_CREDENTIALS_OPTION = "--allow-http-credentials"
# Query services are usually found at one of these last path segments.
QUERY_SEGMENTS = ("query", "sparql")
# An answer larger than this is cut off and refused: 30 times the N-Triples of a 2,000-node
# corpus, far below what would exhaust the memory of a laptop while it is parsed.
MAX_ANSWER_BYTES = 256 * 1024 * 1024
# A pulled graph of more triples is refused before it is parsed (rdflib holds about 1 KB per
# triple): 20 times the bundled corpus's 2,000-node benchmark.
MAX_TRIPLES = 1_000_000
# Of an error answer, only this much is read (its start goes into the message).
ERROR_BODY_BYTES = 4096
# The largest SPARQL Update publish sends (Oxigraph refuses more than 128 MB); a larger change
# is uploaded to a staging graph in pieces of STAGING_CHUNK_BYTES and moved into place.
MAX_UPDATE_BYTES = 64 * 2**20
STAGING_CHUNK_BYTES = 8 * 2**20
# Staging graphs are named under this IRI (one left behind by a killed publish can be dropped).
STAGING_GRAPH = "https://w3id.org/takeoff-graph/graph/publishing/"


class EndpointError(TakeoffError):
    """The server could not be reached, refused, or answered something unusable; ``status``
    is the HTTP status of a refusal."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class AnswerTooLarge(EndpointError):
    """The answer was larger than the endpoint's ``max_bytes`` and was cut off."""


class Endpoint:
    """Where a server's services are, and how to talk to them.

    Parameters
    ----------
    url : str
        The SPARQL query service (``http://host:7878/query``), or the server's base URL
        (``http://host:7878``), to which ``/query`` is added.
    store_url : str, optional
        The Graph Store service; by default ``/store`` beside the query service (Oxigraph's
        layout; Fuseki's is ``.../dataset/data``).
    update_url : str, optional
        The SPARQL Update service; by default ``/update`` beside a ``/query`` service (Oxigraph
        and Fuseki), the query service itself when it ends in ``/sparql``.
    timeout : float
        Seconds a whole request (connect, send, every read of the answer) may take.
    http_credentials : bool
        Send credentials over plain http too (by default only over https).
    max_bytes : int
        The largest answer accepted.
    """

    def __init__(self, url, store_url=None, timeout=DEFAULT_TIMEOUT, *, http_credentials=False,
                 max_bytes=MAX_ANSWER_BYTES, update_url=None):
        self.query_url = _check_url(url, "--endpoint")
        path = urllib.parse.urlsplit(self.query_url).path.rstrip("/")
        segment = path.rsplit("/", 1)[-1]
        if segment in QUERY_SEGMENTS:
            base = self.query_url.rstrip("/").rsplit("/", 1)[0]
        else:
            base = self.query_url.rstrip("/")
            self.query_url = base + "/query"
        self.store_url = _check_url(store_url, "--store-url") if store_url else base + "/store"
        self.update_url = (_check_url(update_url, "update_url") if update_url
                           else self.query_url if segment == "sparql" else base + "/update")
        self.timeout = check_timeout(timeout)
        self.http_credentials = http_credentials
        self.max_bytes = max_bytes

    def graph_url(self, graph_iri):
        """The Graph Store URL of one named graph (or of the default graph)."""
        if graph_iri == SERVER_DEFAULT_GRAPH:
            return self.store_url + "?default"
        return self.store_url + "?" + urllib.parse.urlencode({"graph": graph_iri})

    def request(self, method, url, *, data=None, content_type=None, accept=None):
        """Send one request; ``(status, media type, body)`` of a 2xx answer, else an
        :class:`EndpointError` naming ``url`` and what to do."""
        headers = {"User-Agent": "takeoff-graph", "Accept-Encoding": "identity"}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        credentials, withheld = _credentials(url, self.http_credentials)
        if credentials:
            headers["Authorization"] = credentials
        deadline = time.monotonic() + self.timeout
        try:
            status, reason, answer, body = _exchange(method, url, headers, data, deadline,
                                                     self.max_bytes)
        except _TooLarge as exc:
            raise AnswerTooLarge(f"{url}: the answer is larger than {exc.cap // 2**20} MB and "
                                 "was cut off: a takeoff-graph map is far smaller; check the URL "
                                 "and --graph") from None
        except _Encoded as exc:
            raise EndpointError(f"{url}: the server sent a {quote_header(exc.coding)}-encoded "
                                "answer, though none was asked for; refused (it could expand "
                                "without bound)") from None
        except (OSError, http.client.HTTPException) as exc:
            late = time.monotonic() >= deadline
            raise EndpointError(_network_message(exc, url, self.timeout, late)) from None
        if not 200 <= status < 300:
            raise EndpointError(_http_message(status, reason, answer, body, url,
                                              bool(credentials), withheld), status)
        return status, answer.get_content_type(), body


def quote_header(value):
    """A header value for a message: inert, and at most 60 characters."""
    text = inert(" ".join(str(value).split()))
    return repr(text[:60] + ("..." if len(text) > 60 else ""))


def public_url(url):
    """``url`` without its user name and password (for messages)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<a malformed URL>"
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _check_url(url, option):
    shown = inert(public_url(url or ""))
    try:
        parts = urllib.parse.urlsplit(url or "")
        parts.port  # a port that is not a number in range raises here
    except ValueError as exc:
        raise EndpointError(f"{option} {shown!r}: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"{option} {shown!r}: give an http:// or https:// URL "
                            "(e.g. http://127.0.0.1:7878/query)")
    if "@" in parts.netloc:
        raise EndpointError(f"{option} {shown!r}: a user name or password in the URL is refused "
                            "(it would stay in the shell history and show in the process "
                            f"list); set {TOKEN_VARIABLE}, or {USER_VARIABLE} and "
                            f"{PASSWORD_VARIABLE}, with {HOST_VARIABLE}, or use a netrc entry")
    if any(ord(c) < 33 or ord(c) >= 127 for c in url):
        raise EndpointError(f"{option} {shown!r}: spaces, control characters and characters "
                            "outside ASCII are not allowed in a URL (percent-encode them; a "
                            "host name in punycode, xn--...)")
    return url


# ---- one request, under one deadline ----------------------------------------------------------

class _TooLarge(Exception):
    def __init__(self, cap):
        self.cap = cap


class _Encoded(Exception):
    def __init__(self, coding):
        self.coding = coding


def _left(deadline):
    """Seconds until ``deadline``; a TimeoutError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left


def _exchange(method, url, headers, data, deadline, cap):
    """One HTTP exchange: ``(status, reason, headers, body)``.

    The deadline holds for every step. Each read waits at most the time left (the socket's
    timeout shrinks read by read), and a watchdog shuts the socket down when the time is up, so
    neither a slow connect nor headers or a body sent a byte at a time can outlast it.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port,
                                                 timeout=_left(deadline),
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=_left(deadline))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    watchdog = None
    try:
        connection.connect()
        sock = connection.sock
        watchdog = threading.Timer(_left(deadline), _cut, (sock,))
        watchdog.daemon = True
        watchdog.start()
        connection.request(method, target, body=data, headers=headers)
        sock.settimeout(_left(deadline))
        response = connection.getresponse()
        coding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if coding != "identity":
            raise _Encoded(coding)
        ok = 200 <= response.status < 300
        body = _read(response, sock, deadline, cap if ok else ERROR_BODY_BYTES, strict=ok)
        return response.status, response.reason, response.headers, body
    finally:
        if watchdog is not None:
            watchdog.cancel()
        connection.close()


def _cut(sock):
    """Wake whatever waits on ``sock``: the deadline has passed."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


def _read(response, sock, deadline, cap, *, strict):
    """The body of ``response``, read in pieces under the deadline; past ``cap`` bytes a
    :class:`_TooLarge` (``strict``) or the first ``cap`` bytes."""
    declared = response.getheader("Content-Length") or ""
    if strict and declared.strip().isdigit() and int(declared) > cap:
        raise _TooLarge(cap)
    chunks, size = [], 0
    while size <= cap:
        sock.settimeout(_left(deadline))
        chunk = response.read1(1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    _left(deadline)  # the watchdog may have ended the read: that is no end of the answer
    if size > cap:
        if strict:
            raise _TooLarge(cap)
        return b"".join(chunks)[:cap]
    if strict and response.length:  # fewer bytes than Content-Length: the answer was cut
        raise http.client.IncompleteRead(b"", response.length)
    return b"".join(chunks)


# ---- credentials ------------------------------------------------------------------------------

def _credentials(url, http_allowed):
    """``(Authorization header or None, why credentials were withheld or None)`` for ``url``.

    Credentials from the environment go only to the host named in ``TAKEOFF_ENDPOINT_HOST``;
    a netrc entry only to its own host; either only over https unless ``http_allowed``.
    """
    parts = urllib.parse.urlsplit(url)
    token = os.environ.get(TOKEN_VARIABLE)
    user, password = os.environ.get(USER_VARIABLE), os.environ.get(PASSWORD_VARIABLE)
    if token or user:
        named = os.environ.get(HOST_VARIABLE, "").strip()
        if not named:
            return None, (f"{TOKEN_VARIABLE if token else USER_VARIABLE} is set but "
                          f"{HOST_VARIABLE} is not: set it to the host the credentials are for "
                          "(they are sent to that host only)")
        if not _same_host(named, parts):
            return None, (f"{HOST_VARIABLE} names {inert(named)!r}, not {parts.netloc!r}: the "
                          "credentials from the environment are sent to that host only")
        header = f"Bearer {token}" if token else _basic(user, password)
    else:
        entry = _netrc_entry(parts.hostname)
        if entry is None:
            return None, None
        header = _basic(*entry)
    if parts.scheme != "https" and not http_allowed:
        return None, (f"{parts.scheme}:// is not encrypted, so anyone on the way could read them: "
                      f"use https, or pass {HTTP_CREDENTIALS_OPTION}")
    return header, None


def _basic(user, password):
    pair = f"{user}:{password or ''}".encode("utf-8")
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _same_host(named, parts):
    """Whether ``named`` (``host`` or ``host:port``) is the host of the URL ``parts``."""
    named = named.lower()
    host, _, port = named.rpartition(":") if named.count(":") == 1 else (named, "", "")
    host = host.strip("[]")
    if port and port != str(parts.port or (443 if parts.scheme == "https" else 80)):
        return False
    return host == (parts.hostname or "").lower()


def _netrc_entry(host):
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.isfile(path):
        return None
    info = os.stat(path)
    if info.st_mode & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        whose = "it belongs to another user" if info.st_uid != os.getuid() else \
            f"other users can read or change it (mode {info.st_mode & 0o777:o})"
        raise EndpointError(f"{path}: {whose}; a netrc file holds passwords, so it is refused "
                            f"(as ssh refuses such a key): chmod 600 {path}")
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (netrc.NetrcParseError, OSError, UnicodeDecodeError) as exc:
        line = f" line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        raise EndpointError(f"{path}{line}: the netrc file cannot be read") from None
    return (entry[0], entry[2]) if entry else None


# ---- messages ---------------------------------------------------------------------------------

def _http_message(code, reason, headers, body, url, sent_credentials, withheld):
    reason = inert(" ".join(str(reason).split()))[:60]
    if code in (401, 403):
        if sent_credentials:
            what = "refused the credentials" if code == 401 else "does not allow this account to do that"
        else:
            what = "needs credentials"
        if withheld:
            return f"{url}: the server {what} ({code} {reason}); none were sent: {withheld}"
        return (f"{url}: the server {what} ({code} {reason}); set {TOKEN_VARIABLE}, or "
                f"{USER_VARIABLE} and {PASSWORD_VARIABLE} (with {HOST_VARIABLE}), or a netrc "
                "entry for the host")
    if 300 <= code < 400:
        location = public_url(headers.get("Location") or "")
        return (f"{url}: the server redirects to {quote_header(location)} ({code}); "
                "give that URL instead (redirects are not followed)")
    if code == 404:
        return f"{url}: not found (404): check the URL (Oxigraph: http://HOST:PORT/query)"
    detail = inert(" ".join(body[:300].decode("utf-8", "replace").split()))
    detail = f": {detail[:200]}" if detail else ""
    return f"{url}: the server answered {code} {reason}{detail}"


def _network_message(exc, url, timeout, late):
    reason = getattr(exc, "reason", exc)
    if late or isinstance(reason, (TimeoutError, socket.timeout)):
        return (f"{url}: no complete answer within {timeout:g} s; pass --timeout with more "
                "seconds, or check that the server is not overloaded")
    if isinstance(reason, ConnectionRefusedError):
        return (f"{url}: connection refused: is the server running on that port? "
                "(start one: oxigraph serve --location DIR --bind 127.0.0.1:7878)")
    if isinstance(reason, socket.gaierror):
        return f"{url}: unknown host: check the URL"
    if isinstance(reason, ssl.SSLError):
        return f"{url}: TLS failed ({getattr(reason, 'reason', None) or reason}): check the certificate"
    if isinstance(reason, http.client.IncompleteRead):
        return (f"{url}: the answer ended {reason.expected} bytes short of the length the server "
                "announced (the connection was cut); nothing was used: try again")
    if isinstance(reason, http.client.HTTPException):
        return f"{url}: the server's answer is not valid HTTP ({type(reason).__name__})"
    text = getattr(reason, "strerror", None) or str(reason)
    return f"{url}: cannot talk to the server ({inert(text)})"


# ---- the three operations -------------------------------------------------------------------

def publish(graph, endpoint, graph_iri=DEFAULT_GRAPH, *, base=DEFAULT_BASE, score=None,
            force=False):
    """Replace one named graph on the server with the corpus, so that a reader sees the old
    map or the new one, never a mix.

    The published graph is read (Graph Store ``GET``) and compared with the corpus's N-Triples;
    one SPARQL Update then deletes what is gone and inserts what is new (a single request, so
    one transaction on the server). Republishing a large map after an edit thus writes only
    the edit: a transactional write of every triple is what makes a server slow (Oxigraph
    needs about a minute per million). A graph that does not exist yet, or is empty, is written
    with one Graph Store ``PUT``. A change too large for one update (:data:`MAX_UPDATE_BYTES`),
    or a graph whose blank nodes are not trees (not ours), is uploaded in pieces to a staging
    graph that is then moved into place by one update (``MOVE``).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The corpus graph.
    endpoint : Endpoint
    graph_iri : str
        The named graph; ``"default"`` for the server's default graph.
    base : str
        Node ids become IRIs under this base.
    score : ScoreResult, optional
        Publish the strengths too, with the semantics that produced them (``tg:Scoring``).
    force : bool
        Replace the graph even when it holds data that is not a takeoff-graph map.

    Returns
    -------
    dict
        ``store``, ``graph``, ``triples``, ``bytes`` (of the map's N-Triples), ``nodes``,
        ``edges``, ``semantics`` (or None), ``created`` (the graph did not exist), ``added``
        and ``removed`` (triples written and deleted) and ``method`` (``"update"``, ``"put"``,
        ``"staged"``, or ``"unchanged"`` when nothing was sent).

    Raises
    ------
    EndpointError
        The server is unreachable or refused, or the graph holds other data (unless ``force``).
    """
    if not force and _holds_other_data(endpoint, graph_iri):
        raise EndpointError(f"{endpoint.store_url}: graph <{graph_iri}> holds data that is not "
                            "a takeoff-graph map; name another --graph, or pass --force to "
                            "replace it")
    with concurrent.futures.ThreadPoolExecutor(1) as reader:
        # The server writes out the published graph while this process writes the new one.
        published = reader.submit(_published, endpoint, graph_iri)
        data = serialize(graph, "nt", base, score=score).encode("utf-8")
        new = _Triples(data)
        old = published.result()
    info = {"store": endpoint.store_url, "graph": graph_iri, "triples": data.count(b"\n"),
            "bytes": len(data), "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
            "semantics": score.semantics if score is not None else None, "created": False,
            "added": new.count, "removed": 0}
    if old is not _TOO_LARGE and not (old or b"").strip():
        # No graph yet, or an empty one: a reader sees nothing or the whole map.
        status, _, _ = endpoint.request("PUT", endpoint.graph_url(graph_iri), data=data,
                                        content_type=RESULTS_GRAPH)
        return {**info, "created": status == 201, "method": "put"}
    change = None
    if old is not _TOO_LARGE:
        try:
            change = _change(_Triples(old), new, graph_iri)
        except _NotTrees:  # not a map's shape: replaced whole
            pass
    if change is None or len(change.text) > MAX_UPDATE_BYTES:
        _replace_staged(endpoint, graph_iri, new)
        removed = None if old is _TOO_LARGE else old.count(b"\n")
        return {**info, "removed": removed, "method": "staged"}
    info.update(added=change.added, removed=change.removed)
    if not change.text:
        return {**info, "method": "unchanged"}
    _update(endpoint, change.text)
    return {**info, "method": "update"}


def _holds_other_data(endpoint, graph_iri):
    """Whether the graph has triples but no takeoff-graph node (so replacing it would destroy
    someone else's data). Both tests are ``EXISTS`` filters, evaluated once each."""
    def scope(pattern):
        return pattern if graph_iri == SERVER_DEFAULT_GRAPH else f"GRAPH <{graph_iri}> {{ {pattern} }}"

    nodes = " UNION ".join(f"{{ ?n a <{VOCAB}{cls}> }}" for cls in KIND_CLASS.values())
    text = (f"ASK {{ FILTER(EXISTS {{ {scope('?s ?p ?o')} }} && "
            f"NOT EXISTS {{ {scope(nodes)} }}) }}")
    status, media, body = endpoint.request(
        "POST", endpoint.query_url, data=urllib.parse.urlencode({"query": text}).encode(),
        content_type="application/x-www-form-urlencoded", accept=RESULTS_JSON)
    return _answer(body, media, endpoint.query_url).answer


_TOO_LARGE = object()


def _published(endpoint, graph_iri):
    """The N-Triples of the graph as published now: None if it does not exist, ``_TOO_LARGE``
    if it is larger than the endpoint accepts (there is then nothing to compare with)."""
    try:
        _, media, body = endpoint.request("GET", endpoint.graph_url(graph_iri), accept=RESULTS_GRAPH)
    except AnswerTooLarge:
        return _TOO_LARGE
    except EndpointError as exc:
        if exc.status == 404:
            return None
        raise
    if media not in (RESULTS_GRAPH, "text/plain"):
        raise EndpointError(f"{endpoint.graph_url(graph_iri)}: the answer ({inert(media)[:80]}) "
                            "is not N-Triples: is --store-url the server's Graph Store service?")
    return body


def _update(endpoint, text):
    """Send one SPARQL Update (one transaction on the server)."""
    endpoint.request("POST", endpoint.update_url, data=text, content_type="application/sparql-update")


def _graph_clause(graph_iri):
    """How an update names the graph: ``DEFAULT`` or ``GRAPH <iri>``."""
    return "DEFAULT" if graph_iri == SERVER_DEFAULT_GRAPH else f"GRAPH <{graph_iri}>"


def _replace_staged(endpoint, graph_iri, triples):
    """Upload ``triples`` to a new staging graph in pieces (each its own request under the
    deadline), then move it onto the graph with one update; the staging graph is dropped if
    anything fails on the way."""
    staging = f"{STAGING_GRAPH}{uuid.uuid4()}"
    try:
        for chunk in triples.chunks(STAGING_CHUNK_BYTES):
            endpoint.request("POST", endpoint.graph_url(staging), data=chunk,
                             content_type=RESULTS_GRAPH)
        _update(endpoint, f"MOVE SILENT GRAPH <{staging}> TO {_graph_clause(graph_iri)}".encode())
    except BaseException:
        try:
            _update(endpoint, f"DROP SILENT GRAPH <{staging}>".encode())
        except EndpointError:  # the server is gone or refuses: the first failure is the news
            pass
        raise


# ---- comparing two versions of a graph ------------------------------------------------------

class _NotTrees(Exception):
    """The blank nodes of a graph are not trees hanging from one triple each (not a takeoff
    map's lists and scoring run), or a line is not N-Triples as the comparison reads it."""


# One N-Triples line: subject, predicate, object. Stricter than N-Triples where a line is pasted
# into an update (lines the server sent, of a graph about to change): IRIs without escapes, and
# in literals no escape of a character that would end the string (a SPARQL parser may decode
# \uXXXX before it reads the text), so nothing a server sends can read as an operation.
_IRI = rb'<[^\x00-\x20<>"{}|^`\\]*>'
_LINE = re.compile(
    rb"(" + _IRI + rb"|_:[^\s<>\"{}]+)[ \t]+(" + _IRI + rb")[ \t]+(" + _IRI + rb"|_:[^\s<>\"{}.]+"
    rb"(?:\.+[^\s<>\"{}.]+)*|"
    rb'"(?:[^"\\\n\r]|\\[tbnrf"\'\\]|\\u00[01][0-9A-Fa-f]|\\u007[Ff])*"'
    rb"(?:\^\^" + _IRI + rb"|@[A-Za-z]+(?:-[A-Za-z0-9]+)*)?)[ \t]*\.")


class _Triples:
    """An N-Triples document, split for comparison: ``plain``, the set of lines without blank
    nodes, and ``trees``, each tree of blank nodes (a tag list, the scoring run) with the triple
    that holds it, keyed by a form that does not depend on the blank nodes' labels.

    Raises
    ------
    _NotTrees
        A blank node is the object of two triples, lies on a cycle, or a line that mentions
        ``_:`` cannot be read.
    """

    def __init__(self, data):
        # Whole lines in sets: Python runs no loop over the million lines of a large map, only
        # over the few that mention blank nodes.
        data = data.replace(b"\r", b"")
        self.plain = set(data.split(b"\n"))
        self.plain.discard(b"")
        candidates = _mentioning_blanks(data)
        self.plain.difference_update(candidates)
        linked = []
        for line in candidates:
            match = _LINE.fullmatch(line.strip())
            if match is None:
                raise _NotTrees(line[:80])
            s, p, o = match.groups()
            if s.startswith(b"_:") or o.startswith(b"_:"):
                linked.append((s, p, o))
            else:  # "_:" in a literal or an IRI
                self.plain.add(line)
        self.trees = _trees(linked)
        self.count = len(self.plain) + sum(len(tree) for tree in self.trees.values())

    def chunks(self, size):
        """N-Triples documents of about ``size`` bytes that hold every triple once, a tree
        always whole (a blank node means the same node only within one document)."""
        pieces = [*self.plain, *(_lines(tree) for tree in self.trees.values())]
        chunk, length = [], 0
        for piece in pieces:
            if chunk and length + len(piece) > size:
                yield b"\n".join(chunk) + b"\n"
                chunk, length = [], 0
            chunk.append(piece)
            length += len(piece) + 1
        if chunk:
            yield b"\n".join(chunk) + b"\n"


def _mentioning_blanks(data):
    """The lines of ``data`` with ``_:`` in them (a blank node, or those characters in a
    literal or an IRI), found by ``bytes.find`` from one to the next."""
    lines, find, rfind = [], data.find, data.rfind
    at = find(b"_:")
    while at >= 0:
        end = find(b"\n", at)
        end = len(data) if end < 0 else end
        lines.append(data[rfind(b"\n", 0, at) + 1:end])
        at = find(b"_:", end)
    return lines


def _lines(triples):
    return b"\n".join(b"%s %s %s ." % triple for triple in triples)


def _trees(linked):
    """``{key: triples}`` for the triples that mention blank nodes: each blank node's subtree,
    with the triple that holds it (from a node with an IRI) or alone (a root, like the scoring
    run). The key names every blank node by its place in the tree, not by its label."""
    below, holder = {}, {}
    for s, p, o in linked:
        if s.startswith(b"_:"):
            below.setdefault(s, []).append((p, o))
        if o.startswith(b"_:"):
            if o in holder:
                raise _NotTrees(o)
            holder[o] = (s, p)
    roots = [b for b in {*below, *holder} if b not in holder or not holder[b][0].startswith(b"_:")]
    form, trees = {}, {}
    for root in roots:
        order, stack = [], [root]
        while stack:  # depth first, then forms from the leaves up (lists may be long)
            node = stack.pop()
            order.append(node)
            stack.extend(o for _, o in below.get(node, ()) if o.startswith(b"_:"))
        for node in reversed(order):
            form[node] = b"[" + b";".join(sorted(
                p + b" " + (form[o] if o.startswith(b"_:") else o)
                for p, o in below.get(node, ()))) + b"]"
        triples = [(node, p, o) for node in order for p, o in below.get(node, ())]
        if root in holder:
            s, p = holder[root]
            triples.insert(0, (s, p, root))
            key = s + b" " + p + b" " + form[root]
        else:
            key = b"_ " + form[root]
        trees[key] = triples
    if len(form) != len({*below, *holder}):  # blank nodes no root reaches: a cycle
        raise _NotTrees("a cycle of blank nodes")
    return trees


class _Change:
    def __init__(self, text, added, removed):
        self.text, self.added, self.removed = text, added, removed


def _change(old, new, graph_iri):
    """The SPARQL Update that turns graph ``old`` into ``new`` (empty text if they are the
    same): ``DELETE DATA`` of the lines that are gone, a ``DELETE WHERE`` per tree that is gone
    (its blank nodes as variables), one ``INSERT DATA`` of what is new."""
    gone, added = old.plain - new.plain, new.plain - old.plain
    unread = next((line for line in gone if not _LINE.fullmatch(line)), None)
    if unread is not None:
        raise _NotTrees(unread[:80])
    gone_trees = [old.trees[key] for key in old.trees.keys() - new.trees.keys()]
    new_trees = [new.trees[key] for key in new.trees.keys() - old.trees.keys()]
    clause = _graph_clause(graph_iri)
    where = "" if graph_iri == SERVER_DEFAULT_GRAPH else clause

    def block(lines):
        return (b"{ %s { \n" % where.encode() + b"\n".join(lines) + b"\n} }" if where
                else b"{\n" + b"\n".join(lines) + b"\n}")

    operations = []
    if gone:
        operations.append(b"DELETE DATA " + block(gone))
    for tree in gone_trees:
        names = {}
        for s, _, o in tree:
            for term in (s, o):
                if term.startswith(b"_:"):
                    names.setdefault(term, b"?b%d" % len(names))
        operations.append(b"DELETE WHERE " + block(
            [b"%s %s %s ." % (names.get(s, s), p, names.get(o, o)) for s, p, o in tree]))
    if added or new_trees:
        operations.append(b"INSERT DATA " + block([*added, *map(_lines, new_trees)]))
    return _Change(b" ;\n".join(operations), len(added) + sum(map(len, new_trees)),
                   len(gone) + sum(map(len, gone_trees)))


def query(endpoint, text, graph_iri=DEFAULT_GRAPH, *, base=DEFAULT_BASE, allow_service=()):
    """Run a SPARQL query on the server, under the same policy as the local store.

    The query is parsed here first (so syntax errors name line and column and a ``SERVICE``
    not in ``allow_service`` is refused before anything is sent); the vocabulary prefixes and
    ``node:`` (``base``) are declared for the server. ``graph_iri`` becomes the query's default
    graph (``default-graph-uri``), so the shipped queries run on the published map unchanged.

    Returns
    -------
    QueryResult
        As :func:`graph.formats.rdf.run_query` gives it.
    """
    namespaces = query_namespaces(base)
    prepared = prepare_query(text, namespaces, allow_service)
    kind = result_kind(prepared)
    prologue = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in namespaces.items())
    form = {"query": prologue + text}
    if graph_iri != SERVER_DEFAULT_GRAPH:
        form["default-graph-uri"] = graph_iri
    accept = RESULTS_JSON if kind in ("SELECT", "ASK") else f"{RESULTS_GRAPH}, text/turtle;q=0.9"
    _, media, body = endpoint.request(
        "POST", endpoint.query_url, data=urllib.parse.urlencode(form).encode("utf-8"),
        content_type="application/x-www-form-urlencoded", accept=accept)
    result = _answer(body, media, endpoint.query_url)
    result.kind = kind
    return result


def _answer(body, media, url):
    try:
        return parse_results(body, media)
    except Exception:  # any parser failure means the server did not send SPARQL results
        raise EndpointError(f"{url}: the answer ({inert(media)[:80]}) is not SPARQL results: is "
                            "this the server's SPARQL query service? (Oxigraph: "
                            "http://HOST:PORT/query)") from None


def fetch_graph(endpoint, graph_iri=DEFAULT_GRAPH, *, base=DEFAULT_BASE):
    """The corpus graph published as ``graph_iri`` (Graph Store ``GET``).

    Raises
    ------
    EndpointError
        The graph does not exist, or does not hold a takeoff-graph map.
    """
    url = endpoint.graph_url(graph_iri)
    try:
        _, media, body = endpoint.request("GET", url, accept=RESULTS_GRAPH)
    except EndpointError as exc:
        if exc.status == 404:
            raise EndpointError(f"{endpoint.store_url}: there is no graph <{graph_iri}> "
                                "(publish one with takeoff publish, or check --graph)") from None
        raise
    if media not in (RESULTS_GRAPH, "text/plain"):
        raise EndpointError(f"{url}: the answer ({inert(media)[:80]}) is not N-Triples: is "
                            "--store-url the server's Graph Store service?")
    lines = body.count(b"\n")  # N-Triples holds one triple a line
    if lines > MAX_TRIPLES:
        raise EndpointError(f"{endpoint.store_url}: graph <{graph_iri}> has {lines} lines, over "
                            f"the limit of {MAX_TRIPLES} triples a pulled map may have; refused "
                            "before reading it")
    try:
        return parse(decode_text(body), "nt", base)
    except (RDFError, InputError) as exc:
        raise EndpointError(f"{endpoint.store_url}: graph <{graph_iri}> is not a takeoff-graph "
                            f"map: {' '.join(str(exc).split())[:300]}") from None


# ---- a local server -------------------------------------------------------------------------

LOOPBACK = "127.0.0.1"


def start_server(port=7878, location=None, *, host=LOOPBACK, union_default_graph=False,
                 read_only=False, wait=30.0):
    """Start ``oxigraph serve`` (or ``serve-read-only``) and wait until it answers.

    The server is proved to be this process's own child before anything is sent to it: the
    port must be free beforehand, and (on Linux) the listening socket on it must belong to the
    child. The child dies with this process, even on ``kill -9`` (``PR_SET_PDEATHSIG``).

    Parameters
    ----------
    port : int
        0 picks a free port.
    location : path, optional
        The folder the server keeps its data in; in memory if None (not with ``read_only``).
    host : str
        The address to listen on: loopback only unless another is named.
    union_default_graph : bool
        Queries without GRAPH see every named graph (what most SPARQL tools expect).
    read_only : bool
        Refuse every update (Oxigraph's ``serve-read-only``; needs ``location``).
    wait : float
        Seconds to wait for the first answer.

    Returns
    -------
    (subprocess.Popen, str)
        The server process (stop it with ``terminate()``) and its base URL.
    """
    binary = shutil.which("oxigraph")
    if binary is None:
        raise EndpointError("the oxigraph server is not installed: pip install "
                            "'takeoff-graph[server]' (or any SPARQL server: see docs/sharing.md)")
    port = _free_port(host, port)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    command = [binary, "serve-read-only" if read_only else "serve", "--bind", address]
    if location is not None:
        command += ["--location", str(location)]
    if union_default_graph:
        command.append("--union-default-graph")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, preexec_fn=_die_with_parent(os.getpid()))
    url = f"http://{address}"
    probe = Endpoint(url, timeout=1)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        if _listens(process.pid, port) is not False:
            try:
                probe.request("GET", probe.query_url + "?query=ASK%7B%7D", accept=RESULTS_JSON)
                if process.poll() is None and _listens(process.pid, port) is not False:
                    return process, url
            except EndpointError:
                pass
        time.sleep(0.1)
    if process.poll() is None:
        process.kill()
    why = " ".join(process.communicate(timeout=5)[1].decode("utf-8", "replace").split())[-200:]
    raise EndpointError(f"oxigraph serve did not start on {address}: {inert(why) or 'no answer'} "
                        "(is the port in use? pass --port)")


def _free_port(host, port):
    """``port`` if nothing listens on it (a free one for 0), else an EndpointError: whoever
    holds it must never be mistaken for the server this process starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        # As the server will: a port left in TIME_WAIT is free, one that is listened on is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise EndpointError(f"cannot listen on {host}:{port}: {exc.strerror} (another "
                                "program holds the port? pass another --port, or 0 for any "
                                "free one)") from None
        return sock.getsockname()[1]


def _listens(pid, port):
    """Whether process ``pid`` holds the listening TCP socket on ``port``; None where this
    cannot be known (no /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except OSError:
            return None
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:  # gone, or not ours to look at
        return False
    for fd in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in {f"socket:[{i}]" for i in inodes}:
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def _die_with_parent(parent):
    """A ``preexec_fn`` that makes the child receive SIGKILL when this process dies (Linux's
    ``PR_SET_PDEATHSIG``), so ``kill -9`` of takeoff does not leave a server behind."""
    def arm():
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # not Linux: the server stops on Ctrl-C and SIGTERM
            return
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm


class LocalServer:
    """A corpus served by a local Oxigraph (see :func:`serve_corpus`): ``process``, ``url``,
    ``info`` (what was loaded, as :func:`publish` reports it), ``writable``, ``host``."""

    def __init__(self, process, url, info, writable, host, scratch):
        self.process, self.url, self.info = process, url, info
        self.writable, self.host, self._scratch = writable, host, scratch

    def stop(self):
        """Stop the server and remove the folder it kept its data in if it was a temporary."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)


def serve_corpus(graph, *, port=7878, host=LOOPBACK, location=None, writable=False,
                 base=DEFAULT_BASE, score=None):
    """Serve the corpus from a local Oxigraph: loaded into its store by ``oxigraph load``
    (never sent over the network), then served read-only unless ``writable``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    port : int
        0 picks a free port.
    host : str
        The address to listen on (loopback by default).
    location : path, optional
        The folder of the server's store, kept afterwards; a temporary folder if None.
    writable : bool
        Accept SPARQL updates and Graph Store writes (from anyone who can reach the port).
    base, score
        As for :func:`publish`.

    Returns
    -------
    LocalServer
    """
    binary = shutil.which("oxigraph")
    if binary is None:
        raise EndpointError("the oxigraph server is not installed: pip install "
                            "'takeoff-graph[server]' (or any SPARQL server: see docs/sharing.md)")
    scratch = None if location is not None else tempfile.mkdtemp(prefix="takeoff-serve-")
    folder = str(location if location is not None else scratch)
    data = serialize(graph, "nt", base, score=score).encode("utf-8")
    try:
        # The map replaces its previous version in a kept store (as publish's PUT does).
        _oxigraph(binary, "update", "--location", folder, "--update",
                  f"DROP SILENT GRAPH <{DEFAULT_GRAPH}>")
        _oxigraph(binary, "load", "--location", folder, "--format", "nt", "--graph",
                  DEFAULT_GRAPH, data=data)
        process, url = start_server(port, folder, host=host, union_default_graph=True,
                                    read_only=not writable)
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    info = {"store": url + "/store", "graph": DEFAULT_GRAPH, "triples": data.count(b"\n"),
            "bytes": len(data), "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
            "semantics": score.semantics if score is not None else None}
    return LocalServer(process, url, info, writable, host, scratch)


def _oxigraph(binary, *args, data=None):
    done = subprocess.run([binary, *args], input=data, capture_output=True, timeout=600)
    if done.returncode != 0:
        why = " ".join(done.stderr.decode("utf-8", "replace").split())[-300:]
        raise EndpointError(f"oxigraph {args[0]} --location {args[2]} failed: {inert(why)}")


def pull(endpoint, graph_iri, root, *, base=None, replace=False):
    """Rebuild the corpus at ``root`` from graph ``graph_iri`` of ``endpoint`` (``takeoff
    pull``): fetch it, then write what differs in one change (:func:`graph.files.edit.sync_corpus`,
    comparing nodes as RDF carries them).

    Returns
    -------
    (networkx.MultiDiGraph, dict)
        The fetched graph and what changed: ``added``, ``changed``, ``removed`` (ids) and
        ``unchanged`` (a count).
    """
    from graph.files.edit import sync_corpus

    base = base or DEFAULT_BASE
    graph = fetch_graph(endpoint, graph_iri, base=base)
    return graph, sync_corpus(root, graph, replace=replace,
                              normalize=lambda local: as_published(local, base))
