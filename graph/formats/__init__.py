"""Interchange with argument-mapping tools and drawing programs, one module per format.

- ``common``: the error, the id rule, :class:`~graph.formats.common.Builder` (every reader
  checks nodes and edges through it);
- ``nodelink``: networkx node-link JSON, without loss;
- ``argdown_text``, ``argdown_read``, ``argdown_write``: Argdown (its text layer, reading,
  writing);
- ``aif``: AIF JSON and xAIF, both ways;
- ``kialo``: Kialo's text export, both ways;
- ``tgf``: ICCMA's TGF and APX (the attack graph, export only);
- ``drawings``: GraphML, Mermaid and DOT (export only).

Every function is pure: graph in, text out, or text in, graph out. The registry that names
them for ``takeoff export`` and ``takeoff import`` is :mod:`graph.formats.interchange`; this package may
import :mod:`graph.core.model`, :mod:`graph.core.limits` and :mod:`graph.core.uncertainty`, nothing above them.
"""
from graph.formats.aif import export_aif, export_xaif, parse_aif, to_aif, to_xaif
from graph.formats.argdown_read import parse_argdown
from graph.formats.argdown_write import export_argdown
from graph.formats.common import FormatError, slugify
from graph.formats.drawings import export_dot, export_graphml, export_mermaid
from graph.formats.kialo import export_kialo, parse_kialo
from graph.formats.nodelink import import_node_link
from graph.formats.tgf import export_apx, export_tgf

__all__ = ["FormatError", "export_aif", "export_apx", "export_argdown", "export_dot",
           "export_graphml", "export_kialo", "export_mermaid", "export_tgf", "export_xaif",
           "import_node_link", "parse_aif", "parse_argdown", "parse_kialo", "slugify", "to_aif",
           "to_xaif"]
