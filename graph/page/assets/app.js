/* takeoff-graph page script.
 * Reads the JSON blobs written by graph/page/html.py and drives vis-network. Every corpus string is
 * put into the DOM with textContent; the only markup inserted is an annotation rendered by
 * markdown-it with raw HTML off and only http(s)/mailto links (see `md` below).
 * Globals `network`, `nodes`, `edges` (as in pyvis pages) and `takeoff` are for tests and users;
 * `takeoff.score({credences, weights, semantics, asOf})` re-scores the map with the page's solver
 * (graph/page/assets/solver.js, the same method as graph/solving/propagation.py): see docs/what-if.md.
 */
"use strict";
(function () {
  function readJSON(id) { return JSON.parse(document.getElementById(id).textContent); }
  // Milestones in ms since navigation start, read by bench/bench_html.py.
  var timings = window.takeoffTimings = { script: performance.now() };

  var page = readJSON("takeoff-page");
  var details = page.details;
  var state = { kinds: new Set(Object.keys(page.kinds)), tags: new Set(), focus: null, depth: 1,
                hidden: new Map(), selected: null, asOf: null, asOfDay: null, allModels: false,
                future: new Set() };
  var nodeItems = readJSON("takeoff-nodes"), edgeItems = readJSON("takeoff-edges");

  /* ---------- the what-if model: the corpus as written, overrides on it, and the solver ---------- */
  var ids = nodeItems.map(function (n) { return n.id; });
  var index = new Map(ids.map(function (id, i) { return [id, i]; }));
  var edgeById = new Map(edgeItems.map(function (e, i) { return [e.id, i]; }));
  var plan = takeoffSolver.build(ids.length,
    Int32Array.from(edgeItems, function (e) { return index.get(e.from); }),
    Int32Array.from(edgeItems, function (e) { return index.get(e.to); }),
    Uint8Array.from(edgeItems, function (e) { return e.relation === "undermines" ? 1 : 0; }));
  var writtenCredence = Float64Array.from(ids, function (id) {
    var c = details[id].credence;
    return typeof c === "number" ? c : page.defaultCredence;  // graph.core.model.DEFAULT_CREDENCE
  });
  var writtenWeight = Float64Array.from(edgeItems, function (e) { return e.weight; });
  // Perspectives (and so the what-if) weigh all parallel edges of a (source, target) pair at once.
  function pairKey(source, target) { return JSON.stringify([source, target]); }
  var pairs = new Map();
  edgeItems.forEach(function (e, i) {
    var key = pairKey(e.from, e.to);
    if (!pairs.has(key)) pairs.set(key, []);
    pairs.get(key).push(i);
  });
  var perspectives = new Map((page.perspectives || []).map(function (p) { return [p.name, p]; }));
  var whatif = { semantics: page.semantics || "qe", perspective: null, changes: new Map() };
  var current = null, lastSolve = null, written = new Map();
  var shownSize = new Float64Array(ids.length), shownTip = new Array(ids.length);
  var shownWidth = new Float64Array(edgeItems.length);

  function changeKey(change) {
    return change.kind === "credence" ? JSON.stringify(["credence", change.id])
      : JSON.stringify(["weight", change.source, change.target]);
  }
  // The overrides in force: the selected perspective's, then the changes made in the page.
  function overrides() {
    var credences = new Map(), weights = new Map();
    var p = whatif.perspective !== null ? perspectives.get(whatif.perspective) : null;
    if (p) {
      Object.keys(p.credences).forEach(function (id) { credences.set(id, p.credences[id]); });
      p.weights.forEach(function (w) { weights.set(pairKey(w[0], w[1]), w[2]); });
    }
    whatif.changes.forEach(function (c) {
      if (c.kind === "credence") credences.set(c.id, c.value); else weights.set(pairKey(c.source, c.target), c.value);
    });
    return { credences: credences, weights: weights };
  }
  function isLater(id, day) { return takeoffSolver.isLater(details[id].date, day); }
  // Credence and weight vectors for the solver; nodes dated after `day` weigh 0 on every edge,
  // which under every semantics is the same as leaving them out (as graph/solving/timeline.py does).
  function vectors(ov, day) {
    var base = Float64Array.from(writtenCredence), weight = Float64Array.from(writtenWeight);
    ov.credences.forEach(function (x, id) { if (index.has(id)) base[index.get(id)] = x; });
    ov.weights.forEach(function (w, key) { (pairs.get(key) || []).forEach(function (e) { weight[e] = w; }); });
    var shown = Float64Array.from(weight);
    if (day !== null) {
      edgeItems.forEach(function (e, i) { if (isLater(e.from, day) || isLater(e.to, day)) weight[i] = 0; });
    }
    return { base: base, weight: weight, shown: shown };
  }
  function writtenStrengths() {
    var key = whatif.semantics + "|" + state.asOfDay;
    if (!written.has(key)) {
      var v = vectors({ credences: new Map(), weights: new Map() }, state.asOfDay);
      written.set(key, takeoffSolver.solve(plan, whatif.semantics, v.base, v.weight).s);
    }
    return written.get(key);
  }
  function effectiveCredence(id) { return lastSolve ? lastSolve.base[index.get(id)] : writtenCredence[index.get(id)]; }
  function effectiveWeight(eid) { var i = edgeById.get(eid); return lastSolve ? lastSolve.shown[i] : writtenWeight[i]; }

  /**
   * The public scoring API (docs/what-if.md): strengths of every node with these overrides.
   * spec.credences: {id: x}; spec.weights: [{source, target, weight}] (all parallel edges of the
   * pair, as in a perspective file); spec.semantics: "qe" | "dfquad" | "eb" (default: the page's);
   * spec.asOf: "YYYY-MM-DD", or "YYYY-MM" for the month's last day, as --as-of (nodes dated
   * later left out: their strength is null).
   */
  function score(spec) {
    spec = spec || {};
    var ov = { credences: new Map(), weights: new Map() };
    Object.keys(spec.credences || {}).forEach(function (id) {
      if (!index.has(id)) throw new Error("no node " + JSON.stringify(id));
      ov.credences.set(id, checkUnit(spec.credences[id], "credence of " + id));
    });
    (spec.weights || []).forEach(function (w) {
      var key = pairKey(w.source, w.target);
      if (!pairs.has(key)) throw new Error("no edge " + JSON.stringify(w.source) + " -> " + JSON.stringify(w.target));
      ov.weights.set(key, checkUnit(w.weight, "weight of " + w.source + " -> " + w.target));
    });
    var day = spec.asOf === undefined || spec.asOf === null ? null : asOfDay(spec.asOf);
    var v = vectors(ov, day);
    var r = takeoffSolver.solve(plan, spec.semantics || whatif.semantics, v.base, v.weight);
    var strengths = {};
    ids.forEach(function (id, i) { strengths[id] = isLater(id, day) ? null : r.s[i]; });
    return { semantics: spec.semantics || whatif.semantics, strengths: strengths, converged: r.converged,
             residual: r.residual, iterations: r.iterations, methods: r.methods };
  }
  // An as-of date read as `--as-of` reads it (graph.core.model.parse_date): "YYYY-MM-DD", or
  // "YYYY-MM" meaning the month's last day; anything else throws (a string compare would not).
  function asOfDay(text) {
    var m = typeof text === "string" && /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text.trim());
    var last = m && +m[1] >= 1 && +m[2] >= 1 && +m[2] <= 12 ? takeoffSolver.countsFrom(m[1] + "-" + m[2]) : null;
    if (!last || (m[3] !== undefined && (+m[3] < 1 || m[3] > last.slice(8)))) {
      throw new Error("asOf " + JSON.stringify(text) + " is not an ISO date (YYYY-MM-DD, or YYYY-MM for a month)");
    }
    return m[3] === undefined ? last : m[0];
  }
  function checkUnit(x, what) {
    if (typeof x !== "number" || !(x >= 0 && x <= 1)) throw new Error(what + " must be a number in [0, 1]");
    return x;
  }

  function solveCurrent() {
    var v = vectors(overrides(), state.asOfDay);
    var r = takeoffSolver.solve(plan, whatif.semantics, v.base, v.weight);
    r.base = v.base; r.shown = v.shown;
    lastSolve = r;
    current = r.s;
  }

  // Tooltips are plain strings, which vis-network shows as text (never as markup).
  function edgeTip(e, weight) {
    return e.relation + " (weight " + fmt(weight) + ")\n" + nodeTitle(e.from) + " → " + nodeTitle(e.to) +
      (e.note ? "\n" + e.note : "") + (e.by ? "\n" + sourceText(e) : "");
  }
  // Whose argument an edge is (its `from`, docs/evidence.md), with the source's words if quoted.
  function sourceText(e) {
    var known = (page.sources || {})[e.by];
    return "from " + (known && known.title ? known.title + " (" + e.by + ")" : e.by) +
      (e.quote ? ": “" + e.quote + "”" : "");
  }
  solveCurrentFromLink();
  nodeItems.forEach(function (n, i) {
    n.size = shownSize[i] = sizeFor(n.group, current[i]);
    n.title = shownTip[i] = tooltip(n.id);
  });
  edgeItems.forEach(function (e, i) {
    var w = lastSolve.shown[i];
    e.width = shownWidth[i] = widthFor(w);
    e.title = edgeTip(e, w);
  });
  // Labels are placed by placeLabels once the map is drawn, at a legible size on screen; none
  // is measured before (5,000 labels measured up front would double a large map's first draw).
  var labels = {};
  nodeItems.forEach(function (n) { labels[n.id] = n.label; delete n.label; });
  var baseColor = {};
  edgeItems.forEach(function (e) { baseColor[e.id] = e.color; });
  var nodes = new vis.DataSet(nodeItems);
  var edges = new vis.DataSet(edgeItems);
  var options = readJSON("takeoff-options");
  timings.parsed = performance.now();
  var SAFE_URL = /^(https?:\/\/[^\/?#\s]|mailto:\S)/i;

  // Annotations: CommonMark with raw HTML shown as text, no images (they would be fetched) and
  // links only to http(s) and mailto URLs; any other link stays plain text.
  var md = window.markdownit("commonmark", { html: false, linkify: false, typographer: false });
  md.disable("image");
  // Cross-links to other nodes: [text](#id) and the wiki habit [[id]] / [[id|text]] (see
  // graph/core/links.py); they select the node in this page and never leave it.
  var NODE_LINK = /^#[a-z0-9]+(-[a-z0-9]+)*$/;
  md.validateLink = function (url) {
    return NODE_LINK.test(url) || (SAFE_URL.test(url) && !/[\u0000-\u0020\u007f]/.test(url));
  };
  md.inline.ruler.before("link", "wikilink", function (state, silent) {
    var src = state.src, pos = state.pos;
    if (src.charCodeAt(pos) !== 0x5B || src.charCodeAt(pos + 1) !== 0x5B) return false;
    var end = src.indexOf("]]", pos + 2);
    if (end < 0) return false;
    var inner = src.slice(pos + 2, end), bar = inner.indexOf("|");
    var id = (bar < 0 ? inner : inner.slice(0, bar)).trim();
    var text = bar < 0 ? id : inner.slice(bar + 1).trim() || id;
    if (!NODE_LINK.test("#" + id) || /[\[\]\n]/.test(inner)) return false;
    if (!silent) {
      state.push("link_open", "a", 1).attrs = [["href", "#" + id]];
      state.push("text", "", 0).content = text;
      state.push("link_close", "a", -1);
    }
    state.pos = end + 2;
    return true;
  });
  var renderToken = md.renderer.renderToken.bind(md.renderer);
  md.renderer.rules.link_open = function (tokens, idx, opts) {
    var href = tokens[idx].attrGet("href") || "";
    if (NODE_LINK.test(href)) {
      tokens[idx].attrSet("data-node", href.slice(1));
      tokens[idx].attrSet("class", "node-link");
    } else {
      tokens[idx].attrSet("target", "_blank");
      tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
    }
    return renderToken(tokens, idx, opts);
  };
  function renderMarkdown(text) { return md.render(text || ""); }

  // Adjacency by edge id, for the panel and the neighbourhood focus.
  var outEdges = {}, inEdges = {};
  nodes.getIds().forEach(function (id) { outEdges[id] = []; inEdges[id] = []; });
  edges.forEach(function (e) { outEdges[e.from].push(e.id); inEdges[e.to].push(e.id); });

  /* ---------- small DOM helpers (text only) ---------- */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function $(id) { return document.getElementById(id); }
  function fmt(x) { return x === null || x === undefined ? "—" : Number(x).toFixed(2); }
  function kindLabel(kind) { return (page.kinds[kind] || { label: kind }).label; }
  function nodeTitle(id) { return details[id] ? details[id].title : String(id); }
  function tooltip(id) {
    var d = details[id];
    return d.title + "\n" + kindLabel(d.kind) + " · " + id + "\ncredence " + fmt(effectiveCredence(id)) +
      " · strength " + fmt(strengthOf(id)) + (d.date ? " · " + d.date : "");
  }
  // null while the date slider stands before the node's date (it is not in the corpus yet).
  function strengthOf(id) { return state.future.has(id) ? null : current[index.get(id)]; }
  function sizeFor(kind, s) {
    var spec = page.sizes[kind] || page.sizes.claim;
    return Math.round((spec[0] + spec[1] * Math.max(0, Math.min(1, s === null || s === undefined ? 0 : s))) * 10) / 10;
  }
  function widthFor(weight) { return Math.round((1 + 4 * weight) * 100) / 100; }

  /* ---------- the network ---------- */
  var container = $("network");
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, options);
  window.network = network; window.nodes = nodes; window.edges = edges;
  timings.network = performance.now();

  /* ---------- drawing a large map: what is in view, simplified when zoomed out ---------- */
  // vis-network draws every item on its own (a save/restore, shadow, border and dash pattern
  // each) and every edge even off screen: a 5,000-node map in full view took about half a second
  // a frame, most of it the undermining edges' dashes, whose canvas-unit pattern shrinks to
  // sub-pixel specks that Chromium's rasteriser draws one by one. On a large map, items out of
  // view are skipped, and below DETAIL_SCALE (no arrowheads, few labels) the map is drawn as an
  // overview, items of one style in one path: nodes without a label, selection or hover filled
  // per kind and colour (the border's colour, then the background inside it: what
  // vis-network's border of 1.5 px on screen looks like; a square when under 1.5 px), edges
  // stroked per colour, fade and width with dashes of OVERVIEW_DASH screen px. Labelled,
  // selected and hovered items are vis-network's own, drawn over them.
  var DETAIL_SCALE = 0.45, OVERVIEW_DASH = [6, 4], TINY_PX = 1.5;
  var renderer = network.renderer, visDrawNodes = renderer._drawNodes;
  // The edges' picture (below) is made again when an edge changes (every change goes through
  // the DataSet) or a node is dragged.
  var edgesVersion = 0;
  edges.on("*", function () { edgesVersion++; });
  network.on("dragEnd", function (params) {
    if (!params.nodes.length) return;
    edgesVersion++;
    if (unplaced) params.nodes.forEach(function (id) { unplaced.add(id); });
  });
  function viewBox() {  // the view in canvas units, with a margin of 20 px (as vis-network's)
    var canvas = network.canvas.frame.canvas, m = 20;
    var a = network.DOMtoCanvas({ x: -m, y: -m }), b = network.DOMtoCanvas({ x: canvas.clientWidth + m, y: canvas.clientHeight + m });
    return { left: a.x, top: a.y, right: b.x, bottom: b.y };
  }
  function edgeInView(e, v) {
    var f = e.from, t = e.to;
    return !(Math.max(f.x, t.x) < v.left || Math.min(f.x, t.x) > v.right || Math.max(f.y, t.y) < v.top || Math.min(f.y, t.y) > v.bottom);
  }
  function edgesInView(each) {
    var v = viewBox(), all = network.body.edges, list = network.body.edgeIndices;
    for (var i = 0; i < list.length; i++) {
      var e = all[list[i]];
      if (e.connected === true && edgeInView(e, v)) each(e);
    }
  }
  function overview() { return network.getScale() < DETAIL_SCALE; }
  function opacityOf(o) { return o === undefined ? 1 : o; }
  // The style an item is drawn with, from two keys (a map in a map: no key string, array or
  // closure is made per item and frame), made by `make` the first time.
  function styleOf(styles, first, second, make) {
    var inner = styles.get(first);
    if (!inner) styles.set(first, inner = new Map());
    var style = inner.get(second);
    if (!style) inner.set(second, style = make());
    return style;
  }
  function allStyles(styles) {
    var out = [];
    styles.forEach(function (inner) { inner.forEach(function (style) { out.push(style); }); });
    return out;
  }
  function traceShape(path, shape, x, y, r) {  // vis-network's shapes (graph/page/html.py KIND_STYLE)
    if (shape === "dot") { path.moveTo(x + r, y); path.arc(x, y, r, 0, 2 * Math.PI); }
    else if (shape === "diamond") { path.moveTo(x, y + r); path.lineTo(x + r, y); path.lineTo(x, y - r); path.lineTo(x - r, y); path.closePath(); }
    else if (shape === "hexagon") {
      path.moveTo(x + r, y);
      for (var k = 1; k < 6; k++) path.lineTo(x + r * Math.cos(Math.PI * k / 3), y + r * Math.sin(Math.PI * k / 3));
      path.closePath();
    } else path.rect(x - r, y - r, 2 * r, 2 * r);
  }
  // The box vis-network's hit test reads, as its drawing of the node leaves it: made again for
  // the nodes a quiet update changed or a drag moved (all of them at first).
  var unplaced = null;
  function place(node, ctx) {
    var shape = node.shape;
    shape.resize(ctx);
    shape.left = node.x - shape.width / 2;
    shape.top = node.y - shape.height / 2;
    node.updateBoundingBox(ctx);
  }
  function drawOverviewNodes(ctx) {
    var scale = network.getScale(), v = viewBox(), all = network.body.nodes, list = network.body.nodeIndices;
    var half = network.nodesHandler.options.borderWidth / scale / 2, tiny = TINY_PX / scale;
    if (unplaced === null) list.forEach(function (id) { place(all[id], ctx); });
    else unplaced.forEach(function (id) { if (all[id]) place(all[id], ctx); });
    unplaced = new Set();
    var styles = new Map();  // by kind, then opacity
    for (var k = 0; k < list.length; k++) {
      var n = all[list[k]], o = n.options;
      if (n.selected || n.hover || labelled.has(n.id) || !n.isBoundingBoxOverlappingWith(v)) continue;
      var style = styleOf(styles, o.group, opacityOf(o.opacity), newNodeStyle);
      if (!style.o) style.o = o;
      var size = o.size, shape = size < tiny ? "square" : o.shape, edge = Math.min(size, half);
      traceShape(style.border, shape, n.x, n.y, size + edge);
      if (size > edge) traceShape(style.inside, shape, n.x, n.y, size - edge);
    }
    ctx.save();
    allStyles(styles).sort(function (a, b) { return opacityOf(a.o.opacity) - opacityOf(b.o.opacity); }).forEach(function (style) {
      ctx.globalAlpha = opacityOf(style.o.opacity);  // faded ones first
      ctx.fillStyle = style.o.color.border;
      ctx.fill(style.border);
      ctx.fillStyle = style.o.color.background;
      ctx.fill(style.inside);
    });
    ctx.restore();
    var own = [], last = [], external = [];
    for (var j = 0; j < list.length; j++) {
      var node = all[list[j]];
      if (node.selected || node.hover) last.push(node);
      else if (labelled.has(node.id) && node.isBoundingBoxOverlappingWith(v)) own.push(node);
    }
    own.concat(last).forEach(function (node) {
      var drawn = node.draw(ctx);
      if (drawn.drawExternalLabel) external.push(drawn.drawExternalLabel);
    });
    return { drawExternalLabels: function () { external.forEach(function (f) { f(); }); } };
  }
  // The overview's edges are kept as a picture while neither the view nor an edge changes (a
  // hover, a selection, new labels or a re-score that moves no width redraw the map), and
  // copied: rasterising 10,000 lines is most of a frame's cost.
  var edgeLayer = { canvas: document.createElement("canvas"), key: null };
  function drawOverviewEdges(ctx) {
    var m = ctx.getTransform(), canvas = ctx.canvas;
    var key = [m.a, m.b, m.c, m.d, m.e, m.f, canvas.width, canvas.height, edgesVersion].join(" ");
    if (edgeLayer.key !== key) {
      var layer = edgeLayer.canvas;
      layer.width = canvas.width;
      layer.height = canvas.height;  // (which clears it)
      var lctx = layer.getContext("2d");
      lctx.setTransform(m);
      strokeOverviewEdges(lctx);
      edgeLayer.key = key;
    }
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(edgeLayer.canvas, 0, 0);
    ctx.restore();
    // Selected and hovered edges, highlighted over the picture.
    var hovered = Object.keys(network.selectionHandler.hoverObj.edges);
    network.getSelectedEdges().concat(hovered).forEach(function (id) {
      var e = network.body.edges[id];
      if (e && e.connected === true) e.draw(ctx);
    });
  }
  // An overview draws at most EDGE_INK px of edge line in view (about 30 ms of rasterising on a
  // 2-core machine without a GPU): the edges in view, the weightiest first, until the ink is
  // spent. An edge's weight is its weight times the strength of its source (what it adds to its
  // target) in the corpus as written: the same edges stay drawn while a what-if or the date
  // slider moves. A map of long, crossing edges in full view shows its main arguments; zoomed
  // in, every edge.
  var EDGE_INK = 1e6, edgeRule = "";
  var weightiest = edgeItems.map(function (e, i) { return [writtenWeight[i] * (details[e.from].strength || 0), e.id]; })
    .sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; })
    .map(function (pair) { return pair[1]; });
  // The length of the part of edge e inside the box v (Liang-Barsky clipping), canvas units.
  function inView(e, v) {
    var x = e.from.x, y = e.from.y, dx = e.to.x - x, dy = e.to.y - y, t0 = 0, t1 = 1;
    var sides = [[-dx, x - v.left], [dx, v.right - x], [-dy, y - v.top], [dy, v.bottom - y]];
    for (var k = 0; k < 4; k++) {
      var p = sides[k][0], q = sides[k][1];
      if (p === 0) { if (q < 0) return 0; continue; }
      var t = q / p;
      if (p < 0) t0 = Math.max(t0, t); else t1 = Math.min(t1, t);
    }
    return t1 > t0 ? (t1 - t0) * Math.hypot(dx, dy) : 0;
  }
  function strokeOverviewEdges(ctx) {
    var scale = network.getScale(), v = viewBox(), dash = OVERVIEW_DASH.map(function (d) { return d / scale; });
    var all = network.body.edges, order = weightiest, styles = new Map(), ink = 0, shown = 0, total = 0;
    for (var i = 0; i < order.length; i++) {
      var e = all[order[i]], o = e.options;
      var length = e.connected === true && !o.hidden ? inView(e, v) * scale : 0;
      if (length === 0) continue;
      total++;
      if (ink + length > EDGE_INK) continue;
      ink += length;
      shown++;
      // By colour, then dashes, fade and width: vis-network's, at least 0.3 px on screen, in quarters.
      var quarters = Math.round(Math.max(o.width * scale, 0.3) * 4);
      var style = styleOf(styles, o.color.color, ((o.dashes ? 1 : 0) * 1001 + Math.round(o.color.opacity * 1000)) * 1e4 + quarters, newEdgeStyle);
      if (!style.o) { style.o = o; style.px = quarters / 4; }
      style.path.moveTo(e.from.x, e.from.y);
      style.path.lineTo(e.to.x, e.to.y);
    }
    allStyles(styles).sort(function (a, b) {  // faded ones first, undermining (dashed) ones last
      return a.o.color.opacity - b.o.color.opacity || !!a.o.dashes - !!b.o.dashes;
    }).forEach(function (style) {
      // A line under 1 px is drawn 1 px wide and as much fainter (as the rasteriser would draw
      // it, at half the cost).
      ctx.strokeStyle = style.o.color.color;
      ctx.globalAlpha = style.o.color.opacity * Math.min(1, style.px);
      ctx.lineWidth = Math.max(1, style.px) / scale;
      ctx.setLineDash(style.o.dashes ? dash : []);
      ctx.stroke(style.path);
    });
    setEdgeRule(shown < total ? "Edges: " + shown + " of " + total +
      " in view (the weightiest as written: weight × strength of the source; all once zoomed in)." : "");
  }
  function newNodeStyle() { return { o: null, border: new Path2D(), inside: new Path2D() }; }
  function newEdgeStyle() { return { o: null, px: 0, path: new Path2D() }; }
  if (page.large) {
    renderer._drawNodes = function (ctx, always) {
      return always || !overview() ? visDrawNodes.call(renderer, ctx, always) : drawOverviewNodes(ctx);
    };
    renderer._drawEdges = function (ctx) {
      if (overview()) return drawOverviewEdges(ctx);
      setEdgeRule("");
      edgesInView(function (e) { e.draw(ctx); });
    };
    renderer._drawArrows = function (ctx) {
      if (!overview()) edgesInView(function (e) { e.drawArrows(ctx); });
    };
  }

  network.once("afterDrawing", function () {
    window.takeoffFirstDraw = timings.firstDraw = performance.now();
    $("loading").hidden = true;
  });

  // vis-network animates frame by frame, not by the clock: on a large map, where a frame takes a
  // few hundred ms, a glide would last seconds, so the camera jumps instead.
  var ANIMATION = page.large ? false : { duration: 450, easingFunction: "easeInOutQuad" };

  /* ---------- labels: as many as fit, legible, in the view ---------- */
  // Every label is drawn at LABEL_PX on screen (the takeoff paths' a little larger, above their
  // node, clear of the edges below it), whatever the zoom: its font size is set in canvas units
  // for the current scale. The rule, shown under the map: the nodes in view are taken in order
  // (the selected node and its neighbours, the takeoff paths, then by strength, strongest first)
  // and each gets its label if the label stays inside the view and covers no label or node
  // already there. A small map gets every label; a dense one its strongest, and more as you zoom.
  var LABEL_PX = 12, MODEL_LABEL_PX = 14, LABEL_WIDTH = 130, MODEL_LABEL_WIDTH = 170, LABEL_LINES = 2, MODEL_LABEL_LINES = 4;
  var MAX_LABELS = 400, labelled = new Map(), arrowsOn = !page.large, detailTimer = null;
  var measure = document.createElement("canvas").getContext("2d");
  var LABEL_FONT = options.nodes.font.face;
  var wrapped = new Map();  // a label is measured once per width it is wrapped to
  function wrapLabel(text, px, width, most) {
    var key = JSON.stringify([text, px, width, most]);
    if (!wrapped.has(key)) wrapped.set(key, wrapText(text, px, width, most));
    return wrapped.get(key);
  }
  function wrapText(text, px, width, most) {  // at most `most` lines of `width` px, the last cut with an ellipsis
    measure.font = (px === MODEL_LABEL_PX ? "bold " : "") + px + "px " + LABEL_FONT;
    var words = String(text).split(/\s+/), lines = [], line = "";
    for (var i = 0; i < words.length; i++) {
      var next = line ? line + " " + words[i] : words[i];
      if (measure.measureText(next).width <= width || !line) { line = next; continue; }
      lines.push(line); line = words[i];
      if (lines.length === most) { line = ""; lines[most - 1] += " …"; break; }
    }
    if (line) lines.push(line);
    lines = lines.map(function (l) {  // a single word wider than the box is cut too
      while (measure.measureText(l).width > width && l.length > 2) l = l.slice(0, -2) + "…";
      return l;
    });
    var w = 0;
    lines.forEach(function (l) { w = Math.max(w, measure.measureText(l).width); });
    return { text: lines.join("\n"), width: w, height: lines.length * px * 1.15 };
  }
  // Boxes on the screen filed by the cells of a grid they cover: whether a label would cover
  // one is asked of its own cells only, so placing labels costs the same per node on a map of
  // 5,000 nodes as on one of 50.
  var CELL = 64;
  function BoxGrid() { this.cells = new Map(); }
  BoxGrid.prototype.each = function (r, visit) {  // visit(cell key) for each cell r covers
    for (var cx = Math.floor(r.x / CELL); cx <= Math.floor((r.x + r.w) / CELL); cx++) {
      for (var cy = Math.floor(r.y / CELL); cy <= Math.floor((r.y + r.h) / CELL); cy++) visit(cx * 65536 + cy);
    }
  };
  BoxGrid.prototype.add = function (box) {
    var cells = this.cells;
    this.each(box, function (key) {
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(box);
    });
  };
  BoxGrid.prototype.covers = function (r, except) {  // does r overlap a box (other than `except`'s)?
    var cells = this.cells, hit = false;
    this.each(r, function (key) {
      var boxes = cells.get(key) || [];
      for (var i = 0; i < boxes.length && !hit; i++) {
        var b = boxes[i];
        hit = b.id !== except && r.x < b.x + b.w && b.x < r.x + r.w && r.y < b.y + b.h && b.y < r.y + r.h;
      }
    });
    return hit;
  };
  function labelOrder(inView) {
    var first = new Set();
    if (state.selected !== null) {
      first.add(state.selected);
      outEdges[state.selected].forEach(function (eid) { first.add(edges.get(eid).to); });
      inEdges[state.selected].forEach(function (eid) { first.add(edges.get(eid).from); });
    }
    var rank = {}, strength = {};  // computed once, not at each of the sort's comparisons
    inView.forEach(function (id) {
      rank[id] = first.has(id) ? 0 : details[id].kind === "model" ? 1 : 2;
      strength[id] = strengthOf(id) || 0;
    });
    return inView.sort(function (a, b) {
      return rank[a] - rank[b] || strength[b] - strength[a] || (a < b ? -1 : a > b ? 1 : 0);
    });
  }
  function placeLabels() {
    var scale = network.getScale(), box = container.getBoundingClientRect();
    if (page.large) {
      var near = scale >= DETAIL_SCALE;
      if (near !== arrowsOn) { arrowsOn = near; network.setOptions({ edges: { arrows: { to: { enabled: near } } } }); }
    }
    var positions = network.getPositions(), inView = [], screen = {}, shapes = new BoxGrid();
    for (var id in positions) {
      if (state.hidden.get(id)) continue;
      var p = network.canvasToDOM(positions[id]), r = network.body.nodes[id].options.size * scale;
      if (p.x < -r || p.y < -r || p.x > box.width + r || p.y > box.height + r) continue;
      screen[id] = { x: p.x, y: p.y, r: r };
      shapes.add({ x: p.x - r, y: p.y - r, w: 2 * r, h: 2 * r, id: id });
      inView.push(id);
    }
    // A takeoff path's label is as wide as the room between it and the next path (the paths
    // share the top row): every path gets its label, sized to the map.
    var models = inView.filter(function (id) { return details[id].kind === "model"; })
      .sort(function (a, b) { return screen[a].x - screen[b].x; });
    var modelWidth = {};
    models.forEach(function (id, i) {
      var gaps = [i > 0 ? screen[id].x - screen[models[i - 1]].x : Infinity,
                  i < models.length - 1 ? screen[models[i + 1]].x - screen[id].x : Infinity];
      // (whole px: a label is wrapped once per width, and the widths a zoom passes through are few)
      modelWidth[id] = Math.floor(Math.max(60, Math.min(MODEL_LABEL_WIDTH, Math.min.apply(null, gaps) - 12)));
    });
    var taken = new BoxGrid(), want = new Map();
    function free(rect, id) {
      return rect.x >= 0 && rect.y >= 0 && rect.x + rect.w <= box.width && rect.y + rect.h <= box.height &&
        !taken.covers(rect, id) && !shapes.covers(rect, id);
    }
    // Where a label `w` by `h` px may go: under the node, else above it; a takeoff path's
    // always above (clear of its edges).
    function spots(s, w, h, model) {
      var above = { x: s.x - w / 2 - 2, w: w + 4, h: h + 2, y: s.y - s.r - 4 - h };
      return model ? [above] : [{ x: above.x, w: above.w, h: above.h, y: s.y + s.r + 2 }, above];
    }
    labelOrder(inView).forEach(function (id) {
      if (want.size >= MAX_LABELS) return;
      var model = details[id].kind === "model", px = model ? MODEL_LABEL_PX : LABEL_PX, s = screen[id];
      // Each spot's box holds that of a label of one line and no width: where those are not
      // free, no label fits, and none is measured (most nodes of a dense map in full view).
      if (!spots(s, 0, px * 1.15, model).some(function (rect) { return free(rect, id); })) return;
      var label = model ? wrapLabel(labels[id], px, modelWidth[id], MODEL_LABEL_LINES)
                        : wrapLabel(labels[id], px, LABEL_WIDTH, LABEL_LINES);
      var spot = spots(s, label.width, label.height, model).filter(function (rect) { return free(rect, id); })[0];
      if (!spot) return;
      taken.add(spot);
      want.set(id, { text: label.text, px: px, lines: label.text.split("\n").length, above: spot.y < s.y });
    });
    var updates = [];
    labelled.forEach(function (_, id) { if (!want.has(id)) updates.push({ id: id, label: undefined }); });
    want.forEach(function (w, id) {
      var size = w.px / scale, node = network.body.nodes[id].options.size;
      // Above the node: vis-network draws a label from 3 units under the node's bottom.
      var vadjust = w.above ? -(2 * node + 6 / scale + 2 * 3 + w.lines * size * 1.15) : 0;
      var old = labelled.get(id);
      if (!old || old.text !== w.text || old.size !== size || old.above !== w.above) {
        updates.push({ id: id, label: w.text, font: { size: size, vadjust: vadjust } });
      }
      w.size = size;
    });
    labelled = want;
    quietUpdate(nodes, updates);
    var total = inView.length;
    labelRule = total === 0 ? "" : want.size === total
      ? "Labels: all " + total + " nodes in view."
      : "Labels: " + want.size + " of " + total + " nodes in view (takeoff paths, then the strongest, where one fits); zoom in for more.";
    showRules();
  }
  // The rules of what the map shows, under it: the labels', and an overview's edges' when it
  // leaves some out.
  var labelRule = "";
  function setEdgeRule(text) {
    if (text !== edgeRule) { edgeRule = text; showRules(); }
  }
  function showRules() {
    $("label-rule").textContent = labelRule + (labelRule && edgeRule ? " " : "") + edgeRule;
  }
  function scheduleDetails() {
    clearTimeout(detailTimer);
    detailTimer = setTimeout(placeLabels, 120);
  }
  network.on("zoom", scheduleDetails);
  network.on("dragEnd", scheduleDetails);
  network.on("animationFinished", scheduleDetails);
  network.on("resize", scheduleDetails);
  // The whole map in view, with room above the takeoff paths and below the lowest row for
  // their labels.
  function fitWithRoom(fitOptions) {
    network.fit(Object.assign({ animation: false }, fitOptions || {}));
    var top = MODEL_LABEL_LINES * MODEL_LABEL_PX * 1.15 + 8, bottom = LABEL_LINES * LABEL_PX * 1.15 + 8;
    var height = container.getBoundingClientRect().height;
    if (height <= 2 * (top + bottom)) return;
    var scale = network.getScale() * (height - top - bottom) / height, at = network.getViewPosition();
    network.moveTo({ position: { x: at.x, y: at.y - (top - bottom) / 2 / scale }, scale: scale, animation: false });
  }
  network.once("afterDrawing", function () { fitWithRoom(); placeLabels(); });

  network.on("click", function (params) {
    if (params.nodes.length) openPanel(params.nodes[0]);
    else if (!params.edges.length) closePanel();
  });

  /* ---------- summary ---------- */
  var counts = {};
  nodes.forEach(function (n) { counts[n.group] = (counts[n.group] || 0) + 1; });

  /* ---------- ranking of takeoff paths ---------- */
  var RANKING_TOP = 12;
  function signed(x, digits) { return (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(digits); }
  function renderRanking() {
    var models = ids.filter(function (id) { return details[id].kind === "model"; });
    models.sort(function (a, b) { return (strengthOf(b) || 0) - (strengthOf(a) || 0) || (a < b ? -1 : a > b ? 1 : 0); });
    var base = writtenStrengths(), modified = isModified();
    var list = $("ranking");
    list.textContent = "";
    var parts = page.large ? null : strengthParts(models);
    showFilter();
    var shown = state.allModels ? models : models.slice(0, RANKING_TOP);
    shown.forEach(function (id, rank) {
      var s = strengthOf(id), i = index.get(id);
      var bar = el("span", { className: "bar" });
      bar.style.width = Math.max(0, Math.min(1, s || 0)) * 100 + "%";
      var delta = s === null ? 0 : s - base[i];
      var label = (rank + 1) + ". " + nodeTitle(id) + " (" + id + "): strength " + fmt(s) +
        (modified && s !== null ? ", " + signed(delta, 3) + " from the corpus as written" : "");
      var sure = page.robustness && page.robustness.models[id];
      if (sure) {  // the 90% interval drawn on the bar's track (takeoff html --robustness)
        var span = el("span", { className: "interval" });
        span.style.left = sure.low * 100 + "%";
        span.style.width = Math.max(0.5, (sure.high - sure.low) * 100) + "%";
      }
      // Two lines: the title (all the width its number leaves) and the strength; the bar and the id.
      var button = el("button", { type: "button", className: "rank", "data-id": id, title: nodeTitle(id) + "\n" + id,
                                  "aria-label": label }, [
        el("span", { className: "rank-line" }, [
          el("span", { className: "rank-title", text: nodeTitle(id) }),
          el("span", { className: "rank-value", text: fmt(s) }),
          modified && s !== null && Math.abs(delta) >= 0.0005
            ? el("span", { className: "rank-delta " + (delta > 0 ? "up" : "down"), text: signed(delta, 3),
                           title: "change from the corpus as written (" + fmt(base[i]) + ")" })
            : el("span", { className: "rank-delta" })]),
        el("span", { className: "rank-line" }, [
          el("span", { className: "bar-track" }, [bar, sure ? span : null]),
          el("code", { className: "rank-id", text: id })]),
        sure ? el("span", { className: "rank-robustness",
                            text: "90% " + fmt(sure.low) + "–" + fmt(sure.high) + " · P(first) " + fmt(sure.p_first) }) : null,
        parts ? partsBar(parts[id]) : null
      ]);
      button.addEventListener("click", function () { goTo(id); });
      list.appendChild(el("li", {}, [button]));
    });
    if (!models.length) list.appendChild(el("li", { className: "hint", text: "No takeoff paths in this corpus." }));
    if (models.length > RANKING_TOP) {
      var more = el("button", { type: "button", className: "link", id: "ranking-more",
                                text: state.allModels ? "Show the top " + RANKING_TOP : "Show all " + models.length });
      more.addEventListener("click", function () { state.allModels = !state.allModels; renderRanking(); });
      list.appendChild(el("li", { className: "more" }, [more]));
    }
  }

  /* ---------- the parts of each strength (docs/evidence.md) ----------
   * Exact Shapley values over the groups of nodes (reasoning: models, claims, arguments; the
   * evidence of each kind), as graph/solving/shares.py computes them: a group switched off keeps its
   * nodes but its outgoing edges weigh 0; with every group off each strength is its credence,
   * so base + the groups' parts = the strength. 2^k solves (k <= 5) with the what-if in force. */
  var GROUPS = ["reasoning", "observation", "forecast", "testimony", "unkinded"];
  var PART_LABEL = { base: "base", reasoning: "reasoning", observation: "observations",
                     forecast: "forecasts", testimony: "testimony", unkinded: "evidence of no stated kind" };
  var EVIDENCE_GROUPS = GROUPS.slice(1);
  function groupOf(id) {
    var d = details[id];
    return d.kind !== "evidence" ? "reasoning" : (d.evidence_kind || "unkinded");
  }
  var edgeGroup = edgeItems.map(function (e) { return groupOf(e.from); });
  var players = GROUPS.filter(function (g) { return edgeGroup.indexOf(g) >= 0; });
  var partsMemo = { key: null, parts: null };
  function factorial(n) { return n <= 1 ? 1 : n * factorial(n - 1); }
  function bits(mask) { var c = 0; for (; mask; mask >>= 1) c += mask & 1; return c; }
  function strengthParts(models) {
    var ov = overrides();
    var key = JSON.stringify([whatif.semantics, state.asOfDay, Array.from(ov.credences), Array.from(ov.weights), models]);
    if (partsMemo.key === key) return partsMemo.parts;
    var v = vectors(ov, state.asOfDay), k = players.length, values = [];
    for (var mask = 0; mask < (1 << k); mask++) {
      var weight = Float64Array.from(v.weight);
      for (var e = 0; e < weight.length; e++) if (!(mask >> players.indexOf(edgeGroup[e]) & 1)) weight[e] = 0;
      values.push(takeoffSolver.solve(plan, whatif.semantics, v.base, weight).s);
    }
    var parts = {};
    models.forEach(function (id) {
      var n = index.get(id), row = { base: v.base[n], strength: values[values.length - 1][n] };
      GROUPS.forEach(function (g) { row[g] = 0; });
      players.forEach(function (g, i) {
        for (var mask = 0; mask < (1 << k); mask++) {
          if (mask >> i & 1) continue;
          var size = bits(mask);
          row[g] += factorial(size) * factorial(k - size - 1) / factorial(k) * (values[mask | (1 << i)][n] - values[mask][n]);
        }
      });
      row.evidence = EVIDENCE_GROUPS.reduce(function (sum, g) { return sum + row[g]; }, 0);
      parts[id] = row;
    });
    partsMemo = { key: key, parts: parts };
    return parts;
  }
  // One bar per path: the base, then each group's part (a part that lowers the strength is
  // hatched), widths |part| on a scale where the whole track is max(1, total).
  function partsBar(row) {
    var shown = ["base"].concat(GROUPS).filter(function (p) { return p === "base" || Math.abs(row[p]) >= 0.0005; });
    var total = shown.reduce(function (sum, p) { return sum + Math.abs(row[p]); }, 0);
    var words = shown.map(function (p) { return PART_LABEL[p] + " " + (p === "base" ? fmt(row[p]) : signed(row[p], 3)); }).join(" · ");
    var track = el("span", { className: "parts-track", role: "img",
                             "aria-label": "Parts of the strength: " + words }, shown.map(function (p) {
      var seg = el("span", { className: "part part-" + p + (row[p] < 0 ? " lowers" : ""), "data-part": p,
                             "data-value": String(row[p]), title: PART_LABEL[p] + " " + (p === "base" ? fmt(row[p]) : signed(row[p], 3)) });
      seg.style.width = Math.abs(row[p]) / Math.max(1, total) * 100 + "%";
      return seg;
    }));
    return el("span", { className: "rank-parts" }, [track, el("span", { className: "parts-text", text: words })]);
  }
  // What `takeoff html --edges-from / --evidence-kinds` left in the map, said above the ranking.
  function showFilter() {
    var f = page.filter;
    if (!f || $("ranking-filter")) return;
    var words = [];
    if (f.edges_from) words.push("edges from " + f.edges_from.join(", ") + " only");
    if (f.evidence_kinds) words.push("evidence: " + f.evidence_kinds.join(", ") + " only");
    $("ranking").parentNode.insertBefore(el("p", { id: "ranking-filter", className: "hint",
                                                   text: "Scored with " + words.join("; ") }), $("ranking"));
  }

  /* ---------- filters and focus ---------- */
  function buildFilters() {
    var box = $("kind-filters");
    Object.keys(page.kinds).forEach(function (kind) {
      var input = el("input", { type: "checkbox", value: kind, "data-kind": kind });
      input.checked = true;
      input.addEventListener("change", function () {
        if (input.checked) state.kinds.add(kind); else state.kinds.delete(kind);
        applyVisibility();
      });
      var swatch = el("span", { className: "swatch swatch-" + kind });
      swatch.style.background = page.kinds[kind].color;
      box.appendChild(el("label", { className: "kind-filter" }, [
        input, swatch, el("span", { text: page.kinds[kind].label }),
        el("span", { className: "count", text: String(counts[kind] || 0) })
      ]));
    });
    var tags = $("tag-filters");
    page.tags.forEach(function (pair) {
      var chip = el("button", { type: "button", className: "tag", "data-tag": pair[0], "aria-pressed": "false" }, [
        el("span", { text: pair[0] }), el("span", { className: "count", text: String(pair[1]) })
      ]);
      chip.addEventListener("click", function () { toggleTag(pair[0]); });
      tags.appendChild(chip);
    });
    if (!page.tags.length) tags.appendChild(el("span", { className: "hint", text: "No tags." }));
    $("clear-filters").addEventListener("click", clearFilters);
    $("focus-exit").addEventListener("click", function () { setFocus(null); });
    $("focus-depth").addEventListener("change", function (e) {
      state.depth = Number(e.target.value); applyVisibility(true);
    });
  }

  function toggleTag(tag) {
    if (state.tags.has(tag)) state.tags.delete(tag); else state.tags.add(tag);
    document.querySelectorAll("#tag-filters .tag").forEach(function (chip) {
      chip.setAttribute("aria-pressed", String(state.tags.has(chip.getAttribute("data-tag"))));
    });
    applyVisibility();
  }

  function clearFilters() {
    state.tags.clear();
    state.kinds = new Set(Object.keys(page.kinds));
    document.querySelectorAll("#kind-filters input").forEach(function (i) { i.checked = true; });
    document.querySelectorAll("#tag-filters .tag").forEach(function (c) { c.setAttribute("aria-pressed", "false"); });
    setFocus(null);
  }

  function neighbourhood(id, depth) {
    var seen = new Set([id]), frontier = [id];
    for (var d = 0; d < depth; d++) {
      var next = [];
      frontier.forEach(function (n) {
        outEdges[n].forEach(function (eid) { var m = edges.get(eid).to; if (!seen.has(m)) { seen.add(m); next.push(m); } });
        inEdges[n].forEach(function (eid) { var m = edges.get(eid).from; if (!seen.has(m)) { seen.add(m); next.push(m); } });
      });
      frontier = next;
    }
    return seen;
  }

  function passesFilters(id) {
    var d = details[id];
    if (!state.kinds.has(d.kind)) return false;
    if (state.tags.size && !d.tags.some(function (t) { return state.tags.has(t); })) return false;
    return true;
  }

  function applyVisibility(refit) {
    var near = state.focus !== null ? neighbourhood(state.focus, state.depth) : null;
    var nodeUpdates = [], edgeUpdates = [], shown = 0, visible = new Set();
    nodes.getIds().forEach(function (id) {
      var show = (near ? near.has(id) : true) && (id === state.focus || passesFilters(id));
      if (show) { visible.add(id); shown++; }
      if ((state.hidden.get(id) || false) !== !show) { state.hidden.set(id, !show); nodeUpdates.push({ id: id, hidden: !show }); }
    });
    edges.forEach(function (e) {
      var hide = !(visible.has(e.from) && visible.has(e.to));
      if ((e.hidden || false) !== hide) edgeUpdates.push({ id: e.id, hidden: hide });
    });
    if (nodeUpdates.length) nodes.update(nodeUpdates);
    if (edgeUpdates.length) edges.update(edgeUpdates);
    $("visible-count").textContent = shown === nodes.length ? "" : shown + " of " + nodes.length + " shown";
    if (refit && shown) fitWithRoom({ nodes: Array.from(visible) });
    scheduleDetails();
  }

  function setFocus(id) {
    state.focus = id;
    $("focus-banner").hidden = id === null;
    if (id !== null) $("focus-name").textContent = nodeTitle(id);
    applyVisibility(true);
  }

  /* ---------- moving around ---------- */
  function followNodeLink(event) {
    var link = event.target.closest("a[data-node]");
    if (!link) return;
    event.preventDefault();  // the fragment is not a place to go: the node is
    var id = link.getAttribute("data-node");
    if (details[id]) goTo(id);
    else link.classList.add("unknown-node");
  }

  function goTo(id) {
    if (!details[id]) return;
    if (state.hidden.get(id)) {
      // Following an edge out of a focused neighbourhood moves the focus along with it.
      if (state.focus !== null) setFocus(id);
      if (state.hidden.get(id)) clearFilters();
    }
    openPanel(id);  // first: opening the panel narrows the canvas
    $("panel").focus({ preventScroll: true });  // keyboard users land in the panel
    network.setSize();
    network.focus(id, { scale: Math.max(network.getScale(), 1.0), animation: ANIMATION });
  }

  /* ---------- fading: nodes not yet dated (timeline), and all but a selection's neighbours ---------- */
  var EDGE_OPACITY = options.edges.color.opacity;
  // The opacity each item is drawn with (restyle alone changes it), by index in ids / edgeItems.
  var shownOpacity = new Float64Array(ids.length).fill(1);
  var shownEdgeOpacity = new Float64Array(edgeItems.length).fill(EDGE_OPACITY);
  function fadeColor(hex, alpha) {
    var v = parseInt(hex.slice(1), 16);
    return "rgba(" + (v >> 16) + "," + ((v >> 8) & 255) + "," + (v & 255) + "," + alpha + ")";
  }
  function restyle() {
    // Dimming around a selection costs an update of every item: small maps only.
    var sel = page.large ? null : state.selected;
    var near = sel !== null ? neighbourhood(sel, 1) : null;
    var nodeUpdates = [], edgeUpdates = [];
    ids.forEach(function (id, i) {
      var o = state.future.has(id) ? 0.2 : near && !near.has(id) ? 0.25 : 1;
      if (shownOpacity[i] !== o) {
        shownOpacity[i] = o;
        // vis-network's opacity leaves the label as it was: fade its colour too.
        var group = nodeItems[i].group;
        var ink = (options.groups[group] || {}).font ? options.groups[group].font.color : options.nodes.font.color;
        nodeUpdates.push({ id: id, opacity: o, font: { color: o < 1 ? fadeColor(ink, o + 0.1) : ink } });
      }
    });
    edgeItems.forEach(function (e, i) {
      var o = state.future.has(e.from) || state.future.has(e.to) ? 0.12
        : near && e.from !== sel && e.to !== sel ? 0.1 : EDGE_OPACITY;
      if (shownEdgeOpacity[i] !== o) {
        shownEdgeOpacity[i] = o;
        edgeUpdates.push({ id: e.id, opacity: o, color: { color: baseColor[e.id], opacity: o } });
      }
    });
    quietUpdate(nodes, nodeUpdates);
    quietUpdate(edges, edgeUpdates);
  }

  /* ---------- side panel ---------- */
  var panelOpener = null;
  function closePanel() {
    var wasOpen = !$("panel").hidden;
    $("panel").hidden = true;
    state.selected = null;
    network.unselectAll();
    restyle();
    scheduleDetails();
    // Back to where the keyboard was before the panel opened.
    if (wasOpen && panelOpener && document.body.contains(panelOpener)) panelOpener.focus();
    panelOpener = null;
  }

  function metric(label, value, bar, key) {
    var children = [el("span", { className: "metric-label", text: label }),
                    el("span", { className: "metric-value", text: value, "data-metric": key || label })];
    if (bar !== undefined) {
      var fill = el("span", { className: "bar", "data-bar": key || label });
      fill.style.width = Math.max(0, Math.min(1, bar || 0)) * 100 + "%";
      children.push(el("span", { className: "bar-track" }, [fill]));
    }
    return el("div", { className: "metric" }, children);
  }

  function nodeLink(id) {
    var b = el("button", { type: "button", className: "node-link kind-" + (details[id] ? details[id].kind : ""), "data-id": id, text: nodeTitle(id) });
    b.addEventListener("click", function () { goTo(id); });
    return b;
  }

  // A labelled 0..1 slider with its value shown beside it; `onChange(value)` on every move.
  function slider(label, value, attrs, onChange) {
    var input = el("input", Object.assign({ type: "range", min: "0", max: "1", step: "0.01",
                                            "aria-label": label, "aria-valuetext": fmt(value) }, attrs));
    input.value = String(value);
    var out = el("output", { className: "slider-value", text: fmt(value), "aria-hidden": "true" });
    input.addEventListener("input", function () {
      var x = Number(input.value);
      out.textContent = fmt(x);
      input.setAttribute("aria-valuetext", fmt(x));
      onChange(x);
    });
    return el("span", { className: "slider" }, [input, out]);
  }
  function setSlider(input, value) {
    if (document.activeElement === input && input.matches(":active")) return;  // being dragged
    input.value = String(value);
    input.setAttribute("aria-valuetext", fmt(value));
    input.nextSibling.textContent = fmt(value);
  }

  function edgeItem(eid, direction) {
    var e = edges.get(eid);
    var other = direction === "out" ? e.to : e.from;
    var w = effectiveWeight(eid);
    // The relation is written out (and "undermines" dashed in the map): colour is never the only cue.
    var rel = el("span", { className: "rel rel-" + e.relation, "data-rel-edge": eid,
                           text: (e.relation === "supports" ? "+ " : "− ") + e.relation + " " + fmt(w) });
    var head = el("div", { className: "edge-head" }, [rel, nodeLink(other)]);
    var control = slider("Weight of " + nodeTitle(e.from) + " " + e.relation + " " + nodeTitle(e.to), w,
                         { className: "weight-slider", "data-edge": eid, "data-source": e.from, "data-target": e.to },
                         function (x) { setChange({ kind: "weight", source: e.from, target: e.to, value: x }); });
    return el("li", { className: "edge" }, [head, el("div", { className: "edge-weight" }, [
      el("span", { className: "hint", text: "weight" }), control]),
      e.note ? el("p", { className: "note", text: e.note }) : null,
      e.by ? el("p", { className: "edge-source", text: sourceText(e) }) : null]);
  }

  function sourceItem(s) {
    var label = s.title || s.text_url || "source";
    var link = s.url && SAFE_URL.test(s.url)
      ? el("a", { href: s.url, target: "_blank", rel: "noopener noreferrer nofollow", text: label })
      : el("span", { className: "unsafe-url", text: label + (s.title && s.text_url ? " (" + s.text_url + ")" : "") });
    return el("li", { className: "source" }, [
      el("div", {}, [link, s.date ? el("span", { className: "date", text: " · " + s.date }) : null]),
      s.quote ? el("blockquote", { text: s.quote }) : null
    ]);
  }

  // Removal impacts of the nodes listed for `id` (page.why), re-solved with the what-if in force:
  // a node is removed by weighing its edges 0.
  function liveWhy(id) {
    var entries = page.why && page.why[id];
    if (!entries || !entries.length) return null;
    var t = index.get(id), v = vectors(overrides(), state.asOfDay);
    return entries.map(function (w) {
      var weight = Float64Array.from(v.weight);
      outEdges[w.node].concat(inEdges[w.node]).forEach(function (eid) { weight[edgeById.get(eid)] = 0; });
      var without = takeoffSolver.solve(plan, whatif.semantics, v.base, weight).s[t];
      return { node: w.node, impact: current[t] - without, via: w.via };
    }).sort(function (a, b) { return Math.abs(b.impact) - Math.abs(a.impact); });
  }
  function whyList(id) {
    return liveWhy(id).map(function (w) {
      var via = w.via.length ? "via " + w.via.map(nodeTitle).join(" → ") : "";
      var value = el("span", { className: "why-value " + (w.impact >= 0 ? "up" : "down"),
                               text: signed(w.impact, 3), title: "removal impact " + fmt(w.impact) });
      return el("li", {}, [
        el("div", { className: "why-main" }, [nodeLink(w.node), value]),
        via ? el("div", { className: "why-via", text: via }) : null
      ]);
    });
  }
  function whyItems(id) {
    if (!(page.why && page.why[id] && page.why[id].length)) return null;
    return el("section", { className: "why" }, [
      el("h3", { text: "Why this strength" }),
      el("p", { className: "hint", text: "What each node adds to it: the strength lost if the node were removed." }),
      el("ol", {}, whyList(id))
    ]);
  }

  function openPanel(id) {
    var d = details[id];
    if (!d) return;
    scheduleDetails();  // the selected node and its neighbours are labelled first
    if ($("panel").hidden && document.activeElement && document.activeElement !== document.body) panelOpener = document.activeElement;
    state.selected = id;
    var body = $("panel-body");
    body.textContent = "";
    body.appendChild(el("div", { className: "panel-kind" }, [
      el("span", { className: "kind-badge kind-" + d.kind, text: kindLabel(d.kind) }),
      el("code", { className: "node-id", text: id })
    ]));
    body.appendChild(el("h2", { className: "panel-title", id: "panel-title", text: d.title }));
    var credence = effectiveCredence(id), spread = d.uncertainty ? " (" + d.uncertainty + ")" : "";
    body.appendChild(el("div", { className: "metrics" }, [
      metric("credence", fmt(credence) + spread, credence, "credence"),
      metric("strength", fmt(strengthOf(id)), strengthOf(id), "strength"),
      metric("strength as written", fmt(writtenStrengths()[index.get(id)]), undefined, "written"),
      d.date ? metric("date", d.date, undefined, "date") : null
    ]));
    body.appendChild(el("div", { className: "whatif-credence" }, [
      el("span", { className: "metric-label", text: "what if the credence were (written " + fmt(d.credence) + ")" }),
      slider("Credence of " + d.title, credence, { id: "credence-slider", "data-id": id }, function (x) {
        setChange({ kind: "credence", id: id, value: x });
      })
    ]));
    if (d.tags.length) {
      body.appendChild(el("div", { className: "tags" }, d.tags.map(function (t) {
        var chip = el("button", { type: "button", className: "tag", "data-tag": t, "aria-pressed": String(state.tags.has(t)), text: t });
        chip.addEventListener("click", function () { toggleTag(t); });
        return chip;
      })));
    }
    var focusButton = el("button", { type: "button", className: "action", id: "focus-button", text: state.focus === id ? "Show all" : "Focus on its neighbourhood" });
    focusButton.addEventListener("click", function () { setFocus(state.focus === id ? null : id); openPanel(id); });
    body.appendChild(el("div", { className: "actions" }, [focusButton]));
    if (d.body) {
      var annotation = el("section", { className: "annotation" });
      annotation.innerHTML = renderMarkdown(d.body);  // raw HTML off, links checked: see md above
      annotation.addEventListener("click", followNodeLink);
      body.appendChild(annotation);
    }
    if (d.sources.length) {
      body.appendChild(el("section", { className: "sources" }, [
        el("h3", { text: "Sources" }), el("ul", {}, d.sources.map(sourceItem))
      ]));
    }
    var why = whyItems(id);
    if (why) body.appendChild(why);
    [["in", "Argued by", inEdges[id]], ["out", "Bears on", outEdges[id]]].forEach(function (spec) {
      if (!spec[2].length) return;
      var items = spec[2].slice().sort(function (a, b) { return effectiveWeight(b) - effectiveWeight(a); });
      body.appendChild(el("section", { className: "edges edges-" + spec[0] }, [
        el("h3", { text: spec[1] + " (" + spec[2].length + ")" }),
        el("ul", {}, items.map(function (eid) { return edgeItem(eid, spec[0]); }))
      ]));
    });
    $("panel").hidden = false;
    $("panel").scrollTop = 0;
    network.selectNodes([id]);
    restyle();
    scheduleDetails();
  }
  // After a re-score: the numbers of the open panel change in place (its sliders stay put).
  function refreshPanel() {
    var id = state.selected;
    if (id === null || $("panel").hidden) return;
    var s = strengthOf(id);
    document.querySelector('#panel [data-metric="strength"]').textContent = fmt(s);
    document.querySelector('#panel [data-bar="strength"]').style.width = Math.max(0, Math.min(1, s || 0)) * 100 + "%";
    var credence = effectiveCredence(id), d = details[id];
    document.querySelector('#panel [data-metric="credence"]').textContent = fmt(credence) + (d.uncertainty ? " (" + d.uncertainty + ")" : "");
    document.querySelector('#panel [data-bar="credence"]').style.width = credence * 100 + "%";
    document.querySelector('#panel [data-metric="written"]').textContent = fmt(writtenStrengths()[index.get(id)]);
    setSlider($("credence-slider"), effectiveCredence(id));
    document.querySelectorAll("#panel .weight-slider").forEach(function (input) {
      setSlider(input, effectiveWeight(Number(input.getAttribute("data-edge"))));
    });
    document.querySelectorAll("#panel [data-rel-edge]").forEach(function (span) {
      var e = edges.get(Number(span.getAttribute("data-rel-edge")));
      span.textContent = (e.relation === "supports" ? "+ " : "− ") + e.relation + " " + fmt(effectiveWeight(e.id));
    });
    var list = document.querySelector("#panel .why ol");
    if (list) { list.textContent = ""; whyList(id).forEach(function (li) { list.appendChild(li); }); }
  }
  $("panel-close").addEventListener("click", closePanel);

  /* ---------- search ---------- */
  var searchIndex = nodes.getIds().map(function (id) {
    return { id: id, hay: (String(id) + " " + details[id].title).toLowerCase(), kind: details[id].kind };
  });
  var kindRank = { model: 0, claim: 1, evidence: 2, argument: 3 };
  var results = [], active = 0;

  function search(query) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    var found = searchIndex.filter(function (item) { return item.hay.indexOf(q) !== -1; });
    found.sort(function (a, b) {
      var pa = a.hay.indexOf(q) === 0 || nodeTitle(a.id).toLowerCase().indexOf(q) === 0 ? 0 : 1;
      var pb = b.hay.indexOf(q) === 0 || nodeTitle(b.id).toLowerCase().indexOf(q) === 0 ? 0 : 1;
      return pa - pb || kindRank[a.kind] - kindRank[b.kind] || nodeTitle(a.id).localeCompare(nodeTitle(b.id));
    });
    return found.slice(0, 12).map(function (item) { return item.id; });
  }

  function renderResults() {
    var list = $("search-results");
    list.textContent = "";
    results.forEach(function (id, i) {
      var li = el("li", { role: "option", "data-id": id, "aria-selected": String(i === active), className: i === active ? "active" : "" }, [
        el("span", { className: "swatch swatch-" + details[id].kind }),
        el("span", { className: "result-title", text: nodeTitle(id) }),
        el("code", { text: id })
      ]);
      li.firstChild.style.background = page.kinds[details[id].kind] ? page.kinds[details[id].kind].color : "#999";
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(id); });
      list.appendChild(li);
    });
    var q = $("search").value.trim();
    if (q && !results.length) list.appendChild(el("li", { className: "none", text: "No node matches “" + q + "”" }));
    list.hidden = !q;
  }

  function pick(id) {
    $("search-results").hidden = true;
    $("search").blur();
    goTo(id);
  }

  $("search").addEventListener("input", function (e) { results = search(e.target.value); active = 0; renderResults(); });
  $("search").addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { active = Math.min(active + 1, results.length - 1); renderResults(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { active = Math.max(active - 1, 0); renderResults(); e.preventDefault(); }
    else if (e.key === "Enter") { if (results.length) pick(results[active]); e.preventDefault(); }
    else if (e.key === "Escape") { e.target.value = ""; results = []; renderResults(); }
  });
  $("search").addEventListener("blur", function () { $("search-results").hidden = true; });
  $("search").addEventListener("focus", function (e) { if (e.target.value.trim()) renderResults(); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== $("search")) { $("search").focus(); e.preventDefault(); }
  });

  /* ---------- re-scoring: only what changed is handed to vis-network ---------- */
  function rescore() {
    var start = performance.now();
    var before = current, beforeBase = lastSolve.base;
    solveCurrent();
    var nodeUpdates = [], edgeUpdates = [];
    for (var i = 0; i < ids.length; i++) {
      var id = ids[i];
      if (current[i] === before[i] && lastSolve.base[i] === beforeBase[i] && !entered.has(id)) continue;
      var size = sizeFor(details[id].kind, current[i]), tip = tooltip(id);
      if (size !== shownSize[i] || tip !== shownTip[i]) {
        shownSize[i] = size; shownTip[i] = tip;
        nodeUpdates.push({ id: id, size: size, title: tip });
      }
    }
    entered.clear();
    for (var j = 0; j < edgeItems.length; j++) {
      var width = widthFor(lastSolve.shown[j]);
      if (width !== shownWidth[j]) {
        shownWidth[j] = width;
        edgeUpdates.push({ id: edgeItems[j].id, width: width, title: edgeTip(edgeItems[j], lastSolve.shown[j]) });
      }
    }
    quietUpdate(nodes, nodeUpdates);
    quietUpdate(edges, edgeUpdates);
    renderRanking();
    refreshPanel();
    renderWhatif();
    saveLink();
    timings.rescore = { ms: performance.now() - start, nodes: nodeUpdates.length, edges: edgeUpdates.length,
                        at: performance.now() };
  }
  var entered = new Set();  // nodes the date slider brought in or took out since the last re-score

  // vis-network answers every DataSet update with a state update of every item and a synchronous
  // redraw (about half a second on a 5,000-node map). A re-score, a fade or a new label changes
  // only sizes, widths, opacities, labels and tooltips (nothing that moves, hides or connects an
  // item), so the DataSet is updated with the network's listener detached, the drawn items get
  // the same options, and one redraw follows on the next frame.
  function quietUpdate(dataset, items) {
    if (!items.length) return;
    var isNodes = dataset === nodes, drawn = isNodes ? network.body.nodes : network.body.edges;
    var listener = isNodes ? network.nodesHandler.nodesListeners.update : network.edgesHandler.edgesListeners.update;
    dataset.off("update", listener);
    try { dataset.update(items); } finally { dataset.on("update", listener); }
    items.forEach(function (item) {
      var target = drawn[item.id];
      if (!target) return;
      if (isNodes && unplaced) unplaced.add(item.id);
      if (!isNodes) target.setOptions(dataset.get(item.id));  // vis-network's edges re-read all their options
      else if (Object.keys(item).every(function (k) { return SIZE_OR_TIP[k]; })) setSizeOrTip(target, item);
      else target.setOptions(item);
    });
    network.body.emitter.emit("_requestRedraw");
  }
  // A node's setOptions re-reads all its options and its label's fonts (about 40 µs a node,
  // 0.2 s for a re-score that resizes 5,000 nodes): a new size or tooltip, which is all a
  // re-score changes, is set on the drawn node directly, its shape measured again when drawn.
  var SIZE_OR_TIP = { id: true, size: true, title: true };
  function setSizeOrTip(node, item) {
    if ("size" in item) node.options.size = item.size;
    if ("title" in item) node.options.title = item.title;
    node.needsRefresh();
  }

  /* ---------- what-if: changes, perspectives, semantics ---------- */
  function baseValue(change) {  // the value before the page's change: perspective, else corpus
    var p = whatif.perspective !== null ? perspectives.get(whatif.perspective) : null;
    if (change.kind === "credence") {
      if (p && Object.prototype.hasOwnProperty.call(p.credences, change.id)) return p.credences[change.id];
      return writtenCredence[index.get(change.id)];
    }
    var hit = p && p.weights.filter(function (w) { return w[0] === change.source && w[1] === change.target; })[0];
    return hit ? hit[2] : writtenWeight[pairs.get(pairKey(change.source, change.target))[0]];
  }
  function setChange(change) {
    var key = changeKey(change);
    whatif.changes.delete(key);  // re-inserted last: the list reads in the order of the changes
    if (change.value !== baseValue(change)) whatif.changes.set(key, change);
    rescore();
  }
  function undo(key) { whatif.changes.delete(key); rescore(); }
  function resetAll() { whatif.changes.clear(); rescore(); }
  function isModified() {
    return whatif.changes.size > 0 || whatif.perspective !== null || whatif.semantics !== (page.semantics || "qe");
  }
  function setSemantics(name) {
    if (takeoffSolver.semantics.indexOf(name) === -1) return;
    whatif.semantics = name;
    $("semantics").value = name;
    $("summary").textContent = summaryText();
    rescore();
  }
  function setPerspective(name) {
    whatif.perspective = name && perspectives.has(name) ? name : null;
    whatif.changes.clear();  // a perspective starts a fresh what-if
    $("perspective").value = whatif.perspective === null ? "" : whatif.perspective;
    var p = whatif.perspective === null ? null : perspectives.get(whatif.perspective);
    $("perspective-description").textContent = p ? p.description : "";
    rescore();
  }
  function changeLabel(c) {
    return c.kind === "credence" ? "credence of " + nodeTitle(c.id)
      : "weight of " + nodeTitle(c.source) + " → " + nodeTitle(c.target);
  }
  function renderWhatif() {
    var list = $("whatif-changes");
    list.textContent = "";
    whatif.changes.forEach(function (c, key) {
      var button = el("button", { type: "button", className: "link undo", "data-key": key, text: "undo",
                                  "aria-label": "Undo: " + changeLabel(c) + " " + fmt(baseValue(c)) + " → " + fmt(c.value) });
      button.addEventListener("click", function () { undo(key); });
      list.appendChild(el("li", { className: "change" }, [
        el("span", { className: "change-label", text: changeLabel(c) }),
        el("span", { className: "change-value", text: fmt(baseValue(c)) + " → " + fmt(c.value) }), button]));
    });
    var none = whatif.changes.size === 0;
    $("whatif-none").hidden = !none;
    $("whatif-reset").disabled = none;
    $("whatif-card").classList.toggle("modified", isModified());
  }

  /* ---------- keeping a what-if: the address (#whatif=...) and a perspective file ---------- */
  function whatifData() {
    var data = {};
    if (whatif.semantics !== (page.semantics || "qe")) data.semantics = whatif.semantics;
    if (whatif.perspective !== null) data.perspective = whatif.perspective;
    if (state.asOfDay !== null) data.asOf = state.asOfDay;
    whatif.changes.forEach(function (c) {
      if (c.kind === "credence") (data.credences = data.credences || {})[c.id] = c.value;
      else (data.weights = data.weights || []).push([c.source, c.target, c.value]);
    });
    return data;
  }
  function saveLink() {
    var data = whatifData(), hash = Object.keys(data).length ? "#whatif=" + encodeURIComponent(JSON.stringify(data)) : "";
    if (hash === location.hash || (!hash && !location.hash)) return;
    try { history.replaceState(null, "", location.href.split("#")[0] + hash); } catch (err) { /* sandboxed page */ }
  }
  // Read a what-if from the address: anything that does not name this map's nodes, edges,
  // perspectives or a number in [0, 1] is ignored.
  function readLink() {
    var match = /^#whatif=(.*)$/.exec(location.hash), data;
    if (!match) return;
    try { data = JSON.parse(decodeURIComponent(match[1])); } catch (err) { return; }
    if (!data || typeof data !== "object") return;
    var unit = function (x) { return typeof x === "number" && x >= 0 && x <= 1; };
    if (takeoffSolver.semantics.indexOf(data.semantics) !== -1) whatif.semantics = data.semantics;
    if (typeof data.perspective === "string" && perspectives.has(data.perspective)) whatif.perspective = data.perspective;
    if (data.credences && typeof data.credences === "object") {
      Object.keys(data.credences).forEach(function (id) {
        if (index.has(id) && unit(data.credences[id])) {
          var c = { kind: "credence", id: id, value: data.credences[id] };
          whatif.changes.set(changeKey(c), c);
        }
      });
    }
    if (Array.isArray(data.weights)) {
      data.weights.forEach(function (w) {
        if (Array.isArray(w) && pairs.has(pairKey(w[0], w[1])) && unit(w[2])) {
          var c = { kind: "weight", source: w[0], target: w[1], value: w[2] };
          whatif.changes.set(changeKey(c), c);
        }
      });
    }
    var dates = page.timeline && page.timeline.dates;
    if (typeof data.asOf === "string" && dates && dates.indexOf(data.asOf) !== -1 && dates.indexOf(data.asOf) < dates.length - 1) {
      state.asOf = dates.indexOf(data.asOf);
      state.asOfDay = data.asOf;
      ids.forEach(function (id) { if (isLater(id, state.asOfDay)) state.future.add(id); });
    }
  }
  function solveCurrentFromLink() {
    whatif.perspective = perspectives.has(page.perspective) ? page.perspective : null;
    readLink();
    solveCurrent();
  }

  function yamlString(text) {  // a JSON string is a YAML double-quoted scalar
    return JSON.stringify(String(text)).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  }
  function yamlNumber(x) { var text = String(x); return /e/i.test(text) ? x.toFixed(20).replace(/0+$/, "") : text; }
  /** The what-if in force as a perspective file (claims/perspectives/NAME.yaml). */
  function perspectiveYaml() {
    var ov = overrides(), lines = [];
    var origin = whatif.perspective === null ? "the corpus as written" : "perspective " + whatif.perspective;
    var description = "What-if made in the map, from " + origin + ", with " + whatif.changes.size +
      " change(s) (scored there with the " + whatif.semantics + " semantics" +
      (state.asOfDay !== null ? " as of " + state.asOfDay : "") + ").";
    lines.push("# Saved from the argument map. Put it in claims/perspectives/ and use it with", "#   takeoff score --perspective NAME --semantics " + whatif.semantics +
      (state.asOfDay !== null ? " --as-of " + state.asOfDay : ""));
    lines.push("description: " + yamlString(description));
    if (ov.credences.size) {
      lines.push("credences:");
      Array.from(ov.credences.keys()).sort().forEach(function (id) {
        lines.push("  " + yamlString(id) + ": " + yamlNumber(ov.credences.get(id)));
      });
    }
    if (ov.weights.size) {
      lines.push("weights:");
      Array.from(ov.weights.keys()).sort().forEach(function (key) {
        var pair = JSON.parse(key);
        lines.push("  - source: " + yamlString(pair[0]), "    target: " + yamlString(pair[1]),
                   "    weight: " + yamlNumber(ov.weights.get(key)));
      });
    }
    return lines.join("\n") + "\n";
  }
  function download() {
    var url = URL.createObjectURL(new Blob([perspectiveYaml()], { type: "application/x-yaml" }));
    var link = el("a", { href: url, download: "what-if.yaml" });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  function summaryText() {
    return nodes.length + " nodes · " + edges.length + " edges · strengths: " + whatif.semantics + " semantics";
  }
  function buildWhatif() {
    var select = $("semantics");
    takeoffSolver.semantics.forEach(function (name) {
      select.appendChild(el("option", { value: name, text: name + " (" + takeoffSolver.titles[name] + ")" }));
    });
    select.value = whatif.semantics;
    select.addEventListener("change", function () { setSemantics(select.value); });
    var chooser = $("perspective");
    chooser.appendChild(el("option", { value: "", text: "base (the corpus as written)" }));
    perspectives.forEach(function (p, name) { chooser.appendChild(el("option", { value: name, text: name })); });
    chooser.value = whatif.perspective === null ? "" : whatif.perspective;
    $("perspective-row").hidden = perspectives.size === 0;
    var p = whatif.perspective === null ? null : perspectives.get(whatif.perspective);
    $("perspective-description").textContent = p ? p.description : "";
    chooser.addEventListener("change", function () { setPerspective(chooser.value || null); });
    $("whatif-reset").addEventListener("click", resetAll);
    $("whatif-download").addEventListener("click", download);
    $("summary").textContent = summaryText();
    renderWhatif();
  }

  /* ---------- timeline replay (optional section): as of a date, with the what-if in force ---------- */
  function setAsOf(i) {
    var t = page.timeline, last = t.dates.length - 1;
    state.asOf = i >= last ? null : i;
    state.asOfDay = state.asOf === null ? null : t.dates[i];
    $("timeline").value = String(Math.min(i, last));
    $("timeline").setAttribute("aria-valuetext", timelineText());
    $("timeline-date").textContent = timelineText();
    var was = state.future;
    state.future = new Set();
    ids.forEach(function (id) {
      if (isLater(id, state.asOfDay)) state.future.add(id);
      if (state.future.has(id) !== was.has(id)) entered.add(id);  // its tooltip changes
    });
    rescore();
    restyle();
  }
  function timelineText() {
    var t = page.timeline;
    return state.asOf === null ? "latest (" + t.dates[t.dates.length - 1] + ")" : t.dates[state.asOf];
  }

  function buildTimeline() {
    var t = page.timeline;
    if (!t || !t.dates || t.dates.length < 2) return;
    $("timeline-card").hidden = false;
    var slider = $("timeline");
    slider.max = String(t.dates.length - 1);
    slider.value = String(state.asOf === null ? t.dates.length - 1 : state.asOf);
    $("timeline-date").textContent = timelineText();
    slider.setAttribute("aria-valuetext", timelineText());
    slider.addEventListener("input", function () { setAsOf(Number(slider.value)); });
    $("timeline-reset").addEventListener("click", function () { setAsOf(t.dates.length - 1); });
  }

  /* ---------- keyboard, and tooltips that do not outlive a move of the view ---------- */
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !$("panel").hidden && document.activeElement !== $("search")) { closePanel(); e.preventDefault(); }
  });
  function hideTooltip() {
    var handler = network.interactionHandler;
    if (handler.popup !== undefined) handler.popup.hide();
    handler.popupObj = undefined;
    clearTimeout(handler.popupTimer);
  }
  ["zoom", "dragStart", "animationFinished"].forEach(function (name) { network.on(name, hideTooltip); });

  renderRanking();
  buildFilters();
  buildTimeline();
  buildWhatif();
  applyVisibility(false);
  if (state.future.size) restyle();
  saveLink();

  window.takeoff = { page: page, goTo: goTo, openPanel: openPanel, closePanel: closePanel,
                     setFocus: setFocus, toggleTag: toggleTag, clearFilters: clearFilters,
                     search: search, state: state, renderMarkdown: renderMarkdown,
                     score: score, whatif: whatif, setChange: setChange, undo: undo, resetAll: resetAll,
                     setSemantics: setSemantics, setPerspective: setPerspective, setAsOf: setAsOf,
                     perspectiveYaml: perspectiveYaml, strengthOf: strengthOf, strengthParts: strengthParts,
                     fit: function () { fitWithRoom(); scheduleDetails(); } };
})();
