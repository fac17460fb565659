"""Hostile servers and hostile text: what `pull`, `publish` and `sparql --endpoint` do when the
server at the other end is out to harm the person running them, and what reaches a terminal.

Each hostile server is an http.server on 127.0.0.1 (a free port) whose handler writes raw
bytes: a drip of one byte every two seconds, a 3 GB answer, a compression bomb, redirects to
another host, wrong content types, invalid UTF-8, ids that would escape the corpus, a million
triples, escape sequences in an error. Every case must end with one line naming the URL, exit
status 1, nothing written, within a bounded time."""
import base64
import gzip
import http.server
import os
import socket
import threading
import time

import pytest

from graph.page import endpoint as remote
from graph.formats import rdf
from helpers import BUNDLED, INJECTED, Page, bundled_page_path, cli_score, page_strengths, snapshot, write_node

SECRET = "hunter2"
TOKEN = "s3cret-token-value"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No proxy, no credentials and no netrc of the machine's user."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY", "NETRC", remote.TOKEN_VARIABLE, remote.USER_VARIABLE,
                 remote.PASSWORD_VARIABLE, remote.HOST_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


class Hostile:
    """An HTTP server on 127.0.0.1 whose ``behave(handler)`` writes whatever it likes to
    ``handler.wfile``; it records ``(method, path, headers)`` of every request."""

    def __init__(self, behave):
        requests = self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                requests.append((self.command, self.path, dict(self.headers)))
                try:
                    behave(self)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up: good
                    pass
                self.close_connection = True

            do_GET = do_POST = do_PUT = serve

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile():
    made = []

    def make(behave):
        made.append(Hostile(behave))
        return made[-1]

    yield make
    for server in made:
        server.close()


def answer(status=200, headers=None, body=b"", *, length=True):
    """A behaviour that sends one complete answer."""

    def behave(handler):
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        if length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behave


def one_line_error(result, *parts, absent=()):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1, result.stderr
    for part in parts:
        assert part in result.stderr, (part, result.stderr)
    for part in absent:
        assert part not in result.output, (part, result.output)


@pytest.fixture
def corpus(tmp_path):

    root = tmp_path / "claims"
    write_node(root, "m1", "---\nkind: model\ntitle: A model\n---\n")
    return root


def node_triples(node_id, title="A", base=rdf.DEFAULT_BASE):
    return (f"<{base}{node_id}> <{rdf.PREFIXES['rdf']}type> <{rdf.VOCAB}Claim> .\n"
            f"<{base}{node_id}> <{rdf.PREFIXES['dcterms']}title> \"{title}\" .\n").encode()


# ---- time: a drip cannot outlast --timeout ---------------------------------------------------

def drip(head, every=2.0, count=60):
    """Send ``head`` at once, then one byte every ``every`` seconds."""

    def behave(handler):
        handler.wfile.write(head)
        handler.wfile.flush()
        for _ in range(count):
            time.sleep(every)
            handler.wfile.write(b"x")
            handler.wfile.flush()

    return behave


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_server_dripping_a_byte_every_two_seconds_cannot_outlast_the_timeout(
        run, hostile, corpus, tmp_path, where):
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/n-triples\r\n"
            b"Content-Length: 100000\r\n\r\n") if where == "body" else b"HTTP/1.1 200 OK\r\nX-Slow: "
    server = hostile(drip(head))
    started = time.monotonic()
    result = run(corpus, "pull", tmp_path / "copy", "--endpoint", server.url, "--timeout", "3")
    elapsed = time.monotonic() - started
    one_line_error(result, f"{server.url}/store?graph=", "no complete answer within 3 s")
    assert elapsed < 7, elapsed  # 3 s and the start of a command; a drip would take 120 s
    assert not (tmp_path / "copy").exists()


def test_an_answer_cut_short_of_its_length_is_not_pulled(run, hostile, corpus, tmp_path):
    whole = node_triples("a") + node_triples("b")
    cut = whole[:len(node_triples("a"))]  # a valid map of one node: must not pass for the whole

    def short(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/n-triples")
        handler.send_header("Content-Length", str(len(whole)))
        handler.end_headers()
        handler.wfile.write(cut)

    server = hostile(short)
    result = run(corpus, "pull", tmp_path / "copy", "--endpoint", server.url)
    one_line_error(result, "bytes short of the length the server announced")
    assert not (tmp_path / "copy").exists()


@pytest.mark.parametrize("value", ["inf", "nan", "1e308", "-1", "0", "-inf", "soon"])
@pytest.mark.parametrize("command", [["pull"], ["publish"], ["sparql", "ASK {}"], ["sparql-local"]])
def test_an_unusable_timeout_is_a_usage_error_everywhere(run, corpus, value, command):
    args = (["sparql", "ASK {}"] if command == ["sparql-local"]
            else [*command, "--endpoint", "http://127.0.0.1:1"])
    result = run(corpus, *args, f"--timeout={value}")
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--timeout'" in result.stderr and "number of seconds" in result.stderr
    assert "Traceback" not in result.output


# ---- size: a huge answer, a compression bomb, a million triples --------------------------------

def test_a_3_gb_answer_stops_at_the_cap_with_a_message(run, hostile, corpus, tmp_path):
    def huge(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/n-triples")
        handler.send_header("Content-Length", str(3 * 2**30))
        handler.end_headers()
        block = node_triples("a") * 1000
        for _ in range(3 * 2**30 // len(block)):
            handler.wfile.write(block)

    server = hostile(huge)
    started = time.monotonic()
    result = run(corpus, "pull", tmp_path / "copy", "--endpoint", server.url)
    one_line_error(result, "the answer is larger than 256 MB and was cut off")
    assert time.monotonic() - started < 10
    assert not (tmp_path / "copy").exists()


def test_an_endless_answer_without_a_length_is_cut_at_the_cap():
    def endless(handler):
        handler.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/n-triples\r\n\r\n")
        block = b"x" * 65536
        while True:
            handler.wfile.write(block)

    server = Hostile(endless)
    try:
        endpoint = remote.Endpoint(server.url, timeout=20, max_bytes=8 * 2**20)
        with pytest.raises(remote.EndpointError, match="larger than 8 MB and was cut off"):
            remote.fetch_graph(endpoint)
    finally:
        server.close()


def test_a_compression_bomb_is_refused_unread(run, hostile, corpus, tmp_path):
    bomb = gzip.compress(b"\0" * (64 * 2**20), compresslevel=9)  # 64 MB in about 64 KB
    server = hostile(answer(200, {"Content-Type": "application/n-triples",
                                  "Content-Encoding": "gzip"}, bomb))
    result = run(corpus, "pull", tmp_path / "copy", "--endpoint", server.url)
    one_line_error(result, "sent a 'gzip'-encoded answer, though none was asked for; refused")
    assert server.requests[0][2].get("Accept-Encoding") == "identity"
    assert not (tmp_path / "copy").exists()


def test_a_million_triples_are_refused_before_parsing(run, hostile, corpus, tmp_path):
    lines = b"<https://example.org/s> <https://example.org/p> <https://example.org/o> .\n"
    server = hostile(answer(200, {"Content-Type": "application/n-triples"},
                            lines * (remote.MAX_TRIPLES + 1)))
    started = time.monotonic()
    result = run(corpus, "pull", tmp_path / "copy", "--endpoint", server.url)
    one_line_error(result, f"over the limit of {remote.MAX_TRIPLES} triples")
    assert time.monotonic() - started < 10
    assert not (tmp_path / "copy").exists()


# ---- content: wrong types, invalid UTF-8, ids that would escape -------------------------------

@pytest.mark.parametrize("media, body, command, message", [
    ("text/html", b"<html>login</html>", "pull", "the answer (text/html) is not N-Triples"),
    ("application/json", b'{"x": 1}', "pull", "the answer (application/json) is not N-Triples"),
    ("text/html", b"<html>login</html>", "sparql", "the answer (text/html) is not SPARQL results"),
    (remote.RESULTS_JSON, b'{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": 7}]}}',
     "sparql", "is not SPARQL results"),
    ("application/n-triples", node_triples("a") + b'<https://x/s> <https://x/p> "\xff\xfe" .\n',
     "pull", "line 3: not UTF-8 text (byte 0xff"),
    (remote.RESULTS_JSON, b'{"head": {"vars": ["x"]}, "\xff": 1}', "sparql", "is not SPARQL results"),
])
def test_wrong_content_types_and_invalid_utf8_are_answered_with_a_message(
        run, hostile, corpus, tmp_path, media, body, command, message):
    server = hostile(answer(200, {"Content-Type": media}, body))
    before = snapshot(corpus)
    args = (["pull", tmp_path / "copy"] if command == "pull" else ["sparql", "SELECT ?x {}"])
    one_line_error(run(corpus, *args, "--endpoint", server.url), message)
    assert snapshot(corpus) == before and not (tmp_path / "copy").exists()


@pytest.mark.parametrize("triples, message", [
    (node_triples("../../outside"), "is not a valid id"),
    (node_triples("x") + f'<{rdf.DEFAULT_BASE}x> <{rdf.PREFIXES["dcterms"]}identifier> '
                          '"../../../etc/cron.d/x" .\n'.encode(), "is not a valid id"),
    (node_triples("a", base="file:///etc/"), "no tg:Model, tg:Claim or tg:Evidence|not under the base"),
    (node_triples("UPPER"), "is not a valid id"),
])
def test_ids_that_would_escape_the_corpus_are_refused_and_nothing_is_written(
        run, hostile, corpus, tmp_path, triples, message):
    server = hostile(answer(200, {"Content-Type": "application/n-triples"}, triples))
    before = snapshot(corpus)
    for target in (tmp_path / "copy", corpus):
        result = run(corpus, "pull", target, "--endpoint", server.url, "--replace")
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        import re

        assert re.search(message, result.stderr), result.stderr
    assert snapshot(corpus) == before and not (tmp_path / "copy").exists()
    assert not any(p.name == "outside.md" for p in tmp_path.rglob("*"))


# ---- redirects and credentials ----------------------------------------------------------------

def test_a_redirect_to_another_host_is_not_followed_and_carries_nothing(
        run, hostile, corpus, tmp_path, monkeypatch):
    elsewhere = hostile(answer(200, {"Content-Type": "application/n-triples"}, node_triples("a")))
    location = f"http://alice:{SECRET}@127.0.0.1:{elsewhere.port}/store?\x1b]0;pwned\x07"
    server = hostile(answer(302, {"Location": location}))
    monkeypatch.setenv(remote.TOKEN_VARIABLE, TOKEN)
    monkeypatch.setenv(remote.HOST_VARIABLE, f"127.0.0.1:{server.port}")
    result = run(corpus, "pull", tmp_path / "copy", "--endpoint", server.url,
                 "--allow-http-credentials")
    one_line_error(result, "redirects are not followed", f"127.0.0.1:{elsewhere.port}/store",
                   absent=(SECRET, TOKEN, "\x1b", "\x07"))
    assert server.requests[0][2]["Authorization"] == f"Bearer {TOKEN}"
    assert elsewhere.requests == []


def test_a_password_in_the_url_is_refused_unsent_and_never_printed(run, hostile, corpus):
    server = hostile(answer(204))
    for option in ("--endpoint", "--store-url"):
        url = f"http://alice:{SECRET}@127.0.0.1:{server.port}"
        args = ["--endpoint", url] if option == "--endpoint" else ["--endpoint", server.url,
                                                                  "--store-url", url + "/store"]
        for command in (["publish"], ["pull", "--replace"]):
            result = run(corpus, *command, *args)
            one_line_error(result, f"{option} 'http://127.0.0.1:{server.port}",
                           "a user name or password in the URL is refused", absent=(SECRET, "alice"))
    result = run(corpus, "sparql", "ASK {}", "--endpoint", f"http://alice:{SECRET}@127.0.0.1:1")
    one_line_error(result, "refused", absent=(SECRET,))
    assert server.requests == []


@pytest.mark.parametrize("url", ["http://[::1", "https://[x]/a", "http://127.0.0.1:99999/q",
                                 "http://127.0.0.1:7878/\x1b[2J", "http://127.0.0.1:7878/quéry",
                                 "http://bücher.example/query"])
def test_a_malformed_url_is_a_message(run, corpus, url):
    one_line_error(run(corpus, "sparql", "ASK {}", "--endpoint", url), "--endpoint",
                   absent=("\x1b",))


def asked_with(server):
    return [headers.get("Authorization") for _, _, headers in server.requests]


def test_the_token_goes_only_to_its_host_and_only_over_https_unless_allowed(
        run, hostile, corpus, monkeypatch):
    server = hostile(answer(200, {"Content-Type": remote.RESULTS_JSON}, b'{"boolean": true}'))
    other = hostile(answer(401, {"Content-Type": "text/plain"}, b"who are you"))
    monkeypatch.setenv(remote.TOKEN_VARIABLE, TOKEN)
    # No host named: the token goes nowhere.
    assert run(corpus, "sparql", "ASK {}", "--endpoint", server.url,
               "--allow-http-credentials").exit_code == 0
    monkeypatch.setenv(remote.HOST_VARIABLE, f"127.0.0.1:{server.port}")
    # Its host, but plain http: withheld unless the flag names plain http.
    assert run(corpus, "sparql", "ASK {}", "--endpoint", server.url).exit_code == 0
    assert run(corpus, "sparql", "ASK {}", "--endpoint", server.url,
               "--allow-http-credentials").exit_code == 0
    assert asked_with(server) == [None, None, f"Bearer {TOKEN}"]
    # Another host (another port of the same address): never, and the 401 says why.
    refused = run(corpus, "sparql", "ASK {}", "--endpoint", other.url, "--allow-http-credentials")
    one_line_error(refused, "needs credentials (401", "none were sent",
                   f"{remote.HOST_VARIABLE} names '127.0.0.1:{server.port}'", absent=(TOKEN,))
    assert asked_with(other) == [None]
    one_line_error(run(corpus, "sparql", "ASK {}", "--endpoint", other.url),
                   "none were sent", absent=(TOKEN,))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_netrc_other_users_can_read_is_refused(run, hostile, corpus, tmp_path, monkeypatch, mode):
    server = hostile(answer(200, {"Content-Type": remote.RESULTS_JSON}, b'{"boolean": true}'))
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login editor password {SECRET}\n")
    netrc.chmod(mode)
    monkeypatch.setenv("NETRC", str(netrc))
    result = run(corpus, "sparql", "ASK {}", "--endpoint", server.url, "--allow-http-credentials")
    one_line_error(result, f"{netrc}: other users can read or change it (mode {mode:o})",
                   f"chmod 600 {netrc}", absent=(SECRET,))
    assert server.requests == []
    netrc.chmod(0o600)
    assert run(corpus, "sparql", "ASK {}", "--endpoint", server.url,
               "--allow-http-credentials").exit_code == 0
    assert asked_with(server) == ["Basic " + base64.b64encode(f"editor:{SECRET}".encode()).decode()]


# ---- text for terminals -------------------------------------------------------------------------

ESCAPES = "\x1b]0;pwned\x07\x1b]52;c;ZWNobyBldmls\x07\x1b[2J\r\x9b31m\u202e"


def test_a_servers_error_body_reaches_the_terminal_inert(run, hostile, corpus):
    server = hostile(answer(500, {"Content-Type": "text/plain"}, ESCAPES.encode()))
    result = run(corpus, "sparql", "ASK {}", "--endpoint", server.url)
    one_line_error(result, "the server answered 500", "\u241b]0;pwned\u2407",
                   absent=("\x1b", "\x07", "\r", "\x9b", "\u202e"))


def test_values_from_a_server_reach_the_table_and_the_csv_inert(run, hostile, corpus):
    import json

    rows = {"head": {"vars": ["x", "y"]}, "results": {"bindings": [
        {"x": {"type": "literal", "value": ESCAPES}, "y": {"type": "literal", "value": "=HYPERLINK(\"https://evil.example\")"}},
        {"x": {"type": "literal", "value": "-2+3"}, "y": {"type": "literal", "value": "-0.5"}}]}}
    server = hostile(answer(200, {"Content-Type": remote.RESULTS_JSON}, json.dumps(rows).encode()))
    for fmt in ([], ["--csv"], ["--plain"]):
        result = run(corpus, "sparql", "SELECT ?x ?y {}", "--endpoint", server.url, *fmt)
        assert result.exit_code == 0, result.output
        for control in ("\x1b", "\x07", "\r", "\x9b", "\u202e"):
            assert control not in result.stdout, (fmt, result.stdout)
    csv_out = run(corpus, "sparql", "SELECT ?x ?y {}", "--endpoint", server.url, "--csv").stdout
    assert "'=HYPERLINK" in csv_out and "'-2+3" in csv_out and ",-0.5" in csv_out


# ---- imports: a size cap through the one guarded read -------------------------------------------

def test_an_import_is_capped_and_never_reads_a_device_or_a_fifo(run, corpus, tmp_path):
    before = snapshot(corpus)
    big = tmp_path / "big.json"
    with open(big, "wb") as sparse:  # 200 MB that take no disk
        sparse.truncate(200 * 2**20)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    for path, message in ((tmp_path / "zero.json", "a character device, not a regular file"),
                          ("/dev/zero", "a character device, not a regular file"),
                          (fifo, "a FIFO (named pipe), not a regular file"),
                          (big, f"{200 * 2**20} bytes, over the 100 MB limit")):
        started = time.monotonic()
        result = run(corpus, "import", path, "--format", "node-link")
        one_line_error(result, f"{path}: {message}")
        assert time.monotonic() - started < 5
    flood = run(corpus, "import", "-", "--format", "node-link", input=b" " * (100 * 2**20 + 1))
    one_line_error(flood, "-: standard input holds more than 100 MB, the limit of an import")
    assert snapshot(corpus) == before


# ---- the page: crafted links and the perspective they download ---------------------------------

def crafted_fragments(graph):
    """``#whatif=`` fragments an attacker could send, for the bundled map: prototype keys,
    numbers at the ends of [0, 1] and beyond, strings for numbers, markup, broken encodings and
    a fragment of a megabyte."""
    import json
    import urllib.parse

    claim = sorted(n for n, k in graph.nodes(data="kind") if k == "claim")[0]
    source, target = sorted(graph.edges())[0]

    def link(data):
        return "#whatif=" + urllib.parse.quote(json.dumps(data))

    return [
        link({"credences": {"__proto__": 0.5, "constructor": 0.5, "toString": 0.1, claim: 0.25}}),
        link({"credences": {claim: 5e-324}, "weights": [[source, target, 1e-9]]}),
        link({"credences": {claim: 1e-7}, "weights": [[source, target, 1]]}),
        link({"credences": {claim: "0.5", "x\ncredences:": 0.1}, "weights": [[source, target, "1"]]}),
        link({"credences": {claim: 1.5}, "weights": [[source, target, -0.5], [source, "__proto__", 0.5]]}),
        link({"perspective": "__proto__", "semantics": "constructor", "asOf": "toString"}),
        "#whatif=%E0%A4%A",
        "#whatif=</script><script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>",
        link({"credences": {f"n{i}": 0.5 for i in range(10_000)}}),
    ]


def test_a_crafted_link_runs_nothing_sends_nothing_and_downloads_what_takeoff_reads_alike(
        browser, run, tmp_path):
    import json
    import shutil


    path, corpus = bundled_page_path(tmp_path)
    root = tmp_path / "claims"
    shutil.copytree(BUNDLED, root)
    target = root / "perspectives" / "from-link.yaml"
    for fragment in crafted_fragments(corpus.graph):
        started = time.monotonic()
        page = Page(browser, path.absolute().as_uri() + fragment, viewport=(1280, 720))
        try:
            assert time.monotonic() - started < 30
            shown = page_strengths(page)
            semantics = page.js("() => takeoff.whatif.semantics")
            yaml_text = page.js("() => takeoff.perspectiveYaml()")
            assert page.js(INJECTED)["pwned"] is None
            page.assert_clean()
        finally:
            page.close()
        target.write_text(yaml_text, encoding="utf-8")
        checked = run(root, "check", "--json")
        assert checked.exit_code == 0 and json.loads(checked.stdout)["ok"], (fragment[:80], yaml_text)
        took = cli_score(run, root, "--perspective", "from-link", "--semantics", semantics)
        worst = max(abs(shown[k] - took[k]) for k in took)
        assert set(shown) == set(took) and worst <= 1e-9, (fragment[:80], worst)
