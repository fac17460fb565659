/* takeoff-graph solver: the strengths of graph/solving/propagation.py, in the page.
 *
 * A semantics is an aggregation of the parents' strengths paired with an influence function of
 * the credence and that aggregate (qe: sum + quadratic maximum; dfquad: product + linear;
 * eb: sum + exponential). The strengths are the limit of ds/dt = f(s) - s from the credences.
 * The method is the Python solver's, step for step, so that both reach the same numbers:
 * strongly connected components grouped into stages by generation of the condensation (acyclic
 * and cyclic apart); an acyclic stage evaluated once; a cyclic stage certified by interval
 * iteration and a weighted max-norm contraction bound, then iterated inside the certified box,
 * else integrated with adaptive Bogacki-Shampine 3(2) until a contraction ball is certified.
 * Same constants, same tolerance (1e-9), same step budget (10,000 evaluations per stage).
 *
 * window.takeoffSolver.build(n, src, dst, rel) -> a plan (structure only, built once);
 * window.takeoffSolver.solve(plan, semantics, base, weight) -> {s, converged, residual, ...};
 * window.takeoffSolver.isLater(date, day): whether a node dated `date` is left out as of `day`
 * (a month date counts from the month's last day, as in Python).
 */
"use strict";
(function () {
  var TOLERANCE = 1e-9, MAX_STEPS = 10000, MAX_BOX_STEPS = 30, NORM_ITERATIONS = [4, 2];
  var ODE_ATOL = 1e-4, ODE_RELATIVE = 0.1, ODE_MAX_STEP = 2.0, BALL_START = 1e-2;
  var BS_A = [0.5, 0.75], BS_B = [2 / 9, 1 / 3, 4 / 9], BS_E = [-5 / 72, 1 / 12, 1 / 9, -1 / 8];
  var PEAK = 1 / Math.sqrt(3);

  /* ---------- the plan: stages of the condensation (structure only) ---------- */

  // Strongly connected components (iterative Tarjan); returns a component label per node.
  function components(n, outPtr, outDst) {
    var index = new Int32Array(n).fill(-1), low = new Int32Array(n), onStack = new Uint8Array(n);
    var label = new Int32Array(n).fill(-1), stack = [], call = [], next = 0, count = 0;
    for (var root = 0; root < n; root++) {
      if (index[root] !== -1) continue;
      call.push(root, outPtr[root]);
      index[root] = low[root] = next++; stack.push(root); onStack[root] = 1;
      while (call.length) {
        var v = call[call.length - 2], i = call[call.length - 1];
        if (i < outPtr[v + 1]) {
          call[call.length - 1] = i + 1;
          var w = outDst[i];
          if (index[w] === -1) {
            index[w] = low[w] = next++; stack.push(w); onStack[w] = 1;
            call.push(w, outPtr[w]);
          } else if (onStack[w] && index[w] < low[v]) low[v] = index[w];
          continue;
        }
        call.length -= 2;
        if (call.length) { var parent = call[call.length - 2]; if (low[v] < low[parent]) low[parent] = low[v]; }
        if (low[v] === index[v]) {
          var x;
          do { x = stack.pop(); onStack[x] = 0; label[x] = count; } while (x !== v);
          count++;
        }
      }
    }
    return { label: label, count: count };
  }

  function build(n, src, dst, rel) {
    var m = src.length, e, i;
    var outPtr = new Int32Array(n + 1), outDst = new Int32Array(m), fill = new Int32Array(n);
    for (e = 0; e < m; e++) outPtr[src[e] + 1]++;
    for (i = 0; i < n; i++) outPtr[i + 1] += outPtr[i];
    for (e = 0; e < m; e++) outDst[outPtr[src[e]] + fill[src[e]]++] = dst[e];
    var comp = components(n, outPtr, outDst), label = comp.label, count = comp.count;
    var size = new Int32Array(count), compCyclic = new Uint8Array(count);
    for (i = 0; i < n; i++) size[label[i]]++;
    for (i = 0; i < count; i++) compCyclic[i] = size[i] > 1 ? 1 : 0;
    for (e = 0; e < m; e++) if (src[e] === dst[e]) compCyclic[label[src[e]]] = 1;
    // Generation of each component: longest path from a source component (Kahn, as in Python).
    var seen = new Set(), succ = [], indegree = new Int32Array(count), level = new Int32Array(count);
    for (i = 0; i < count; i++) succ.push([]);
    for (e = 0; e < m; e++) {
      var a = label[src[e]], b = label[dst[e]], key = a * count + b;
      if (a !== b && !seen.has(key)) { seen.add(key); succ[a].push(b); indegree[b]++; }
    }
    var queue = [];
    for (i = 0; i < count; i++) if (!indegree[i]) queue.push(i);
    for (var q = 0; q < queue.length; q++) {
      var c = queue[q];
      succ[c].forEach(function (d) {
        if (level[c] + 1 > level[d]) level[d] = level[c] + 1;
        if (--indegree[d] === 0) queue.push(d);
      });
    }
    // Stages: two per generation, acyclic first; nodes in index order within a stage.
    var cyclic = new Uint8Array(n), stageKey = new Int32Array(n), keys = new Set();
    for (i = 0; i < n; i++) {
      cyclic[i] = compCyclic[label[i]];
      stageKey[i] = level[label[i]] * 2 + cyclic[i];
      keys.add(stageKey[i]);
    }
    var sortedKeys = Array.from(keys).sort(function (x, y) { return x - y; });
    var stageOf = new Int32Array(n), local = new Int32Array(n), keyStage = new Map();
    var stages = sortedKeys.map(function (key, k) {
      keyStage.set(key, k);
      return { cyclic: key % 2 === 1, nodes: [], edges: [] };
    });
    for (i = 0; i < n; i++) {
      var st = stages[keyStage.get(stageKey[i])];
      stageOf[i] = keyStage.get(stageKey[i]);
      local[i] = st.nodes.length;
      st.nodes.push(i);
    }
    for (e = 0; e < m; e++) stages[stageOf[dst[e]]].edges.push(e);
    stages.forEach(function (st, k) {
      // Edges grouped by (row, relation), in edge order within a group (as the Python plan).
      st.edges.sort(function (x, y) { return (local[dst[x]] * 2 + rel[x]) - (local[dst[y]] * 2 + rel[y]) || x - y; });
      var inner = st.edges.filter(function (x) { return stageOf[src[x]] === k; });
      var outer = st.edges.filter(function (x) { return stageOf[src[x]] !== k; });
      st.k = st.nodes.length;
      st.nodes = Int32Array.from(st.nodes);
      st.int = segments(inner, function (x) { return local[src[x]]; }, dst, rel, local);
      st.ext = segments(outer, function (x) { return src[x]; }, dst, rel, local);
      delete st.edges;
    });
    return { n: n, m: m, src: src, dst: dst, rel: rel, cyclic: cyclic, stages: stages, outPtr: outPtr };
  }

  function segments(list, source, dst, rel, local) {
    var len = list.length, seg = { len: len, eid: new Int32Array(len), src: new Int32Array(len),
                                   row: new Int32Array(len), rel: new Uint8Array(len), sign: new Float64Array(len) };
    for (var j = 0; j < len; j++) {
      var e = list[j];
      seg.eid[j] = e; seg.src[j] = source(e); seg.row[j] = local[dst[e]]; seg.rel[j] = rel[e];
      seg.sign[j] = rel[e] === 0 ? 1 : -1;
    }
    return seg;
  }

  /* ---------- aggregations ---------- */

  // Sum: E = sum u*s (supporters) - sum u*s (attackers).
  var SUM = {
    external: function (st, s, u) {
      var out = new Float64Array(st.k), ext = st.ext;
      for (var j = 0; j < ext.len; j++) out[ext.row[j]] += ext.sign[j] * u[ext.eid[j]] * s[ext.src[j]];
      return out;
    },
    value: function (st, c, u, x) {
      var seg = st.int, m = new Float64Array(st.k), a = new Float64Array(st.k), j;
      for (j = 0; j < seg.len; j++) m[seg.row[j]] += seg.sign[j] * u[seg.eid[j]] * x[seg.src[j]];
      for (j = 0; j < st.k; j++) a[j] = c[j] + m[j];
      return a;
    },
    box: function (st, c, u, lo, hi) {
      var seg = st.int, k = st.k, mid = new Float64Array(k), rad = new Float64Array(k), j;
      for (j = 0; j < seg.len; j++) {
        var uj = u[seg.eid[j]], sj = seg.src[j];
        mid[seg.row[j]] += seg.sign[j] * uj * (lo[sj] + hi[sj]);
        rad[seg.row[j]] += uj * (hi[sj] - lo[sj]);
      }
      var aLo = new Float64Array(k), aHi = new Float64Array(k);
      for (j = 0; j < k; j++) { aLo[j] = c[j] + 0.5 * (mid[j] - rad[j]); aHi[j] = c[j] + 0.5 * (mid[j] + rad[j]); }
      return { lo: aLo, hi: aHi, extra: null };
    },
    bound: function (st, c, u, extra, slope) {
      var seg = st.int, coef = new Float64Array(seg.len);
      for (var j = 0; j < seg.len; j++) coef[j] = u[seg.eid[j]];
      return boundMatrix(st, coef, slope);
    }
  };

  // Product: D = v_s - v_a with v = 1 - prod(1 - u*s) over supporters / attackers.
  var PRODUCT = {
    external: function (st, s, u) {
      var ps = new Float64Array(st.k).fill(1), pa = new Float64Array(st.k).fill(1), ext = st.ext;
      for (var j = 0; j < ext.len; j++) {
        var f = 1 - u[ext.eid[j]] * s[ext.src[j]];
        if (ext.rel[j] === 0) ps[ext.row[j]] *= f; else pa[ext.row[j]] *= f;
      }
      return [ps, pa];
    },
    totals: function (st, c, u, x) {
      var seg = st.int, k = st.k, qs = new Float64Array(k).fill(1), qa = new Float64Array(k).fill(1);
      var q = new Float64Array(seg.len), j;
      for (j = 0; j < seg.len; j++) {
        q[j] = 1 + x[seg.src[j]] * -u[seg.eid[j]];
        if (seg.rel[j] === 0) qs[seg.row[j]] *= q[j]; else qa[seg.row[j]] *= q[j];
      }
      var ps = new Float64Array(k), pa = new Float64Array(k);
      for (j = 0; j < k; j++) {
        ps[j] = seg.len ? c[0][j] * qs[j] : c[0][j];
        pa[j] = seg.len ? c[1][j] * qa[j] : c[1][j];
      }
      return { ps: ps, pa: pa, q: q };
    },
    value: function (st, c, u, x) {
      var t = PRODUCT.totals(st, c, u, x), a = new Float64Array(st.k);
      for (var j = 0; j < st.k; j++) a[j] = t.pa[j] - t.ps[j];
      return a;
    },
    box: function (st, c, u, lo, hi) {
      var tl = PRODUCT.totals(st, c, u, lo), th = PRODUCT.totals(st, c, u, hi), k = st.k;
      var aLo = new Float64Array(k), aHi = new Float64Array(k);
      for (var j = 0; j < k; j++) { aLo[j] = th.pa[j] - tl.ps[j]; aHi[j] = tl.pa[j] - th.ps[j]; }
      return { lo: aLo, hi: aHi, extra: tl };
    },
    bound: function (st, c, u, extra, slope) {
      // d v / d x_j = u_j prod_{k != j}(1 - u_k x_k) is largest at lo, where it is the group's
      // product over this factor.
      var seg = st.int, coef = new Float64Array(seg.len);
      for (var j = 0; j < seg.len; j++) {
        var group = seg.rel[j] === 0 ? extra.ps[seg.row[j]] : extra.pa[seg.row[j]];
        var others = extra.q[j] > 0 ? group / extra.q[j] : 1;
        coef[j] = Math.min(others, 1) * u[seg.eid[j]];
      }
      return boundMatrix(st, coef, slope);
    }
  };

  function boundMatrix(st, coef, slope) {
    var seg = st.int;
    return function (d) {
      var y = new Float64Array(st.k), j;
      for (j = 0; j < seg.len; j++) y[seg.row[j]] += coef[j] * d[seg.src[j]];
      for (j = 0; j < st.k; j++) y[j] *= slope[j];
      return y;
    };
  }

  /* ---------- influence functions ---------- */

  function h(x) { return x * x / (1 + x * x); }
  function hPrime(x) { return 2 * x / ((1 + x * x) * (1 + x * x)); }
  function clip(x, a, b) { return Math.min(Math.max(x, a), b); }
  function expit(x) { return 1 / (1 + Math.exp(-x)); }

  var QUADRATIC = {
    value: function (w, a) { return w + (a > 0 ? 1 - w : -w) * h(a); },
    maxSlope: function (w, lo, hi) {
      var up = hPrime(clip(PEAK, Math.max(lo, 0), Math.max(hi, 0)));
      var down = hPrime(clip(PEAK, Math.max(-hi, 0), Math.max(-lo, 0)));
      return Math.max(hi > 0 ? (1 - w) * up : 0, lo < 0 ? w * down : 0);
    }
  };
  var LINEAR = {
    value: function (w, a) { return w + (a > 0 ? 1 - w : w) * a; },
    maxSlope: function (w, lo, hi) { return lo > 0 ? 1 - w : hi <= 0 ? w : Math.max(w, 1 - w); }
  };
  var EXPONENTIAL = {
    // 1 - (1-w^2)/(1 + w e^E), written as w + w(1-w) expm1(E)/(1 + w e^E) (see Python).
    value: function (w, a) {
      a = clip(a, -700, 700);
      return w + w * (1 - w) * Math.expm1(a) / (1 + w * Math.exp(a));
    },
    maxSlope: function (w, lo, hi) {
      var logw = Math.log(w), z = clip(0, lo + logw, hi + logw);
      return (1 - w * w) * expit(z) * expit(-z);
    }
  };

  var SEMANTICS = {
    qe: { aggregation: SUM, influence: QUADRATIC, title: "quadratic energy" },
    dfquad: { aggregation: PRODUCT, influence: LINEAR, title: "DF-QuAD" },
    eb: { aggregation: SUM, influence: EXPONENTIAL, title: "Euler-based" }
  };

  /* ---------- one stage with its external parents fixed ---------- */

  function Stage(st, sem, s, base, u) {
    this.st = st; this.agg = sem.aggregation; this.infl = sem.influence; this.u = u;
    this.w = new Float64Array(st.k);
    for (var j = 0; j < st.k; j++) this.w[j] = base[st.nodes[j]];
    this.c = this.agg.external(st, s, u);
  }
  Stage.prototype.f = function (x) {
    var a = this.agg.value(this.st, this.c, this.u, x), out = new Float64Array(this.st.k);
    for (var j = 0; j < this.st.k; j++) out[j] = clip(this.infl.value(this.w[j], a[j]), 0, 1);
    return out;
  };
  Stage.prototype.box = function (lo, hi) { return this.agg.box(this.st, this.c, this.u, lo, hi); };
  Stage.prototype.boxImage = function (agg) {
    var k = this.st.k, lo = new Float64Array(k), hi = new Float64Array(k);
    for (var j = 0; j < k; j++) {
      lo[j] = clip(this.infl.value(this.w[j], agg.lo[j]), 0, 1);
      hi[j] = clip(this.infl.value(this.w[j], agg.hi[j]), 0, 1);
    }
    return [lo, hi];
  };
  Stage.prototype.jacobianBound = function (lo, hi, agg) {
    agg = agg || this.box(lo, hi);
    var slope = new Float64Array(this.st.k);
    for (var j = 0; j < this.st.k; j++) slope[j] = this.infl.maxSlope(this.w[j], agg.lo[j], agg.hi[j]);
    return this.agg.bound(this.st, this.c, this.u, agg.extra, slope);
  };

  function maxAbsDiff(a, b) {
    var r = 0;
    for (var j = 0; j < a.length; j++) { var v = Math.abs(a[j] - b[j]); if (v > r) r = v; }
    return r;
  }
  function maxOf(a) { var r = 0; for (var j = 0; j < a.length; j++) if (a[j] > r) r = a[j]; return r; }
  function clipInto(x, lo, hi) {
    var out = new Float64Array(x.length);
    for (var j = 0; j < x.length; j++) out[j] = Math.min(Math.max(x[j], lo[j]), hi[j]);
    return out;
  }

  // L = max (B d)_i / d_i after a few power iterations tuning the weights d > 0.
  function normBound(B, d, iterations) {
    var j;
    for (var it = 0; it < iterations; it++) {
      var y = B(d), top = maxOf(y);
      if (top === 0) return [0, new Float64Array(d.length).fill(1)];
      d = new Float64Array(d.length);
      for (j = 0; j < y.length; j++) d[j] = y[j] / top + 1e-3;
    }
    var z = B(d), L = -Infinity;
    for (j = 0; j < z.length; j++) L = Math.max(L, z[j] / d[j]);
    return [L, d];
  }

  function certifiedIteration(stage, x, tolerance, budget) {
    var k = x.length, lo = new Float64Array(k), hi = new Float64Array(k).fill(1);
    var d = new Float64Array(k).fill(1), history = [], evaluations = 0, settled = false;
    while (evaluations + 3 <= budget && history.length < MAX_BOX_STEPS) {
      var agg = stage.box(lo, hi);
      var nb = normBound(stage.jacobianBound(lo, hi, agg), d, NORM_ITERATIONS[history.length ? 1 : 0]);
      var L = nb[0]; d = nb[1];
      if (L < 1) return { x: x, box: [lo, hi], evaluations: evaluations };
      history.push(L);
      if (history.length >= 4 && (history[history.length - 2] - L) * 8 < L - 1) break;
      var image = stage.boxImage(agg);
      for (var j = 0; j < k; j++) { lo[j] = Math.max(lo[j], image[0][j]); hi[j] = Math.min(hi[j], image[1][j]); }
      evaluations += 2;
      if (!settled) {
        var fx = stage.f(x);
        evaluations += 1;
        settled = maxAbsDiff(fx, x) < tolerance;
        if (!settled) x = clipInto(fx, lo, hi);
      }
    }
    return { x: x, box: null, evaluations: evaluations };
  }

  function picard(stage, x, lo, hi, tolerance, budget) {
    var limit = Math.max(budget, 1);
    for (var step = 1; step <= limit; step++) {
      var fx = stage.f(x);
      if (maxAbsDiff(fx, x) < tolerance) return { x: x, evaluations: step, ok: true };
      x = clipInto(fx, lo, hi);
    }
    return { x: x, evaluations: limit, ok: false };
  }

  function certifyBall(stage, x, r, d, iterations) {
    var nb = normBound(stage.jacobianBound(x, x), d, iterations), L0 = nb[0], j;
    d = nb[1];
    if (L0 >= 1) return { box: null, d: d };
    var R = 0;
    for (j = 0; j < x.length; j++) R = Math.max(R, Math.abs(r[j]) / d[j]);
    var shares = [0.25, 0.5, 0.75];
    for (var i = 0; i < shares.length; i++) {
      var target = L0 + shares[i] * (1 - L0), rho = 2 * R / (1 - target);
      var lo = new Float64Array(x.length), hi = new Float64Array(x.length);
      for (j = 0; j < x.length; j++) { lo[j] = clip(x[j] - rho * d[j], 0, 1); hi[j] = clip(x[j] + rho * d[j], 0, 1); }
      var y = stage.jacobianBound(lo, hi)(d), L = 0;
      for (j = 0; j < y.length; j++) L = Math.max(L, y[j] / d[j]);
      if (L <= target) return { box: [lo, hi], d: d };
    }
    return { box: null, d: d };
  }

  function axpy(x, h, terms) {  // clip(x + h * sum(c_i k_i), 0, 1)
    var out = new Float64Array(x.length);
    for (var j = 0; j < x.length; j++) {
      var v = 0;
      for (var t = 0; t < terms.length; t += 2) v += terms[t] * terms[t + 1][j];
      out[j] = clip(x[j] + h * v, 0, 1);
    }
    return out;
  }
  function drift(stage, y) {
    var fy = stage.f(y), out = new Float64Array(y.length);
    for (var j = 0; j < y.length; j++) out[j] = fy[j] - y[j];
    return out;
  }

  function ode(stage, x, tolerance, budget) {
    var evaluations = 1, k1 = drift(stage, x), residual = maxOf(k1.map(Math.abs));
    var h = 0.5, nextTry = BALL_START, attempted = false, d = new Float64Array(x.length).fill(1);
    while (residual >= tolerance) {
      if (residual <= nextTry) {
        nextTry = residual / 10;
        var ball = certifyBall(stage, x, k1, d, NORM_ITERATIONS[attempted ? 1 : 0]);
        d = ball.d; attempted = true;
        if (ball.box) {
          var p = picard(stage, x, ball.box[0], ball.box[1], tolerance, budget - evaluations);
          return { x: p.x, evaluations: evaluations + p.evaluations, ok: p.ok, ball: true };
        }
      }
      if (evaluations + 3 > budget) return { x: x, evaluations: evaluations, ok: false, ball: false };
      var y1 = axpy(x, h, [BS_A[0], k1]), k2 = drift(stage, y1);
      var y2 = axpy(x, h, [BS_A[1], k2]), k3 = drift(stage, y2);
      var next = axpy(x, h, [BS_B[0], k1, BS_B[1], k2, BS_B[2], k3]), k4 = drift(stage, next);
      evaluations += 3;
      var error = 0;
      for (var j = 0; j < x.length; j++) {
        error = Math.max(error, Math.abs(BS_E[0] * k1[j] + BS_E[1] * k2[j] + BS_E[2] * k3[j] + BS_E[3] * k4[j]));
      }
      error *= h;
      var atol = Math.min(ODE_ATOL, ODE_RELATIVE * residual);
      if (error <= atol) { x = next; k1 = k4; residual = maxOf(k1.map(Math.abs)); }
      h = Math.min(ODE_MAX_STEP, h * Math.min(4, Math.max(0.2, 0.9 * Math.pow(atol / Math.max(error, 1e-300), 1 / 3))));
    }
    return { x: x, evaluations: evaluations, ok: true, ball: false };
  }

  function solveStage(st, sem, s, base, u, tolerance, budget) {
    var stage = new Stage(st, sem, s, base, u), j;
    if (!st.cyclic) {
      var x = new Float64Array(st.k);
      for (j = 0; j < st.k; j++) x[j] = s[st.nodes[j]];
      return { x: stage.f(x), evaluations: 1, ok: true, method: null };
    }
    var x0 = new Float64Array(st.k);
    for (j = 0; j < st.k; j++) x0[j] = base[st.nodes[j]];
    var c = certifiedIteration(stage, x0, tolerance, budget);
    if (c.box) {
      var p = picard(stage, clipInto(c.x, c.box[0], c.box[1]), c.box[0], c.box[1], tolerance, budget - c.evaluations);
      return { x: p.x, evaluations: c.evaluations + p.evaluations, ok: p.ok, method: "certified" };
    }
    var o = ode(stage, x0, tolerance, budget - c.evaluations);
    return { x: o.x, evaluations: c.evaluations + o.evaluations, ok: o.ok, method: o.ball ? "ode+ball" : "ode" };
  }

  /**
   * Strengths of every node: the limit of ds/dt = f(s) - s from the credences.
   * plan: from build(); semantics: "qe" | "dfquad" | "eb"; base: credences (one per node);
   * weight: edge weights (one per edge, in the order given to build). Returns {s (Float64Array),
   * converged, residual, iterations, methods (per cyclic stage)}.
   */
  function solve(plan, semantics, base, weight, options) {
    var sem = SEMANTICS[semantics];
    if (!sem) throw new Error("unknown semantics " + JSON.stringify(semantics) + " (qe, dfquad or eb)");
    options = options || {};
    var tolerance = options.tolerance || TOLERANCE, budget = options.maxSteps || MAX_STEPS;
    var s = Float64Array.from(base), info = { converged: true, iterations: 0, residual: 0, methods: [] };
    plan.stages.forEach(function (st) {
      var r = solveStage(st, sem, s, base, weight, tolerance, budget);
      for (var j = 0; j < st.k; j++) s[st.nodes[j]] = r.x[j];
      info.iterations += r.evaluations;
      info.converged = info.converged && r.ok;
      if (r.method) info.methods.push(r.method);
    });
    plan.stages.forEach(function (st) {
      if (!st.cyclic) return;
      var x = new Float64Array(st.k);
      for (var j = 0; j < st.k; j++) x[j] = s[st.nodes[j]];
      info.residual = Math.max(info.residual, maxAbsDiff(new Stage(st, sem, s, base, weight).f(x), x));
    });
    info.converged = info.converged && info.residual < tolerance;
    info.s = s;
    return info;
  }

  /* ---------- the as-of rule (graph/solving/timeline.py) ---------- */

  // The day a node's date counts from, as "YYYY-MM-DD" (so days compare as strings): a month
  // date "YYYY-MM" counts from the month's last day, as graph.core.model.MonthDate compares.
  var MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  function countsFrom(date) {
    if (typeof date !== "string" || !/^\d{4}-\d{2}$/.test(date)) return date;
    var year = +date.slice(0, 4), month = +date.slice(5, 7);
    var leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    return date + "-" + (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]);
  }
  // Whether a node dated `date` (null: undated) is left out as of `day` (null: no date).
  function isLater(date, day) {
    return day !== null && date !== null && date !== undefined && countsFrom(date) > day;
  }

  window.takeoffSolver = { build: build, solve: solve, semantics: Object.keys(SEMANTICS),
                           titles: { qe: SEMANTICS.qe.title, dfquad: SEMANTICS.dfquad.title, eb: SEMANTICS.eb.title },
                           TOLERANCE: TOLERANCE, MAX_STEPS: MAX_STEPS, countsFrom: countsFrom, isLater: isLater };
})();
