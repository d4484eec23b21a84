// The dispatcher console: chat over the OpenAI-compatible streaming endpoint, plus views of
// the current plan (map), schedule (Gantt) and emergency cases, fetched from the REST API.
import { drawCases, drawGantt, drawMap, html } from "./draw.js";
import { language, setLanguage, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const state = { thread: null, planId: null, scheduleId: null, busy: false, pending: null, token: sessionStorage.getItem("diaodu.token") };

// -- HTTP ---------------------------------------------------------------------------------------
async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json", ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const resp = await fetch(path, { ...options, headers });
  if (resp.status === 401 && !options.retried) {
    const tok = window.prompt(t("token_prompt"));
    if (tok) { state.token = tok; sessionStorage.setItem("diaodu.token", tok); return api(path, { ...options, retried: true }); }
  }
  return resp;
}

/** The message of an error body: {"error": "..."} (REST) or {"error": {"message": "..."}} (OpenAI routes). */
function errorText(data, status) {
  const e = data && data.error;
  return (e && typeof e === "object" ? e.message : e) || `HTTP ${status}`;
}

async function getJSON(path) {
  const resp = await api(path);
  const data = await resp.json().catch(() => ({ error: `HTTP ${resp.status}` }));
  if (!resp.ok) throw new Error(errorText(data, resp.status));
  return data;
}

// -- chat ------------------------------------------------------------------------------------------
function addMessage(role, text, cls = "") {
  const div = html("div", { class: `msg ${role} ${cls}`.trim() }, $("messages"));
  if (text) div.textContent = text;
  div.scrollIntoView({ block: "end" });
  return div;
}

function showCalls(bubble, calls) {
  if (!calls || !calls.length) return;
  const line = html("div", { class: "calls" }, bubble);
  line.appendChild(document.createTextNode(`${t("calls")}: `));
  for (const c of calls) {
    html("code", { text: `${c.tool}${c.ok ? "" : " ✗"}` }, line);
    line.appendChild(document.createTextNode(" "));
  }
}

function showApproval(pending) {
  state.pending = pending;
  document.querySelectorAll(".approval").forEach((n) => n.remove());
  $("approve-plan").disabled = !state.planId && !pending;
  if (!pending) return;
  const box = html("div", { class: "approval", "data-testid": "approval" }, $("messages"));
  html("strong", { text: `${t("approval_needed")}:` }, box);
  html("span", { class: "q", text: pending.question || pending.plan_id }, box);
  const yes = html("button", { text: t("approve"), "data-testid": "approve-yes" }, box);
  const no = html("button", { class: "danger", text: t("reject"), "data-testid": "approve-no" }, box);
  yes.onclick = () => answerApproval(true);
  no.onclick = () => answerApproval(false);
  box.scrollIntoView({ block: "end" });
}

async function answerApproval(approve) {
  if (!state.thread || state.busy) return;
  setBusy(true);
  try {
    const resp = await api(`/api/threads/${encodeURIComponent(state.thread)}/approve`, { method: "POST", body: JSON.stringify({ approve }) });
    const data = await resp.json();
    if (!resp.ok) throw new Error(errorText(data, resp.status));
    showApproval(null);
    const bubble = addMessage("assistant", data.answer);
    showCalls(bubble, data.calls);
    await refreshViews(data);
  } catch (err) {
    addMessage("assistant", `${t("error")}: ${err.message}`, "error");
  } finally {
    setBusy(false);
    loadThreads();
  }
}

function setBusy(busy) {
  state.busy = busy;
  $("send").disabled = busy;
  $("input").disabled = busy;
  document.body.dataset.busy = busy ? "1" : "0";
}

/** Send one user turn and stream the answer (OpenAI SSE chunks; drafts come as diaodu.draft). */
async function send(text) {
  text = text.trim();
  if (!text || state.busy) return;
  setBusy(true);
  addMessage("user", text);
  const bubble = addMessage("assistant", "", "pending");
  bubble.dataset.testid = "answer";
  const answer = html("span", { class: "answer-text" }, bubble);
  const draft = html("span", { class: "draft" }, bubble);
  draft.textContent = t("thinking");
  const body = { model: "diaodu", stream: true, messages: [{ role: "user", content: text }] };
  if (state.thread) body.conversation_id = state.thread;
  let final = null;
  try {
    const resp = await api("/v1/chat/completions", { method: "POST", body: JSON.stringify(body) });
    if (!resp.ok) {
      const data = await resp.json().catch(() => ({}));
      throw new Error(errorText(data, resp.status));
    }
    state.thread = resp.headers.get("X-Conversation-Id") || state.thread;
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const line = buf.slice(0, cut).trim();
        buf = buf.slice(cut + 2);
        if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
        const chunk = JSON.parse(line.slice(6));
        if (chunk.error) throw new Error(chunk.error.message);
        const ext = chunk.diaodu || {};
        if (ext.draft) { draft.textContent = (draft.textContent === t("thinking") ? "" : draft.textContent) + ext.draft; draft.title = t("draft"); }
        if (ext.draft_rejected) draft.textContent = "";
        const piece = chunk.choices && chunk.choices[0] && chunk.choices[0].delta.content;
        if (piece) { draft.textContent = ""; answer.textContent += piece; bubble.scrollIntoView({ block: "end" }); }
        if (chunk.choices && chunk.choices[0] && chunk.choices[0].finish_reason) final = ext;
      }
    }
  } catch (err) {
    bubble.classList.add("error");
    answer.textContent = `${t("error")}: ${err.message}`;
  } finally {
    draft.remove();
    bubble.classList.remove("pending");
    setBusy(false);
  }
  if (final) {
    bubble.dataset.done = "1";
    state.thread = final.thread_id || state.thread;
    showCalls(bubble, final.calls);
    await refreshViews(final);
    showApproval(final.pending_approval);
  }
  loadThreads();
}

/** After a turn: redraw the map / Gantt / cases that the turn's tools touched. */
async function refreshViews(turn) {
  const focusPlan = turn.plan_id || (turn.focus && turn.focus.plan_id);
  if (focusPlan) await showPlan(focusPlan, Boolean(turn.plan_id));
  if (turn.schedule_id) await showSchedule(turn.schedule_id, true);
  const caseCall = (turn.calls || []).filter((c) => c.tool === "search_emergency_cases" && c.ok).pop();
  if (caseCall) { showCases(caseCall.result); selectTab("cases"); }
}

function showCases(result) {
  state.cases = result;
  drawCases($("cases"), result);
}

async function showPlan(planId, switchTab = false) {
  try {
    const plan = await getJSON(`/api/plans/${encodeURIComponent(planId)}`);
    state.planId = plan.plan_id;
    drawMap($("map"), $("legend"), plan);
    $("map").dataset.planId = plan.plan_id;
    const info = $("plan-info");
    info.removeAttribute("data-i18n");
    info.textContent = t("plan_line", { plan: plan.plan_id, dataset: plan.dataset, cost: plan.cost ?? "-",
      vehicles: plan.routes.length, late: plan.late_orders.length }) + (plan.parent ? ` · ${t("from_plan", { parent: plan.parent })}` : "");
    if (plan.committed) html("span", { class: "committed", text: ` · ✓ ${t("committed")}` }, info);
    $("approve-plan").disabled = plan.committed;
    if (switchTab) selectTab("map");
  } catch (err) {
    $("plan-info").textContent = `${t("error")}: ${err.message}`;
  }
}

async function showSchedule(scheduleId, switchTab = false) {
  try {
    const sched = await getJSON(`/api/schedules/${encodeURIComponent(scheduleId)}`);
    state.scheduleId = sched.schedule_id;
    drawGantt($("gantt"), sched);
    const info = $("schedule-info");
    info.removeAttribute("data-i18n");
    info.textContent = t("schedule_line", { id: sched.schedule_id, dataset: sched.dataset, makespan: sched.makespan,
      jobs: sched.jobs, machines: sched.machines });
    if (switchTab) selectTab("gantt");
  } catch (err) {
    $("schedule-info").textContent = `${t("error")}: ${err.message}`;
  }
}

// -- conversations ----------------------------------------------------------------------------------
async function loadThreads() {
  const list = $("threads");
  try {
    const data = await getJSON("/api/threads");
    list.replaceChildren();
    if (!data.threads.length) html("li", { class: "muted", text: t("no_threads") }, list);
    for (const th of data.threads) {
      const li = html("li", { "data-thread": th.thread_id, class: th.thread_id === state.thread ? "active" : "" }, list);
      html("span", { class: "t-title", text: th.title || th.thread_id }, li);
      const meta = html("span", { class: "t-meta", text: `${th.thread_id} · ${t("messages_n", { n: th.messages })}` }, li);
      if (th.pending_approval) html("span", { class: "badge", text: ` · ${t("waiting")}` }, meta);
      li.onclick = () => openThread(th.thread_id);
    }
  } catch (err) {
    list.replaceChildren(html("li", { class: "muted", text: `${t("error")}: ${err.message}` }));
  }
}

async function openThread(threadId) {
  if (state.busy) return;
  const data = await getJSON(`/api/threads/${encodeURIComponent(threadId)}`);
  state.thread = data.thread_id;
  $("messages").replaceChildren();
  for (const m of data.messages) addMessage(m.role, m.content);
  if (data.focus && data.focus.plan_id) await showPlan(data.focus.plan_id);
  showApproval(data.pending_approval);
  loadThreads();
}

function newThread() {
  if (state.busy) return;
  state.thread = null;
  state.pending = null;
  $("messages").replaceChildren();
  loadThreads();
  $("input").focus();
}

// -- tabs, language, wiring -------------------------------------------------------------------------
function selectTab(name) {
  for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.id === `tab-${name}`);
}

async function health() {
  try {
    const h = await getJSON("/health");
    $("status").textContent = t("connected", { model: h.model });
  } catch {
    $("status").textContent = t("offline");
  }
}

function init() {
  setLanguage(language());
  $("lang").textContent = language() === "zh" ? "English" : "中文";
  $("lang").onclick = () => {
    setLanguage(language() === "zh" ? "en" : "zh");
    $("lang").textContent = language() === "zh" ? "English" : "中文";
    health();
    if (state.planId) showPlan(state.planId);
    if (state.scheduleId) showSchedule(state.scheduleId);
    if (state.cases) drawCases($("cases"), state.cases);
    loadThreads();
  };
  $("composer").onsubmit = (ev) => { ev.preventDefault(); const text = $("input").value; $("input").value = ""; send(text); };
  $("input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("composer").requestSubmit(); }
  });
  for (const chip of document.querySelectorAll("[data-example]")) chip.onclick = () => { $("input").value = chip.textContent; $("input").focus(); };
  for (const b of document.querySelectorAll(".tabs button")) b.onclick = () => selectTab(b.dataset.tab);
  $("new-thread").onclick = newThread;
  $("approve-plan").onclick = () => (state.pending ? answerApproval(true) : send(t("commit_message")));
  $("case-search").onsubmit = async (ev) => {
    ev.preventDefault();
    const q = $("case-query").value.trim();
    if (!q) return;
    try { showCases(await getJSON(`/api/cases?query=${encodeURIComponent(q)}`)); }
    catch (err) { $("cases").replaceChildren(html("p", { class: "msg error", text: `${t("error")}: ${err.message}` })); }
  };
  health();
  loadThreads();
  getJSON("/api/plans?limit=1").then((d) => d.plans.length && showPlan(d.plans[0].plan_id)).catch(() => {});
  document.body.dataset.ready = "1";
}

init();
