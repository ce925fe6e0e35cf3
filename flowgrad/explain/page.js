"use strict";
// The explain page: DATA (written by flowgrad.explain) holds the laid-out graph, the forward order
// and the engine's backward steps. The page's state is a function of one step index, so stepping
// back recomputes from the start instead of undoing.
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const nodes = new Map(DATA.nodes.map((n) => [n.id, n]));
  const edges = new Map(DATA.edges.map((e) => [e.id, e]));
  const F = DATA.forward.length;
  const B = DATA.backward.length;
  const expected = new Map(); // node id -> number of contributions it will receive
  for (const step of DATA.backward) {
    for (const c of step.edges) {
      const dst = edges.get(c.edge).src; // gradients flow against the edge, to its source
      expected.set(dst, (expected.get(dst) || 0) + 1);
    }
  }
  let stepIndex = 0;
  let selected = null;
  const el = (tag, attrs, parent) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  };
  const fmt = (x) => {
    if (!Number.isFinite(x)) return String(x);
    const s = Number(x.toPrecision(6)).toString();
    return s === "-0" ? "0" : s;
  };
  const fmtArray = (xs) => (xs.length === 1 ? fmt(xs[0]) : "[" + xs.map(fmt).join(", ") + "]");

  // ----- drawing ------------------------------------------------------------------------------------
  const svg = el("svg", { width: DATA.width, height: DATA.height, viewBox: `0 0 ${DATA.width} ${DATA.height}`, id: "graph-svg" });
  svg.style.maxWidth = "100%"; // a large graph shrinks to the pane; a small one keeps its size
  svg.style.height = "auto";
  document.getElementById("graph").appendChild(svg);
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, defs);
  el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a96ad" }, marker);
  const edgeViews = new Map();
  for (const e of DATA.edges) {
    const g = el("g", { class: "edge", "data-id": e.id }, svg);
    const p = e.points;
    let d = `M ${p[0][0]} ${p[0][1]}`;
    if (p.length === 4) d += ` C ${p[1][0]} ${p[1][1]}, ${p[2][0]} ${p[2][1]}, ${p[3][0]} ${p[3][1]}`;
    else for (let i = 1; i < p.length; i++) d += ` L ${p[i][0]} ${p[i][1]}`;
    el("path", { d, "marker-end": "url(#arrow)" }, g);
    const last = p[p.length - 1];
    const label = el("text", { x: (p[0][0] + last[0]) / 2 - 10, y: (p[0][1] + last[1]) / 2 - 6 }, g);
    edgeViews.set(e.id, { g, label });
  }
  const nodeViews = new Map();
  for (const n of DATA.nodes) {
    const g = el("g", { class: `node ${n.kind}`, "data-id": n.id, tabindex: 0 }, svg);
    el("rect", { x: n.x - n.w / 2, y: n.y - n.h / 2, width: n.w, height: n.h }, g);
    const lines = [];
    for (let i = 0; i < 4; i++) lines.push(el("text", { x: n.x, y: n.y - n.h / 2 + 16 + 15 * i, "text-anchor": "middle" }, g));
    lines[3].setAttribute("class", "grad");
    g.addEventListener("click", () => select(n.id));
    nodeViews.set(n.id, { g, lines });
  }

  // ----- state for one step index --------------------------------------------------------------------
  function stateAt(s) {
    const computed = new Set(DATA.forward.slice(0, Math.min(s, F)));
    const received = new Map(); // node id -> list of {numbers, text, from}
    let current = null;
    let activeEdges = [];
    if (s <= F) {
      current = s > 0 ? DATA.forward[s - 1] : null;
    } else {
      for (let j = 0; j < s - F; j++) {
        const step = DATA.backward[j];
        for (const c of step.edges) {
          const dst = edges.get(c.edge).src;
          if (!received.has(dst)) received.set(dst, []);
          received.get(dst).push({ numbers: c.contributionNumbers, text: c.contribution, from: step.node });
        }
      }
      const step = DATA.backward[s - F - 1];
      current = step.node;
      activeEdges = step.edges;
    }
    return { computed, received, current, activeEdges };
  }

  function gradientOf(id, received) {
    // The seed (the output's own gradient) or the sum of what has arrived so far.
    const n = nodes.get(id);
    if (id === DATA.output) return { numbers: n.gradNumbers, text: n.grad, complete: true, parts: [] };
    const parts = received.get(id) || [];
    if (!parts.length) return null;
    let numbers = null;
    if (parts.every((p) => p.numbers)) {
      numbers = parts[0].numbers.slice();
      for (const p of parts.slice(1)) for (let i = 0; i < numbers.length; i++) numbers[i] += p.numbers[p.numbers.length === 1 ? 0 : i];
    }
    const complete = parts.length === (expected.get(id) || 0);
    const text = numbers ? fmtArray(numbers) : complete ? n.grad : "(partial)";
    return { numbers, text, complete, parts };
  }

  function render() {
    const st = stateAt(stepIndex);
    for (const [id, view] of nodeViews) {
      const n = nodes.get(id);
      const [l0, l1, l2, l3] = view.lines;
      l0.textContent = n.name ? `${n.name}: ${n.op}` : n.op;
      l1.textContent = n.shapeText;
      const known = n.kind !== "op" || st.computed.has(id);
      l2.textContent = known ? `value ${n.valueBox}` : "";
      const grad = stepIndex > F ? gradientOf(id, st.received) : null;
      l3.textContent = grad ? `grad ${grad.numbers && grad.numbers.length <= 4 ? fmtArray(grad.numbers) : grad.complete ? n.gradBox : "(partial)"}` : "";
      view.g.dataset.shownGrad = grad && grad.numbers ? JSON.stringify(grad.numbers) : "";
      view.g.dataset.gradComplete = grad && grad.complete ? "1" : "0";
      view.g.classList.toggle("done-forward", known);
      view.g.classList.toggle("current", id === st.current);
      view.g.classList.toggle("selected", id === selected);
    }
    const active = new Set(st.activeEdges.map((c) => c.edge));
    for (const [id, view] of edgeViews) {
      view.g.classList.toggle("active", active.has(id));
      const c = st.activeEdges.find((x) => x.edge === id);
      view.label.textContent = c ? (c.local === null ? c.contributionBox : `${c.upstream} x ${c.local} = ${c.contribution}`) : "";
    }
    describe(st);
    document.getElementById("phase").textContent =
      stepIndex === 0 ? "start" : stepIndex <= F ? `forward ${stepIndex}/${F}` : `backward ${stepIndex - F}/${B}`;
    document.getElementById("back").disabled = stepIndex === 0;
    document.getElementById("next").disabled = stepIndex === F + B;
    document.getElementById("to-end").disabled = stepIndex === F + B;
    if (selected) showNode(selected, st);
  }

  function describe(st) {
    const box = document.getElementById("step");
    box.textContent = "";
    const line = (text, tag) => {
      const e = document.createElement(tag || "div");
      e.textContent = text;
      box.appendChild(e);
    };
    if (stepIndex === 0) {
      line("Press Next to run the forward pass one node at a time, then the backward pass in the engine's order.");
      return;
    }
    const n = nodes.get(st.current);
    if (stepIndex <= F) {
      line(`Forward: ${n.name || n.op} = ${n.op}(${n.inputs.map((i) => nodes.get(i).name || nodes.get(i).op).join(", ")})`);
      if (n.source) line(`${n.source.file}:${n.source.line}  ${n.source.code}`, "code");
      line(`value ${n.valueShort}`);
      return;
    }
    const g = gradientOf(st.current, st.received);
    line(`Backward at ${n.name || n.op}: dL/d(${n.name || n.op}) = ${g ? g.text : n.grad}`);
    if (st.activeEdges.length) line("to each input: upstream gradient x local derivative = contribution", "em");
    if (g && g.parts.length > 1) line(`a fan-out: the sum of ${g.parts.map((p) => p.text).join(" + ")}`);
    for (const c of st.activeEdges) {
      const src = nodes.get(edges.get(c.edge).src);
      if (c.local === null) line(`to ${src.name || src.op}: the vector-Jacobian product = ${c.contribution}`);
      else line(`to ${src.name || src.op}: ${c.upstream} x ${c.local} = ${c.contribution}`);
    }
  }

  function showNode(id, st) {
    const n = nodes.get(id);
    const panel = document.getElementById("node-info");
    panel.textContent = "";
    const add = (label, text) => {
      const h = document.createElement("h2");
      h.textContent = label;
      panel.appendChild(h);
      const pre = document.createElement("pre");
      pre.textContent = text;
      panel.appendChild(pre);
    };
    add("node", `${n.name ? n.name + " = " : ""}${n.op}  (${n.kind})`);
    add("shape", n.shapeText + (n.dtype ? `  ${n.dtype}` : ""));
    if (n.source) add("made by", `${n.source.file}:${n.source.line}\n${n.source.code}`);
    add("value", n.valueText);
    const g = st && stepIndex > F ? gradientOf(id, st.received) : null;
    add("gradient", g && g.complete ? n.grad : g ? `${g.text} (so far)` : n.grad === null ? "none" : "(after the backward pass)");
  }

  function select(id) {
    selected = id;
    render();
  }

  const go = (s) => {
    stepIndex = Math.max(0, Math.min(F + B, s));
    render();
  };
  document.getElementById("reset").addEventListener("click", () => go(0));
  document.getElementById("back").addEventListener("click", () => go(stepIndex - 1));
  document.getElementById("next").addEventListener("click", () => go(stepIndex + 1));
  document.getElementById("to-end").addEventListener("click", () => go(F + B));
  document.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight") go(stepIndex + 1);
    if (e.key === "ArrowLeft") go(stepIndex - 1);
  });
  window.flowgradExplain = { nodeCount: DATA.nodes.length, steps: F + B, go, step: () => stepIndex };
  render();
})();
