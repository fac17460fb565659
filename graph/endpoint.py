"""A shared map on a SPARQL server: publish, query and pull over the standard protocols.

Whole graphs travel by the SPARQL 1.1 Graph Store HTTP Protocol (``PUT`` replaces one named
graph atomically, ``GET`` reads it back); queries by the SPARQL 1.1 Protocol (``POST`` of an
urlencoded ``query`` with ``default-graph-uri`` naming the published graph, so the shipped
queries run unchanged). Nothing here is specific to one server; Oxigraph lays its services out
as ``URL/query`` and ``URL/store``, which is the default (see :class:`Endpoint`).

Credentials come from the environment (``TAKEOFF_ENDPOINT_TOKEN`` for a bearer token, or
``TAKEOFF_ENDPOINT_USER`` and ``TAKEOFF_ENDPOINT_PASSWORD`` for HTTP basic) or from a netrc
entry for the host; never from the command line, and they are never printed. TLS certificates
are verified; redirects are not followed (they would carry the credentials elsewhere).

Only the standard library is used (urllib); rdflib parses the answers.
"""
from __future__ import annotations

import base64
import netrc
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from graph.model import TakeoffError
from graph.rdf import (
    DEFAULT_BASE, DEFAULT_TIMEOUT, RESULTS_GRAPH, RESULTS_JSON, RDFError, VOCAB, parse,
    parse_results, prepare_query, query_namespaces, result_kind, serialize,
)

# The named graph a corpus is published to unless --graph names another.
DEFAULT_GRAPH = "https://w3id.org/takeoff-graph/graph/corpus"
# --graph default: the server's default graph (no graph parameter at all).
SERVER_DEFAULT_GRAPH = "default"
TOKEN_VARIABLE = "TAKEOFF_ENDPOINT_TOKEN"
USER_VARIABLE, PASSWORD_VARIABLE = "TAKEOFF_ENDPOINT_USER", "TAKEOFF_ENDPOINT_PASSWORD"
# Query services are usually found at one of these last path segments.
QUERY_SEGMENTS = ("query", "sparql")


class EndpointError(TakeoffError):
    """The server could not be reached, refused, or answered something unusable; ``status``
    is the HTTP status of a refusal."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


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
    timeout : float
        Seconds a whole request (connect, send, answer) may take.
    """

    def __init__(self, url, store_url=None, timeout=DEFAULT_TIMEOUT):
        self.query_url = _check_url(url, "--endpoint")
        path = urllib.parse.urlsplit(self.query_url).path.rstrip("/")
        if path.rsplit("/", 1)[-1] in QUERY_SEGMENTS:
            base = self.query_url.rstrip("/").rsplit("/", 1)[0]
        else:
            base = self.query_url.rstrip("/")
            self.query_url = base + "/query"
        self.store_url = _check_url(store_url, "--store-url") if store_url else base + "/store"
        self.timeout = timeout

    def graph_url(self, graph_iri):
        """The Graph Store URL of one named graph (or of the default graph)."""
        if graph_iri == SERVER_DEFAULT_GRAPH:
            return self.store_url + "?default"
        return self.store_url + "?" + urllib.parse.urlencode({"graph": graph_iri})

    def request(self, method, url, *, data=None, content_type=None, accept=None):
        """Send one request; ``(status, media type, body)`` of a 2xx answer, else an
        :class:`EndpointError` naming ``url`` and what to do."""
        headers = {"User-Agent": "takeoff-graph"}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        credentials = _credentials(url)
        if credentials:
            headers["Authorization"] = credentials
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        deadline = time.monotonic() + self.timeout
        try:
            with _opener().open(request, timeout=self.timeout) as response:
                body = _read_until(response, deadline)
                media = response.headers.get_content_type()
                return response.status, media, body
        except urllib.error.HTTPError as exc:
            raise EndpointError(_http_message(exc, url, bool(credentials)), exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            raise EndpointError(_network_message(exc, url, self.timeout)) from None


def _check_url(url, option):
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"{option} {url!r}: give an http:// or https:// URL "
                            "(e.g. http://127.0.0.1:7878/query)")
    return url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects end the request (as an HTTPError): following one would send the
    credentials to a URL the user did not name."""

    def redirect_request(self, *args, **kwargs):
        return None


def _opener():
    return urllib.request.build_opener(
        _NoRedirect, urllib.request.HTTPSHandler(context=ssl.create_default_context()))


def _read_until(response, deadline):
    chunks = []
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("the answer took too long")
        chunk = response.read(1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _credentials(url):
    """The Authorization header for ``url``: bearer token, basic user and password, or the
    netrc entry of its host; None without any."""
    token = os.environ.get(TOKEN_VARIABLE)
    if token:
        return f"Bearer {token}"
    user, password = os.environ.get(USER_VARIABLE), os.environ.get(PASSWORD_VARIABLE)
    if not user:
        entry = _netrc_entry(urllib.parse.urlsplit(url).hostname)
        if entry is None:
            return None
        user, password = entry
    pair = f"{user}:{password or ''}".encode("utf-8")
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _netrc_entry(host):
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.isfile(path):
        return None
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        line = f" line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        raise EndpointError(f"{path}{line}: the netrc file cannot be read") from None
    return (entry[0], entry[2]) if entry else None


def _http_message(exc, url, sent_credentials):
    code = exc.code
    if code in (401, 403):
        if sent_credentials:
            what = "refused the credentials" if code == 401 else "does not allow this account to do that"
        else:
            what = "needs credentials"
        return (f"{url}: the server {what} ({code} {exc.reason}); set {TOKEN_VARIABLE}, or "
                f"{USER_VARIABLE} and {PASSWORD_VARIABLE}, or a netrc entry for the host")
    if 300 <= code < 400:
        return (f"{url}: the server redirects to {exc.headers.get('Location')!r} ({code}); "
                "give that URL instead (redirects are not followed)")
    if code == 404:
        return f"{url}: not found (404): check the URL (Oxigraph: http://HOST:PORT/query)"
    detail = " ".join(exc.read(300).decode("utf-8", "replace").split())
    detail = f": {detail[:200]}" if detail else ""
    return f"{url}: the server answered {code} {exc.reason}{detail}"


def _network_message(exc, url, timeout):
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return (f"{url}: no complete answer within {timeout:g} s; pass --timeout with more "
                "seconds, or check that the server is not overloaded")
    if isinstance(reason, ConnectionRefusedError):
        return (f"{url}: connection refused: is the server running on that port? "
                "(start one: oxigraph serve --location DIR --bind 127.0.0.1:7878)")
    if isinstance(reason, socket.gaierror):
        return f"{url}: unknown host: check the URL"
    if isinstance(reason, ssl.SSLError):
        return f"{url}: TLS failed ({getattr(reason, 'reason', None) or reason}): check the certificate"
    text = getattr(reason, "strerror", None) or str(reason)
    return f"{url}: cannot talk to the server ({text})"


# ---- the three operations -------------------------------------------------------------------

def publish(graph, endpoint, graph_iri=DEFAULT_GRAPH, *, base=DEFAULT_BASE, score=None,
            force=False):
    """Replace one named graph on the server with the corpus (Graph Store ``PUT``).

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
        What was sent: ``store``, ``graph``, ``triples``, ``bytes``, ``nodes``, ``edges``,
        ``semantics`` (or None) and ``created`` (the graph did not exist).

    Raises
    ------
    EndpointError
        The server is unreachable or refused, or the graph holds other data (unless ``force``).
    """
    if not force and _holds_other_data(endpoint, graph_iri):
        raise EndpointError(f"{endpoint.store_url}: graph <{graph_iri}> holds data that is not "
                            "a takeoff-graph map; name another --graph, or pass --force to "
                            "replace it")
    data = serialize(graph, "nt", base, score=score).encode("utf-8")
    status, _, _ = endpoint.request("PUT", endpoint.graph_url(graph_iri), data=data,
                                    content_type=RESULTS_GRAPH)
    return {"store": endpoint.store_url, "graph": graph_iri, "triples": data.count(b"\n"),
            "bytes": len(data), "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
            "semantics": score.semantics if score is not None else None, "created": status == 201}


def _holds_other_data(endpoint, graph_iri):
    """Whether the graph has triples but no takeoff-graph node (so a PUT would destroy
    someone else's data)."""
    scope = "?s ?p ?o" if graph_iri == SERVER_DEFAULT_GRAPH else f"GRAPH <{graph_iri}> {{ ?s ?p ?o }}"
    nodes = " UNION ".join(
        f"{{ {'' if graph_iri == SERVER_DEFAULT_GRAPH else f'GRAPH <{graph_iri}>'} "
        f"{{ ?n a <{VOCAB}{cls}> }} }}" for cls in ("Model", "Claim", "Evidence"))
    text = f"ASK {{ {scope} FILTER NOT EXISTS {{ {nodes} }} }}"
    status, media, body = endpoint.request(
        "POST", endpoint.query_url, data=urllib.parse.urlencode({"query": text}).encode(),
        content_type="application/x-www-form-urlencoded", accept=RESULTS_JSON)
    return _answer(body, media, endpoint.query_url).answer


def query(endpoint, text, graph_iri=DEFAULT_GRAPH, *, base=DEFAULT_BASE, allow_service=()):
    """Run a SPARQL query on the server, under the same policy as the local store.

    The query is parsed here first (so syntax errors name line and column and a ``SERVICE``
    not in ``allow_service`` is refused before anything is sent); the vocabulary prefixes and
    ``node:`` (``base``) are declared for the server. ``graph_iri`` becomes the query's default
    graph (``default-graph-uri``), so the shipped queries run on the published map unchanged.

    Returns
    -------
    QueryResult
        As :func:`graph.rdf.run_query` gives it.
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
        raise EndpointError(f"{url}: the answer ({media}) is not SPARQL results: is this the "
                            "server's SPARQL query service? (Oxigraph: http://HOST:PORT/query)") from None


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
        raise EndpointError(f"{url}: the answer ({media}) is not N-Triples: is --store-url the "
                            "server's Graph Store service?")
    try:
        return parse(body.decode("utf-8"), "nt", base)
    except (RDFError, UnicodeDecodeError) as exc:
        raise EndpointError(f"{endpoint.store_url}: graph <{graph_iri}> is not a takeoff-graph "
                            f"map: {' '.join(str(exc).split())[:300]}") from None


# ---- a local server -------------------------------------------------------------------------

def start_server(port=7878, location=None, *, union_default_graph=False, wait=30.0):
    """Start ``oxigraph serve`` on 127.0.0.1 (only there) and wait until it answers.

    Parameters
    ----------
    port : int
        0 picks a free port.
    location : path, optional
        The folder the server keeps its data in; in memory if None.
    union_default_graph : bool
        Queries without GRAPH see every named graph (what most SPARQL tools expect).
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
    if port == 0:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
    command = [binary, "serve", "--bind", f"127.0.0.1:{port}"]
    if location is not None:
        command += ["--location", str(location)]
    if union_default_graph:
        command.append("--union-default-graph")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    probe = Endpoint(url, timeout=1)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        try:
            probe.request("GET", probe.query_url + "?query=ASK%7B%7D", accept=RESULTS_JSON)
            return process, url
        except EndpointError:
            time.sleep(0.1)
    if process.poll() is None:
        process.kill()
    why = " ".join(process.communicate(timeout=5)[1].decode("utf-8", "replace").split())[-200:]
    raise EndpointError(f"oxigraph serve did not start on 127.0.0.1:{port}: {why or 'no answer'} "
                        "(is the port in use? pass --port)")
