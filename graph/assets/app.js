/* takeoff-graph page script.
 * Reads the JSON blobs written by graph/html.py and drives vis-network. Every corpus string is
 * put into the DOM with textContent; the only markup inserted is an annotation rendered by
 * markdown-it with raw HTML off and only http(s)/mailto links (see `md` below).
 * Globals `network`, `nodes`, `edges` (as in pyvis pages) and `takeoff` are for tests and users.
 */
"use strict";
(function () {
  function readJSON(id) { return JSON.parse(document.getElementById(id).textContent); }
  // Milestones in ms since navigation start, read by bench/bench_html.py.
  var timings = window.takeoffTimings = { script: performance.now() };

  var page = readJSON("takeoff-page");
  var details = page.details;
  var state = { kinds: new Set(Object.keys(page.kinds)), tags: new Set(), focus: null, depth: 1,
                hidden: new Map(), selected: null, asOf: null, allModels: false, future: new Set() };
  var nodeItems = readJSON("takeoff-nodes"), edgeItems = readJSON("takeoff-edges");
  // Tooltips are plain strings, which vis-network shows as text (never as markup).
  nodeItems.forEach(function (n) { n.title = tooltip(n.id); });
  edgeItems.forEach(function (e) {
    e.title = e.relation + " (weight " + fmt(e.weight) + ")\n" + nodeTitle(e.from) + " → " + nodeTitle(e.to) +
      (e.note ? "\n" + e.note : "");
  });
  // On a large map, labels other than the takeoff paths' are drawn only once zoomed in (see
  // detailsInView): measuring 5,000 labels and arrows up front would double the first draw.
  var labels = {};
  nodeItems.forEach(function (n) {
    labels[n.id] = n.label;
    if (page.large && n.group !== "model") delete n.label;
  });
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
  // graph/links.py); they select the node in this page and never leave it.
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
    return d.title + "\n" + kindLabel(d.kind) + " · " + id + "\ncredence " + fmt(d.credence) +
      " · strength " + fmt(strengthOf(id)) + (d.date ? " · " + d.date : "");
  }
  function strengthOf(id) {
    if (state.asOf !== null && page.timeline && page.timeline.strengths[id]) {
      return page.timeline.strengths[id][state.asOf];
    }
    return details[id].strength;
  }

  /* ---------- the network ---------- */
  var container = $("network");
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, options);
  window.network = network; window.nodes = nodes; window.edges = edges;
  timings.network = performance.now();

  network.once("afterDrawing", function () {
    window.takeoffFirstDraw = timings.firstDraw = performance.now();
    $("loading").hidden = true;
  });

  // vis-network animates frame by frame, not by the clock: on a large map, where a frame takes a
  // few hundred ms, a glide would last seconds, so the camera jumps instead.
  var ANIMATION = page.large ? false : { duration: 450, easingFunction: "easeInOutQuad" };

  /* ---------- large maps: labels and arrows appear when zoomed in ---------- */
  var DETAIL_SCALE = 0.45, MAX_LABELS = 400, labelled = new Set(), arrowsOn = !page.large, detailTimer = null;
  function detailsInView() {
    var near = network.getScale() >= DETAIL_SCALE;
    if (near !== arrowsOn) {
      arrowsOn = near;
      network.setOptions({ edges: { arrows: { to: { enabled: near } } } });
    }
    var want = new Set();
    if (near) {
      var box = container.getBoundingClientRect();
      var a = network.DOMtoCanvas({ x: 0, y: 0 }), b = network.DOMtoCanvas({ x: box.width, y: box.height });
      var positions = network.getPositions();
      for (var id in positions) {
        var p = positions[id];
        if (p.x >= a.x && p.x <= b.x && p.y >= a.y && p.y <= b.y && !state.hidden.get(id)) want.add(id);
        if (want.size > MAX_LABELS) break;
      }
    }
    if (state.selected !== null) {
      want.add(state.selected);
      outEdges[state.selected].forEach(function (eid) { want.add(edges.get(eid).to); });
      inEdges[state.selected].forEach(function (eid) { want.add(edges.get(eid).from); });
    }
    var updates = [];
    labelled.forEach(function (id) { if (!want.has(id)) updates.push({ id: id, label: undefined }); });
    want.forEach(function (id) { if (!labelled.has(id) && details[id].kind !== "model") updates.push({ id: id, label: labels[id] }); });
    labelled = new Set(Array.from(want).filter(function (id) { return details[id].kind !== "model"; }));
    if (updates.length) nodes.update(updates);
  }
  function scheduleDetails() {
    if (!page.large) return;
    clearTimeout(detailTimer);
    detailTimer = setTimeout(detailsInView, 120);
  }
  network.on("zoom", scheduleDetails);
  network.on("dragEnd", scheduleDetails);
  network.on("animationFinished", scheduleDetails);

  network.on("click", function (params) {
    if (params.nodes.length) openPanel(params.nodes[0]);
    else if (!params.edges.length) closePanel();
  });

  /* ---------- summary ---------- */
  var counts = {};
  nodes.forEach(function (n) { counts[n.group] = (counts[n.group] || 0) + 1; });
  $("summary").textContent = nodes.length + " nodes · " + edges.length + " edges" +
    (page.semantics ? " · strengths: " + page.semantics + " semantics" : "");

  /* ---------- ranking of takeoff paths ---------- */
  var RANKING_TOP = 12;
  function renderRanking() {
    var models = nodes.getIds().filter(function (id) { return details[id].kind === "model"; });
    models.sort(function (a, b) { return (strengthOf(b) || 0) - (strengthOf(a) || 0) || nodeTitle(a).localeCompare(nodeTitle(b)); });
    var list = $("ranking");
    list.textContent = "";
    var shown = state.allModels ? models : models.slice(0, RANKING_TOP);
    shown.forEach(function (id) {
      var s = strengthOf(id);
      var bar = el("span", { className: "bar" });
      bar.style.width = Math.max(0, Math.min(1, s || 0)) * 100 + "%";
      var sure = page.robustness && page.robustness.models[id];
      if (sure) {  // the 90% interval drawn on the bar's track (takeoff html --robustness)
        var span = el("span", { className: "interval" });
        span.style.left = sure.low * 100 + "%";
        span.style.width = Math.max(0.5, (sure.high - sure.low) * 100) + "%";
      }
      var button = el("button", { type: "button", className: "rank", "data-id": id, title: nodeTitle(id) }, [
        el("span", { className: "rank-title", text: nodeTitle(id) }),
        el("span", { className: "rank-value", text: fmt(s) }),
        el("span", { className: "bar-track" }, [bar, sure ? span : null]),
        sure ? el("span", { className: "rank-robustness",
                            text: "90% " + fmt(sure.low) + "–" + fmt(sure.high) + " · P(first) " + fmt(sure.p_first) }) : null
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
    if (refit && shown) network.fit({ nodes: Array.from(visible), animation: ANIMATION });
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
    network.setSize();
    network.focus(id, { scale: Math.max(network.getScale(), 1.0), animation: ANIMATION });
  }

  /* ---------- fading: nodes not yet dated (timeline), and all but a selection's neighbours ---------- */
  var EDGE_OPACITY = options.edges.color.opacity;
  function fadeColor(hex, alpha) {
    var v = parseInt(hex.slice(1), 16);
    return "rgba(" + (v >> 16) + "," + ((v >> 8) & 255) + "," + (v & 255) + "," + alpha + ")";
  }
  function restyle() {
    // Dimming around a selection costs an update of every item: small maps only.
    var sel = page.large ? null : state.selected;
    var near = sel !== null ? neighbourhood(sel, 1) : null;
    var nodeUpdates = [], edgeUpdates = [];
    nodes.forEach(function (n) {
      var o = state.future.has(n.id) ? 0.2 : near && !near.has(n.id) ? 0.25 : 1;
      if ((n.opacity === undefined ? 1 : n.opacity) !== o) {
        // vis-network's opacity leaves the label as it was: fade its colour too.
        var ink = (options.groups[n.group] || {}).font ? options.groups[n.group].font.color : options.nodes.font.color;
        nodeUpdates.push({ id: n.id, opacity: o, font: { color: o < 1 ? fadeColor(ink, o + 0.1) : ink } });
      }
    });
    edges.forEach(function (e) {
      var o = state.future.has(e.from) || state.future.has(e.to) ? 0.12
        : near && e.from !== sel && e.to !== sel ? 0.1 : EDGE_OPACITY;
      if ((e.opacity === undefined ? EDGE_OPACITY : e.opacity) !== o) {
        edgeUpdates.push({ id: e.id, opacity: o, color: { color: baseColor[e.id], opacity: o } });
      }
    });
    if (nodeUpdates.length) nodes.update(nodeUpdates);
    if (edgeUpdates.length) edges.update(edgeUpdates);
  }

  /* ---------- side panel ---------- */
  function closePanel() {
    $("panel").hidden = true;
    state.selected = null;
    network.unselectAll();
    restyle();
    scheduleDetails();
  }

  function metric(label, value, bar) {
    var children = [el("span", { className: "metric-label", text: label }), el("span", { className: "metric-value", text: value })];
    if (bar !== undefined) {
      var fill = el("span", { className: "bar" });
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

  function edgeItem(eid, direction) {
    var e = edges.get(eid);
    var other = direction === "out" ? e.to : e.from;
    var rel = el("span", { className: "rel rel-" + e.relation, text: e.relation + " " + fmt(e.weight) });
    var head = el("div", { className: "edge-head" }, [rel, nodeLink(other)]);
    return el("li", { className: "edge" }, [head, e.note ? el("p", { className: "note", text: e.note }) : null]);
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

  function whyItems(id) {
    var entries = page.why && page.why[id];
    if (!entries || !entries.length) return null;
    return el("section", { className: "why" }, [
      el("h3", { text: "Why this strength" }),
      el("p", { className: "hint", text: "What each node adds to it: the strength lost if the node were removed." }),
      el("ol", {}, entries.map(function (w) {
        var via = w.via.length ? "via " + w.via.map(nodeTitle).join(" → ") : "";
        var value = el("span", { className: "why-value " + (w.impact >= 0 ? "up" : "down"),
                                 text: (w.impact >= 0 ? "+" : "−") + Math.abs(w.impact).toFixed(3),
                                 title: "removal impact " + fmt(w.impact) + " · d strength / d credence " + fmt(w.gradient) });
        return el("li", {}, [
          el("div", { className: "why-main" }, [nodeLink(w.node), value]),
          via ? el("div", { className: "why-via", text: via }) : null
        ]);
      }))
    ]);
  }

  function openPanel(id) {
    var d = details[id];
    if (!d) return;
    state.selected = id;
    var body = $("panel-body");
    body.textContent = "";
    body.appendChild(el("div", { className: "panel-kind" }, [
      el("span", { className: "kind-badge kind-" + d.kind, text: kindLabel(d.kind) }),
      el("code", { className: "node-id", text: id })
    ]));
    body.appendChild(el("h2", { className: "panel-title", text: d.title }));
    body.appendChild(el("div", { className: "metrics" }, [
      metric("credence", fmt(d.credence) + (d.uncertainty ? " (" + d.uncertainty + ")" : ""), d.credence),
      metric("strength", fmt(strengthOf(id)), strengthOf(id)),
      d.date ? metric("date", d.date) : null
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
      var items = spec[2].slice().sort(function (a, b) { return edges.get(b).weight - edges.get(a).weight; });
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
  $("panel-close").addEventListener("click", closePanel);

  /* ---------- search ---------- */
  var index = nodes.getIds().map(function (id) {
    return { id: id, hay: (String(id) + " " + details[id].title).toLowerCase(), kind: details[id].kind };
  });
  var kindRank = { model: 0, claim: 1, evidence: 2 };
  var results = [], active = 0;

  function search(query) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    var found = index.filter(function (item) { return item.hay.indexOf(q) !== -1; });
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

  /* ---------- timeline replay (optional section) ---------- */
  function sizeFor(kind, s) {
    var spec = page.sizes[kind] || page.sizes.claim;
    return Math.round((spec[0] + spec[1] * Math.max(0, Math.min(1, s === null || s === undefined ? 0 : s))) * 10) / 10;
  }

  function setAsOf(i) {
    var t = page.timeline, last = t.dates.length - 1;
    state.asOf = i >= last ? null : i;
    $("timeline").value = String(Math.min(i, last));
    $("timeline-date").textContent = state.asOf === null ? "latest (" + t.dates[last] + ")" : t.dates[i];
    var day = state.asOf === null ? null : t.dates[i];
    var updates = [];
    state.future = new Set();
    nodes.getIds().forEach(function (id) {
      var d = details[id], s = strengthOf(id);
      if (day !== null && d.date !== null && d.date > day) state.future.add(id);
      updates.push({ id: id, size: sizeFor(d.kind, s === undefined ? d.strength : s), title: tooltip(id) });
    });
    nodes.update(updates);
    restyle();
    renderRanking();
    if (state.selected !== null) openPanel(state.selected);
  }

  function buildTimeline() {
    var t = page.timeline;
    if (!t || !t.dates || t.dates.length < 2) return;
    $("timeline-card").hidden = false;
    var slider = $("timeline");
    slider.max = String(t.dates.length - 1);
    slider.value = slider.max;
    $("timeline-date").textContent = "latest (" + t.dates[t.dates.length - 1] + ")";
    slider.addEventListener("input", function () { setAsOf(Number(slider.value)); });
    $("timeline-reset").addEventListener("click", function () { setAsOf(t.dates.length - 1); });
  }

  renderRanking();
  buildFilters();
  buildTimeline();
  applyVisibility(false);

  window.takeoff = { page: page, goTo: goTo, openPanel: openPanel, closePanel: closePanel,
                     setFocus: setFocus, toggleTag: toggleTag, clearFilters: clearFilters,
                     search: search, state: state, renderMarkdown: renderMarkdown };
})();
