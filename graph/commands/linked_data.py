"""The corpus as linked data: sparql (local or on a server), publish, pull, serve
(graph.formats.rdf, graph.page.endpoint)."""
import io
import re
from pathlib import Path

import click

from graph.commands.common import (
    as_of_option, base_option, command, echo_data, emit_json, json_option, load_corpus,
    perspective_option, print_table, say, scoped_corpus, semantics_option,
)
from graph.core.model import TakeoffError
from graph.page.tables import Col, csv_cell


def _score_for(graph, with_strengths, semantics):
    """The strengths to add to the RDF, if --with-strengths asked for them."""
    if not with_strengths:
        return None
    from graph.solving.propagation import score_graph

    result = score_graph(graph, semantics)
    if not result.converged:
        click.echo(f"warning: {result.message}", err=True)
    return result


class Seconds(click.ParamType):
    """A timeout: a finite number of seconds above 0, at most a day (graph.formats.rdf.check_timeout);
    anything else (inf, nan, 1e308, 0, -1) is a usage error naming the option."""

    name = "seconds"

    def convert(self, value, param, ctx):
        if ctx is not None and ctx.resilient_parsing:
            return value  # shell completion: nothing is run, and graph.formats.rdf is slow to import
        from graph.formats.rdf import check_timeout

        try:
            return check_timeout(value)
        except TakeoffError as exc:
            self.fail(str(exc), param, ctx)


def timeout_option(help_text):
    return click.option("--timeout", type=Seconds(), default=30.0, show_default=True,
                        metavar="SECONDS", help=help_text)


def query_options(f):
    """--timeout and --allow-service: the query policy of the local store and of servers."""
    f = click.option("--allow-service", "allow_service", multiple=True, metavar="IRI",
                     help="Let a SERVICE clause call this endpoint (repeatable); any other "
                          "SERVICE is refused, since it would send corpus values there.")(f)
    return timeout_option("Stop the query after this many seconds.")(f)


def http_credentials_option(f):
    return click.option("--allow-http-credentials", "http_credentials", is_flag=True,
                        help="Send credentials over plain http:// too (by default only over "
                             "https://, where nobody on the way can read them).")(f)


@command()
@click.argument("query", required=False)
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and exit.")
@click.option("--csv", "as_csv", is_flag=True,
              help="Print CSV (SELECT; ASK as one answer column; graphs as s,p,o rows).")
@json_option
@base_option
@click.option("--with-strengths", is_flag=True,
              help="Add tg:strength to every node (implied by a query that names tg:strength).")
@semantics_option
@click.option("--store", type=click.Choice(["auto", "memory", "oxigraph"]), default="auto",
              show_default=True, help="rdflib's in-memory store or Oxigraph (auto: by size).")
@query_options
@as_of_option
@perspective_option
@click.option("--endpoint", metavar="URL",
              help="Query this SPARQL server instead of the local corpus (see takeoff publish).")
@click.option("--graph", "graph_iri", metavar="IRI",
              help="With --endpoint: the published graph to query ('default': the server's "
                   "default graph).")
@http_credentials_option
@click.pass_context
def sparql(ctx, query, list_queries, as_csv, as_json, base, with_strengths, semantics, store,
           timeout, allow_service, as_of, perspective, endpoint, graph_iri, http_credentials):
    """Run a SPARQL query on the corpus as RDF.

    QUERY is SPARQL text, @FILE.rq, or the name of a shipped query (see --list). The prefixes
    tg, aif, schema, dcterms, prov, xsd, rdfs, rdf and node (the base) are bound:

        takeoff sparql 'SELECT ?e WHERE { ?e tg:supports ?m . ?m a tg:Model }'

    Every SPARQL 1.1 query form runs (SELECT, ASK, CONSTRUCT, DESCRIBE); updates are refused.
    """
    from graph.formats.rdf import DEFAULT_BASE, named_queries, resolve_query, run_query, to_rdf

    if list_queries:
        named = named_queries()
        _print_rows(["name", "description"], [[n, d] for n, (d, _) in named.items()],
                    json_data=[{"name": n, "description": d} for n, (d, _) in named.items()]
                    if as_json else None, as_csv=as_csv)
        return
    if not query:
        raise click.UsageError("give a QUERY (text, @file.rq or a name from --list)")
    text = resolve_query(query)
    base = base or DEFAULT_BASE
    if endpoint:
        local_only = {"--with-strengths": with_strengths, "--as-of": as_of,
                      "--perspective": perspective, "--store": store != "auto"}
        for option, given in local_only.items():
            if given:
                raise click.UsageError(f"{option} works on the local corpus, not with --endpoint")
        from graph.page import endpoint as remote

        result = remote.query(remote.Endpoint(endpoint, timeout=timeout,
                                              http_credentials=http_credentials), text,
                              graph_iri or remote.DEFAULT_GRAPH, base=base,
                              allow_service=allow_service)
        _print_result(result, base, as_json=as_json, as_csv=as_csv)
        return
    if graph_iri:
        raise click.UsageError("--graph names a graph on a server: give --endpoint too")
    graph = scoped_corpus(ctx, as_of=as_of, perspective=perspective).graph
    with_strengths = with_strengths or _asks_for_strengths(text)
    rdf_graph = to_rdf(graph, base, score=_score_for(graph, with_strengths, semantics), store=store)
    result = run_query(rdf_graph, text, timeout=timeout, allow_service=allow_service)
    _print_result(result, base, as_json=as_json, as_csv=as_csv)


def _asks_for_strengths(text):
    """Whether a query names tg:strength (prefixed or as a full IRI): then the strengths are
    computed as if --with-strengths were given, rather than the query matching no row."""
    from graph.formats.rdf import VOCAB

    return re.search(rf"\btg:strength\b|<{re.escape(VOCAB)}strength>", text) is not None


def _print_result(result, base, *, as_json, as_csv):
    """A query answer in the chosen format: SELECT as a table, ASK as true/false, a graph as
    Turtle; --json and --csv for all three."""
    from graph.formats.rdf import new_graph

    names = new_graph(base, "memory").namespace_manager
    if as_json:
        emit_json(result.to_json())
    elif result.kind == "SELECT":
        shown = [[_term_text(names, t, compact=True) for t in row] for row in result.rows]
        _print_rows(result.variables, shown, as_csv=as_csv)
        if not as_csv:
            say(f"{len(result.rows)} row(s)")
    elif result.kind == "ASK":
        answer = "true" if result.answer else "false"
        click.echo(f"answer\n{answer}" if as_csv else answer)
    elif as_csv:
        _print_rows(["subject", "predicate", "object"],
                    sorted([_term_text(names, t, compact=True) for t in triple]
                           for triple in result.graph), as_csv=True)
    else:
        out = new_graph(base, "memory")
        out += result.graph
        echo_data(out.serialize(format="turtle"))


def _term_text(names, term, compact):
    """A result cell: IRIs as prefixed names (``node:id``) when ``compact``, literals as text,
    blank nodes as ``_:id``."""
    from rdflib import BNode, URIRef

    if term is None:
        return ""
    if isinstance(term, BNode):
        return term.n3()
    if compact and isinstance(term, URIRef):
        try:
            return names.normalizeUri(term)
        except Exception:  # an IRI rdflib cannot split stays whole
            return str(term)
    return str(term)


def _print_rows(columns, rows, *, json_data=None, as_csv=False):
    """``json_data`` as JSON if given, else the rows as CSV or a rich table."""
    if json_data is not None:
        emit_json(json_data)
    elif as_csv:
        import csv

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(map(csv_cell, columns))
        writer.writerows([csv_cell(cell) for cell in row] for row in rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        print_table([Col(c, "ids") for c in columns], rows)


def endpoint_options(f):
    f = http_credentials_option(f)
    f = timeout_option("Give up on the server after this many seconds.")(f)
    f = click.option("--store-url", metavar="URL",
                     help="The server's Graph Store service (default: /store beside the query "
                          "service, as Oxigraph lays it out).")(f)
    f = click.option("--graph", "graph_iri", metavar="IRI", default=None,
                     help="The named graph (default https://w3id.org/takeoff-graph/graph/corpus; "
                          "'default': the server's default graph).")(f)
    return click.option("--endpoint", required=True, metavar="URL",
                        help="The server's SPARQL query service (http://HOST:PORT/query) or its "
                             "base URL. Credentials: $TAKEOFF_ENDPOINT_TOKEN, or "
                             "$TAKEOFF_ENDPOINT_USER and $TAKEOFF_ENDPOINT_PASSWORD, sent only "
                             "to $TAKEOFF_ENDPOINT_HOST; or netrc.")(f)


@command()
@endpoint_options
@base_option
@click.option("--with-strengths", is_flag=True,
              help="Publish each node's strength too, with the semantics that produced it.")
@semantics_option
@click.option("--force", is_flag=True, help="Replace the graph even if it holds other data.")
@json_option
@click.pass_context
def publish(ctx, endpoint, graph_iri, store_url, timeout, http_credentials, base, with_strengths,
            semantics, force, as_json):
    """Put the corpus on a SPARQL server as one named graph, replacing its previous version.

    The first version is one Graph Store PUT; later ones send one SPARQL Update of what
    changed, so a reader sees the old map or the new one, never half (SPARQL 1.1, any
    conforming server):

        takeoff publish --endpoint http://127.0.0.1:7878 --with-strengths
    """
    from graph.page import endpoint as remote
    from graph.formats.rdf import DEFAULT_BASE

    corpus = load_corpus(ctx)
    score = _score_for(corpus.graph, with_strengths, semantics)
    info = remote.publish(corpus.graph, remote.Endpoint(endpoint, store_url, timeout,
                                                        http_credentials=http_credentials),
                          graph_iri or remote.DEFAULT_GRAPH, base=base or DEFAULT_BASE,
                          score=score, force=force)
    if as_json:
        emit_json(info)
        return
    strengths = f", strengths under {info['semantics']}" if info["semantics"] else ""
    verb = "created" if info["created"] else "replaced"
    click.echo(f"published {info['triples']} triples ({info['nodes']} nodes, {info['edges']} "
               f"edges{strengths}; {info['bytes']} bytes of N-Triples) to {info['store']}: "
               f"{verb} graph <{info['graph']}>")


@command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@endpoint_options
@base_option
@click.option("--replace", is_flag=True,
              help="Overwrite local nodes that differ from the published graph, and delete "
                   "those not in it.")
@json_option
@click.pass_context
def pull(ctx, folder, endpoint, graph_iri, store_url, timeout, http_credentials, base, replace,
         as_json):
    """Rebuild a corpus folder (FOLDER, default: the corpus) from a published graph.

    Only nodes that differ are written, all in one change; a folder whose nodes differ from
    the graph is left alone unless --replace.
    """
    from graph.page import endpoint as remote

    root = folder or ctx.obj.corpus_path
    graph, summary = remote.pull(remote.Endpoint(endpoint, store_url, timeout,
                                                 http_credentials=http_credentials),
                                 graph_iri or remote.DEFAULT_GRAPH, root, base=base,
                                 replace=replace)
    if as_json:
        emit_json({"folder": str(root), **summary})
        return
    click.echo(f"pulled {graph.number_of_nodes()} nodes and {graph.number_of_edges()} edges into "
               f"{root}: {len(summary['added'])} added, {len(summary['changed'])} changed, "
               f"{len(summary['removed'])} removed, {summary['unchanged']} unchanged")


def _interrupt(*_):
    raise KeyboardInterrupt


@command()
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True,
              help="The port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="The address to listen on: loopback, so only this machine's users can reach "
                   "the server, unless another is named (0.0.0.0: every network).")
@click.option("--location", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the server's store in this folder (default: a temporary folder, removed "
                   "when the server stops).")
@click.option("--writable", is_flag=True,
              help="Accept SPARQL updates and Graph Store writes, from anyone who can reach the "
                   "port (there is no authentication); by default the store is read-only.")
@base_option
@click.option("--with-strengths", is_flag=True, help="Load each node's strength too.")
@semantics_option
@click.pass_context
def serve(ctx, port, host, location, writable, base, with_strengths, semantics):
    """Serve the corpus from a local SPARQL server (Oxigraph) until Ctrl-C.

    For tools that speak SPARQL (YASGUI, Protege, a notebook): queries go to
    http://127.0.0.1:PORT/query and see the corpus without naming its graph. The corpus is
    loaded into the server's store before it starts, read-only unless --writable.
    """
    from graph.page import endpoint as remote
    from graph.formats.rdf import DEFAULT_BASE

    import signal

    corpus = load_corpus(ctx)
    score = _score_for(corpus.graph, with_strengths, semantics)
    server = remote.serve_corpus(corpus.graph, port=port, host=host, location=location,
                                 writable=writable, base=base or DEFAULT_BASE, score=score)
    # `kill` stops the server too, as Ctrl-C does; the caller's handler is back afterwards
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        info, url = server.info, server.url
        reach = ("only this machine's users can reach it" if host in ("127.0.0.1", "::1", "localhost")
                 else f"anyone who can reach {host} can query it")
        who = ("writable: anyone who can reach it can change it (no authentication)" if writable
               else "read-only: nobody can change it (pass --writable to accept updates)")
        click.echo(f"serving {info['nodes']} nodes ({info['triples']} triples) as graph "
                   f"<{info['graph']}>\n  SPARQL query: {url}/query\n  Graph Store: {url}/store\n"
                   f"  {reach}; {who}\nCtrl-C stops the server.", err=True)
        server.process.wait()
        raise TakeoffError(f"the oxigraph server on {url} stopped (exit {server.process.returncode})")
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
