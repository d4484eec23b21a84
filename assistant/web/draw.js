// Drawing without any external library or map tiles: the route map and the Gantt chart are SVG
// built from the server's coordinates and times; case cards are plain DOM. All text goes in
// through textContent, never innerHTML, because answers and case texts are data.
import { language, t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";

/** A distinct colour for vehicle / job number `i` (golden-angle hues). */
export function colour(i) {
  return `hsl(${Math.round((i * 137.508) % 360)}, 68%, ${i % 2 ? 42 : 50}%)`;
}

function el(tag, attrs = {}, parent = null, ns = SVG) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.setAttribute("class", v);
    else node.setAttribute(k, v);
  }
  if (parent) parent.appendChild(node);
  return node;
}
export const html = (tag, attrs = {}, parent = null) => el(tag, attrs, parent, null);

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

/** Draw a plan (from GET /api/plans/{id}) on the SVG `svg`; fills `legend` with one row per vehicle. */
export function drawMap(svg, legend, plan) {
  clear(svg); clear(legend);
  const W = 1000, H = 700, pad = 30;
  const pts = plan.customers.map((c) => [c.x, c.y]);
  if (plan.depot) pts.push([plan.depot.x, plan.depot.y]);
  if (!pts.length) {
    el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#6b7280", text: t("no_plan") }, svg);
    return;
  }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  const scale = Math.min((W - 2 * pad) / Math.max(maxX - minX, 1e-9), (H - 2 * pad) / Math.max(maxY - minY, 1e-9));
  const offX = (W - scale * (maxX - minX)) / 2, offY = (H - scale * (maxY - minY)) / 2;
  const px = (x) => offX + (x - minX) * scale;
  const py = (y) => H - (offY + (y - minY) * scale); // north up
  const where = new Map(plan.customers.map((c) => [c.id, c]));
  const late = new Set(plan.late_orders || []);
  const r = Math.max(2.5, Math.min(7, 2200 / Math.sqrt(plan.customers.length + 1) / 30));

  const routes = el("g", { class: "routes" }, svg);
  plan.routes.forEach((route, i) => {
    const c = colour(route.vehicle);
    const chain = route.stops.map((id) => where.get(id)).filter(Boolean);
    if (!chain.length) return;
    const coords = [plan.depot, ...chain, plan.depot].filter(Boolean).map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    const line = el("polyline", { points: coords.join(" "), fill: "none", stroke: c, "stroke-width": 2.2,
      "stroke-linejoin": "round", "stroke-opacity": 0.85, "data-vehicle": route.vehicle, class: "route" }, routes);
    el("title", { text: `${t("vehicle")} ${route.vehicle}: ${route.stops.length} ${t("stops")}` }, line);
    for (const p of chain) {
      const dot = el("circle", { cx: px(p.x), cy: py(p.y), r, fill: c, stroke: "#fff", "stroke-width": 0.8,
        class: "stop", "data-order": p.id }, routes);
      el("title", { text: `#${p.id}${p.name ? " " + p.name : ""} · ${t("vehicle")} ${route.vehicle}${late.has(p.id) ? " · " + t("late") : ""}` }, dot);
    }
    const sw = html("li", {}, legend);
    const box = html("span", { class: "sw" }, sw);
    box.style.background = c;
    sw.appendChild(document.createTextNode(`${t("vehicle")} ${route.vehicle} · ${route.stops.length} ${t("stops")}`
      + (route.distance != null ? ` · ${route.distance}` : "")));
    void i;
  });
  // unserved customers in grey with a cross, so a dropped order is visible
  const unserved = plan.customers.filter((c) => !c.served);
  for (const cst of unserved) {
    const g = el("g", { class: "unserved", "data-order": cst.id }, svg);
    el("circle", { cx: px(cst.x), cy: py(cst.y), r: r * 0.9, fill: "#9ca3af" }, g);
    const d = r + 2;
    el("path", { d: `M${px(cst.x) - d},${py(cst.y) - d}L${px(cst.x) + d},${py(cst.y) + d}M${px(cst.x) - d},${py(cst.y) + d}L${px(cst.x) + d},${py(cst.y) - d}`,
      stroke: "#4b5563", "stroke-width": 1.6 }, g);
    el("title", { text: `#${cst.id}${cst.name ? " " + cst.name : ""} · ${t("unserved")}` }, g);
  }
  // orders a replan moved to another vehicle: a dashed ring
  const facts = plan.facts || {};
  for (const id of facts.moved_orders || []) {
    const p = where.get(id);
    if (p) el("circle", { cx: px(p.x), cy: py(p.y), r: r + 3, fill: "none", stroke: "#111827", "stroke-width": 1.2,
      "stroke-dasharray": "2 2", class: "moved", "data-order": id }, svg);
  }
  // late orders: a red ring and a "!" so they stand out whatever the route colour
  const lateG = el("g", { class: "late-orders" }, svg);
  for (const id of late) {
    const p = where.get(id);
    if (!p) continue;
    el("circle", { cx: px(p.x), cy: py(p.y), r: r + 4, fill: "none", stroke: "#dc2626", "stroke-width": 2.5,
      class: "late", "data-order": id }, lateG);
    el("text", { x: px(p.x) + r + 4, y: py(p.y) - r - 3, fill: "#dc2626", "font-size": 15, "font-weight": 700, text: "!" }, lateG);
  }
  if (plan.depot) {
    const d = el("rect", { x: px(plan.depot.x) - 9, y: py(plan.depot.y) - 9, width: 18, height: 18, fill: "#14213d",
      stroke: "#fca311", "stroke-width": 3, class: "depot" }, svg);
    el("title", { text: `${t("depot")}${plan.depot.name ? ": " + plan.depot.name : ""}` }, d);
  }
  const depotItem = html("li", {}, legend);
  const dsw = html("span", { class: "sw" }, depotItem);
  dsw.style.background = "#14213d";
  depotItem.appendChild(document.createTextNode(t("depot")));
  if (facts.broken_vehicle) html("li", { class: "late", text: `✗ ${t("vehicle")} ${facts.broken_vehicle}: ${t("broken")}` }, legend);
  if ((facts.moved_orders || []).length) html("li", { text: `◌ ${t("moved")}: ${facts.moved_orders.join(", ")}` }, legend);
  if (unserved.length) html("li", { text: `✕ ${unserved.length} ${t("unserved")}: ${unserved.slice(0, 12).map((c) => c.id).join(", ")}` }, legend);
  if (late.size) html("li", { class: "late", text: `● ${late.size} ${t("late")}: ${[...late].slice(0, 12).join(", ")}${late.size > 12 ? "…" : ""}` }, legend);
}

/** Draw a schedule (from GET /api/schedules/{id}) as a Gantt chart, one row per machine. */
export function drawGantt(svg, sched) {
  clear(svg);
  const machines = [...new Set(sched.bars.map((b) => b.machine))].sort((a, b) => a - b);
  const rowH = Math.max(16, Math.min(44, Math.floor(360 / Math.max(machines.length, 1)))), left = 44, top = 10, W = 1000;
  const H = top + machines.length * rowH + 30;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const span = Math.max(sched.makespan || 0, ...sched.bars.map((b) => b.end), 1);
  const sx = (v) => left + (v / span) * (W - left - 14);
  const row = new Map(machines.map((m, i) => [m, i]));
  const label = new Map(sched.bars.map((b) => [b.machine, b.machine_label || `${t("machine")}${b.machine}`]));
  machines.forEach((m, i) => {
    el("text", { x: 4, y: top + i * rowH + 15, "font-size": 12, fill: "#374151", text: label.get(m) }, svg);
    el("line", { x1: left, x2: W - 10, y1: top + (i + 1) * rowH, y2: top + (i + 1) * rowH, stroke: "#eef0f3" }, svg);
  });
  for (const b of sched.bars) {
    const y = top + row.get(b.machine) * rowH + 2;
    const rect = el("rect", { x: sx(b.start), y, width: Math.max(1, sx(b.end) - sx(b.start)), height: rowH - 4, rx: 2,
      fill: colour(b.job + 1), class: "bar", "data-job": b.job }, svg);
    el("title", { text: `${t("job")} ${b.job_label || b.job} · ${b.machine_label || t("machine") + b.machine} · ${b.start}–${b.end}` }, rect);
    if (sx(b.end) - sx(b.start) > 18) {
      el("text", { x: sx(b.start) + 3, y: y + rowH / 2 + 2, "font-size": 10, fill: "#fff", text: String(b.job) }, svg);
    }
  }
  const axisY = top + machines.length * rowH + 16;
  for (let k = 0; k <= 5; k++) {
    const v = Math.round((span * k) / 5);
    el("text", { x: sx(v), y: axisY, "font-size": 11, fill: "#6b7280", "text-anchor": "middle", text: String(v) }, svg);
  }
  el("line", { x1: sx(span), x2: sx(span), y1: top, y2: axisY - 10, stroke: "#dc2626", "stroke-dasharray": "4 3" }, svg);
}

/** Pick the Chinese field (`key_zh`) when the UI is in Chinese and it exists, else the English one. */
function pick(obj, key) {
  if (!obj) return undefined;
  return (language() === "zh" && obj[`${key}_zh`]) || obj[key];
}

/** Emergency case cards with protocol steps and their sources (the result of search_emergency_cases). */
export function drawCases(root, result) {
  clear(root);
  const cases = result.cases || [];
  const steps = result.steps || [];
  if (result.incident_type) {
    html("p", { class: "muted", text: `${String(result.incident_type).replace(/_/g, " ")} · ${t("cases_found", { n: cases.length })}` }, root);
  }
  const proto = result.protocol_ref;
  if (steps.length) {
    const card = html("div", { class: "card protocol", "data-testid": "protocol" }, root);
    html("h3", { text: `${t("steps")}: ${pick(proto, "title") || (proto && proto.id) || ""}` }, card);
    if (proto) sourceChips(card, proto.node, proto.source);
    const ol = html("ol", {}, card);
    for (const st of steps) {
      const li = html("li", { "data-step": st.id }, ol);
      li.appendChild(document.createTextNode(pick(st, "text") || ""));
      const meta = [st.role, st.time_target_min != null ? `≤ ${st.time_target_min} min` : null,
        (st.resources || []).map((r) => pick(r, "name")).filter(Boolean).join(", ") || null].filter(Boolean).join(" · ");
      if (meta) html("div", { class: "meta", text: meta }, li);
      sourceChips(li, st.node, st.source);
    }
  }
  for (const c of cases) {
    const card = html("div", { class: "card case", "data-case": c.id }, root);
    html("h3", { text: pick(c, "title") || c.id }, card);
    const meta = [c.id, pick(c, "location"), c.date, c.score != null ? `${t("similar")} ${Number(c.score).toFixed(2)}` : null]
      .filter(Boolean).join(" · ");
    html("div", { class: "meta", text: meta }, card);
    const summary = pick(c, "summary");
    if (summary) html("p", { text: summary }, card);
    const actions = pick(c, "actions");
    if (Array.isArray(actions) && actions.length) {
      const ul = html("ul", {}, card);
      for (const a of actions) html("li", { text: a }, ul);
    }
    const outcome = pick(c, "outcome");
    if (outcome) html("div", { class: "meta", text: outcome }, card);
    sourceChips(card, c.node, c.source);
  }
  if (!cases.length && !steps.length) html("p", { class: "muted", text: result.message || t("no_cases") }, root);
}

function sourceChips(parent, node, source) {
  const line = html("div", { class: "sources" }, parent);
  if (node) html("span", { class: "src node", text: node }, line);
  if (source) html("span", { class: "src doc", text: `${t("source")}: ${source}`, title: source }, line);
}
