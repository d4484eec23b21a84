// UI text in English and Chinese. Answers come from the assistant in the user's language;
// this only translates the console's own labels.
export const TEXT = {
  en: {
    title: "Diaodu dispatcher console", conversations: "Conversations", new: "New", send: "Send",
    placeholder: "Ask for routes, a replan, a schedule or an emergency case…", try: "Try:",
    example_plan: "Plan routes for demo-city", example_breakdown: "Vehicle 2 broke down",
    example_schedule: "Schedule ft06", example_case: "Tanker spill on the ring road, what do we do?",
    tab_map: "Route map", tab_gantt: "Schedule", tab_cases: "Emergency cases",
    no_plan: "No plan yet.", no_schedule: "No schedule yet.", no_cases: "No cases yet.",
    approve_plan: "Approve & send to drivers", committed: "sent to drivers", search: "Search",
    case_placeholder: "Describe the situation…", approve: "Approve", reject: "Reject",
    approval_needed: "Approval needed", plan_line: "{plan} · {dataset} · cost {cost} · {vehicles} vehicles · {late} late",
    schedule_line: "{id} · {dataset} · makespan {makespan} · {jobs} jobs × {machines} machines",
    depot: "Depot", late: "late", stops: "stops", vehicle: "Vehicle", machine: "M", job: "Job",
    thinking: "working…", draft: "draft (being checked)", calls: "tools", error: "Error",
    commit_message: "Commit the plan and send it to the drivers", no_threads: "No saved conversations.",
    messages_n: "{n} messages", waiting: "waiting for approval", connected: "connected · model {model}",
    offline: "server unreachable", token_prompt: "This server needs an access token:",
    steps: "Protocol steps", similar: "similar", source: "source", cases_found: "{n} similar cases",
    unserved: "not served", moved: "moved by the replan", broken: "broken down", from_plan: "from {parent}",
  },
  zh: {
    title: "调度员控制台", conversations: "会话", new: "新建", send: "发送",
    placeholder: "规划路线、重新调度、车间排产或检索应急案例……", try: "试试：",
    example_plan: "为 demo-city 规划配送路线", example_breakdown: "2号车抛锚了",
    example_schedule: "给 ft06 排产", example_case: "环城路上油罐车泄漏，怎么处置？",
    tab_map: "路线图", tab_gantt: "排产甘特图", tab_cases: "应急案例",
    no_plan: "还没有方案。", no_schedule: "还没有排产。", no_cases: "还没有案例。",
    approve_plan: "批准并下发给司机", committed: "已下发", search: "检索",
    case_placeholder: "描述现场情况……", approve: "批准", reject: "拒绝",
    approval_needed: "需要确认", plan_line: "{plan} · {dataset} · 成本 {cost} · {vehicles} 辆车 · {late} 单迟到",
    schedule_line: "{id} · {dataset} · 完工时间 {makespan} · {jobs} 个工件 × {machines} 台机器",
    depot: "配送中心", late: "迟到", stops: "站", vehicle: "车辆", machine: "M", job: "工件",
    thinking: "处理中……", draft: "草稿（核对中）", calls: "工具", error: "错误",
    commit_message: "确认派车：把方案下发给司机", no_threads: "还没有保存的会话。",
    messages_n: "{n} 条消息", waiting: "等待确认", connected: "已连接 · 模型 {model}",
    offline: "无法连接服务器", token_prompt: "此服务器需要访问令牌：",
    steps: "处置步骤", similar: "相似度", source: "来源", cases_found: "{n} 个相似案例",
    unserved: "未配送", moved: "重新调度改派", broken: "故障", from_plan: "基于 {parent}",
  },
};

let lang = localStorage.getItem("diaodu.lang") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");

/** The current UI language ("en" or "zh"). */
export function language() { return lang; }

/** Switch the UI language and re-label every element marked with data-i18n. */
export function setLanguage(next) {
  lang = next === "zh" ? "zh" : "en";
  localStorage.setItem("diaodu.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-example]")) el.textContent = t(el.dataset.example);
}

/** The label `key` in the current language, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = (TEXT[lang] && TEXT[lang][key]) ?? TEXT.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
}
