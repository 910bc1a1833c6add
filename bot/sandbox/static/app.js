// The sandbox page: a Slack-like client for one workspace. Every change is fetched from /api/state when the
// server's event stream says something happened; every action goes to /api/* and reaches the app signed.

import { h, renderBlocks, renderMessageBody } from "./blockkit.js";
import { isEmpty } from "./inputs.js";
import { textOf } from "./mrkdwn.js";

const params = new URLSearchParams(location.search);
const ui = {
  viewer: params.get("as") || localStorage.getItem("sandbox.viewer") || "U100",
  conversation: params.get("c") || localStorage.getItem("sandbox.conversation") || "C0LAUNCH",
  tab: params.get("tab") || "messages",
  state: null,
  modalKey: null,
  modalInputs: null,
  seen: JSON.parse(localStorage.getItem("sandbox.seen") || "{}"),
  thread: params.get("t") || null,  // the ts of the thread open in the side pane, as Slack shows threads
};
const $ = (id) => document.getElementById(id);
const COLORS = ["#e8912d", "#2bac76", "#1264a3", "#e01e5a", "#4a154b", "#36c5f0", "#9e5a00", "#0b4c8c"];

async function api(path, body) {
  const response = await fetch(`/api/${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: ui.viewer, ...body }),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
  if (!answer.ok && answer.error) showError(answer.error);
  await refresh();
  return answer;
}

// An external select's options for what was typed: asked of the app, nothing else changes.
async function suggest(where, element, block, typed) {
  const response = await fetch("/api/options", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: ui.viewer, ...where, action_id: element.action_id, block_id: block.block_id,
      value: typed }),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
  if (!answer.ok) showError(answer.error || "the options did not load");
  return answer.options || [];
}

function showError(text) {
  const box = $("composer-error");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

function remember() {
  localStorage.setItem("sandbox.viewer", ui.viewer);
  localStorage.setItem("sandbox.conversation", ui.conversation);
  const query = new URLSearchParams({ as: ui.viewer, c: ui.conversation });
  if (ui.conversation.startsWith("D")) query.set("tab", ui.tab);
  if (ui.thread) query.set("t", ui.thread);
  history.replaceState(null, "", `?${query}`);
}

function context(extra = {}) {
  const state = ui.state;
  const channelNames = Object.fromEntries(state.channels.map((c) => [c.id, c.name]));
  return { names: state.names, channelNames, people: state.people, channels: state.channels, ...extra };
}

// --- sidebar -----------------------------------------------------------------------------------------------

function navButton(id, label, extra = {}) {
  const unread = (ui.state.activity[id] || "") > (ui.seen[`${ui.viewer}:${id}`] || "") && id !== ui.conversation;
  const current = id === ui.conversation && !(id.startsWith("D") && ui.tab === "home");
  return h("li", {}, h("button", { type: "button", "aria-current": String(current),
    class: unread ? "unread" : "", "data-conversation": id, onclick: () => open(id, extra.tab) }, label));
}

function drawSidebar() {
  const state = ui.state;
  $("workspace-name").textContent = state.team.name;
  const viewer = $("viewer");
  if (viewer.options.length !== state.people.length) {
    viewer.replaceChildren(...state.people.map((p) => h("option", { value: p.id }, `${p.name} — ${p.title}`)));
  }
  viewer.value = ui.viewer;
  const me = state.people.find((p) => p.id === ui.viewer);
  $("viewer-tz").textContent = me ? `${me.tz_label || me.tz}` : "";
  $("channel-list").replaceChildren(...state.channels.filter((c) => !c.group).map((c) => navButton(c.id, `# ${c.name}`)));
  const groups = state.channels.filter((c) => c.group).map((c) => navButton(c.id, c.name.replace(/^mpdm-/, "")));
  $("dm-list").replaceChildren(navButton(state.app.dm, `${state.app.name} (app)`, { tab: "messages" }), ...groups);
  const appEntry = h("li", {}, h("button", { type: "button", "data-conversation": "app-home",
    "aria-current": String(ui.conversation === state.app.dm && ui.tab === "home"),
    onclick: () => open(state.app.dm, "home") }, `${state.app.name} — Home`));
  $("app-list").replaceChildren(appEntry);
}

// --- conversation and Home -----------------------------------------------------------------------------------

function author(message) {
  if (message.user && message.user !== ui.state.app.bot_user_id && ui.state.names[message.user]) {
    return ui.state.names[message.user];
  }
  return ui.state.app.name;
}

function avatar(name) {
  const color = COLORS[[...name].reduce((sum, c) => sum + c.charCodeAt(0), 0) % COLORS.length];
  const initials = name.split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
  return h("div", { class: "avatar", style: `background:${color}`, "aria-hidden": "true" }, initials);
}

function repliesLabel(count) {
  return `${count} ${count === 1 ? "reply" : "replies"}`;
}

// A message; in the channel its thread shows as an "N replies" link that opens the thread pane (inThread: the
// pane's own copy, without the link).
function messageNode(message, conversationId, inThread = false) {
  const name = author(message);
  const isApp = name === ui.state.app.name;
  const ephemeral = message.subtype === "ephemeral";
  const act = (element, block, value) => api("action", {
    channel: conversationId, ts: message.ts, action_id: element.action_id, block_id: block.block_id, value,
  });
  const where = { channel: conversationId, ts: message.ts };
  const options = (element, block, typed) => suggest(where, element, block, typed);
  const body = h("div", { class: "message-body" },
    ephemeral ? h("div", { class: "only-you" }, "👁 Only visible to you") : null,
    h("div", {}, h("span", { class: "author" }, name), isApp ? h("span", { class: "app-badge" }, "APP") : null,
      message.edited ? h("span", { class: "edited" }, "(edited)") : null),
    renderMessageBody(message, context({ act, suggest: options })));
  if (message.replies?.length && !inThread) {
    const open = ui.thread === message.ts;
    body.append(h("button", { type: "button", class: "thread-count", "aria-expanded": String(open),
      "data-thread": message.ts, onclick: () => openThread(open ? null : message.ts) },
    repliesLabel(message.replies.length)));
  }
  return h("article", { class: `message${ephemeral ? " ephemeral" : ""}`, "data-ts": message.ts,
    "aria-label": `Message from ${name}` }, avatar(name), body);
}

function drawConversation() {
  const conversation = ui.state.conversation;
  const channel = ui.state.channels.find((c) => c.id === conversation.id);
  const isDm = conversation.is_dm;
  $("conversation-title").textContent = isDm ? ui.state.app.name : `# ${conversation.name}`;
  $("conversation-topic").textContent = isDm ? "Liftoff sends your digests and reminders here" : channel?.topic || "";
  $("app-tabs").hidden = !isDm;
  const showHome = isDm && ui.tab === "home";
  $("tab-home").setAttribute("aria-selected", String(showHome));
  $("tab-messages").setAttribute("aria-selected", String(!showHome));
  $("home").hidden = !showHome;
  $("messages").hidden = showHome;
  $("composer").hidden = showHome;
  $("composer-input").placeholder = isDm ? `Message ${ui.state.app.name} — try /launch help`
    : `Message #${conversation.name} — try /launch new`;
  drawThread(showHome ? null : conversation);
  if (showHome) return drawHome();
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const nodes = conversation.messages.map((m) => messageNode(m, conversation.id));
  list.replaceChildren(...(nodes.length ? nodes : [h("div", { class: "empty" },
    isDm ? "No messages from Liftoff yet." : "No messages yet. Type /launch new to plan a launch here.")]));
  if (atBottom || drawConversation.last !== conversation.id) list.scrollTop = list.scrollHeight;
  drawConversation.last = conversation.id;
  ui.seen[`${ui.viewer}:${conversation.id}`] = ui.state.activity[conversation.id] || "";
  localStorage.setItem("sandbox.seen", JSON.stringify(ui.seen));
}

// --- thread pane -----------------------------------------------------------------------------------------------

function openThread(ts) {
  ui.thread = ts;
  remember();
  drawConversation();
}

function drawThread(conversation) {
  const pane = $("thread");
  const parent = conversation?.messages.find((m) => m.ts === ui.thread && m.replies?.length);
  pane.hidden = !parent;
  if (!parent) {
    pane.replaceChildren();
    return;
  }
  const where = conversation.is_dm ? ui.state.app.name : `# ${conversation.name}`;
  const list = h("div", { class: "thread-messages" }, messageNode(parent, conversation.id, true),
    h("div", { class: "thread-divider" }, repliesLabel(parent.replies.length)),
    parent.replies.map((reply) => messageNode(reply, conversation.id, true)));
  const old = pane.querySelector(".thread-messages");
  const same = drawThread.last === parent.ts && old;
  const atBottom = !same || old.scrollHeight - old.scrollTop - old.clientHeight < 40;
  const previous = same ? old.scrollTop : 0;
  pane.replaceChildren(
    h("header", { class: "thread-header" }, h("div", {}, h("h2", {}, "Thread"), h("div", { class: "topic" }, where)),
      h("button", { type: "button", class: "modal-x", "aria-label": "Close thread", onclick: () => openThread(null) },
        "×")),
    list);
  // A thread opens at its newest reply, and follows new replies unless the person scrolled up.
  list.scrollTop = atBottom ? list.scrollHeight : previous;
  drawThread.last = parent.ts;
}

function drawHome() {
  const home = ui.state.home;
  const root = $("home");
  if (!home) {
    root.replaceChildren(h("div", { class: "empty" }, "Loading the Home tab…"));
    return;
  }
  const act = (element, block, value) => api("action", {
    view_id: home.id, action_id: element.action_id, block_id: block.block_id, value,
  });
  const options = (element, block, typed) => suggest({ view_id: home.id }, element, block, typed);
  root.replaceChildren(renderBlocks(home.blocks, context({ act, suggest: options })));
}

// --- modal ---------------------------------------------------------------------------------------------------

function drawModal() {
  const modal = ui.state.modal;
  const root = $("modal-root");
  if (!modal) {
    root.replaceChildren();
    ui.modalKey = null;
    return;
  }
  const view = modal.view;
  const key = `${view.id}:${view.hash}`;
  if (key !== ui.modalKey) {
    ui.modalKey = key;
    ui.modalInputs = new Map();
    const act = (element, block, value) => api("action", {
      view_id: view.id, action_id: element.action_id, block_id: block.block_id, value,
    });
    const options = (element, block, typed) => suggest({ view_id: view.id }, element, block, typed);
    const body = renderBlocks(view.blocks, context({ act, suggest: options, inputs: ui.modalInputs }));
    const submit = view.submit ? h("button", { type: "submit", class: "bk-button primary" }, textOf(view.submit)) : null;
    const close = h("button", { type: "button", class: "bk-button", onclick: () => api("close", { view_id: view.id }) },
      textOf(view.close) || (view.submit ? "Cancel" : "Close"));
    const form = h("form", { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": textOf(view.title),
      novalidate: true, onsubmit: (event) => { event.preventDefault(); submitModal(view, submit); } },
      h("header", { class: "modal-header" }, h("h2", {}, textOf(view.title)),
        h("button", { type: "button", class: "modal-x", "aria-label": "Close",
          onclick: () => api("close", { view_id: view.id }) }, "×")),
      h("div", { class: "modal-body" }, body),
      h("div", { class: "modal-error", role: "alert", id: "modal-error" }),
      h("footer", { class: "modal-footer" }, close, submit));
    root.replaceChildren(h("div", { class: "modal-backdrop" }, form));
  }
  showFieldErrors(modal.errors || {});
}

function showFieldErrors(errors) {
  for (const [blockId, input] of ui.modalInputs) {
    const message = errors[blockId];
    input.error.textContent = message || "";
    input.error.hidden = !message;
    input.node.classList.toggle("has-error", Boolean(message));
  }
}

// Slack's client refuses to send a form with required fields left empty; so does this one.
async function submitModal(view, button) {
  const values = {};
  const missing = {};
  for (const [blockId, input] of ui.modalInputs) {
    if (!input.state) continue;
    const value = input.state.get();
    if (isEmpty(value)) {
      if (!input.block.optional) missing[blockId] = "Please complete this required field.";
      if (Array.isArray(value)) values[blockId] = value;
      continue;
    }
    values[blockId] = value;
  }
  if (Object.keys(missing).length) return showFieldErrors(missing);
  if (button) button.disabled = true;
  try {
    const answer = await api("submit", { view_id: view.id, values });
    if (answer.errors) showFieldErrors(answer.errors);
    const banner = $("modal-error");  // gone when the app closed the modal
    if (banner) banner.textContent = answer.ok ? "" : answer.error || "";
  } finally {
    if (button) button.disabled = false;
  }
}

// --- the loop ------------------------------------------------------------------------------------------------

async function refresh() {
  const query = new URLSearchParams({ as: ui.viewer, c: ui.conversation });
  const response = await fetch(`/api/state?${query}`);
  if (!response.ok) return;
  ui.state = await response.json();
  ui.conversation = ui.state.conversation.id;
  remember();
  drawSidebar();
  drawConversation();
  drawModal();
  document.body.dataset.version = ui.state.version;
}

function open(conversationId, tab) {
  if (conversationId !== ui.conversation) ui.thread = null;
  ui.conversation = conversationId;
  ui.tab = tab || (conversationId.startsWith("D") ? ui.tab : "messages");
  remember();
  if (conversationId.startsWith("D") && ui.tab === "home") {
    refresh();  // switch to the tab at once; app_home_opened brings the app's fresh view when it answers
    return api("home", {});
  }
  return refresh();
}

function setUpComposer() {
  const input = $("composer-input");
  const hints = $("command-hints");
  input.addEventListener("input", () => {
    const text = input.value;
    const matches = text.startsWith("/") && !text.includes(" ")
      ? ui.state.commands.filter((c) => c.command.startsWith(text)) : [];
    hints.hidden = !matches.length;
    hints.replaceChildren(...matches.map((c) => h("button", { type: "button", onclick: () => {
      input.value = `${c.command} `;
      hints.hidden = true;
      input.focus();
    } }, h("b", {}, c.command), ` ${c.usage} — ${c.description}`)));
  });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    hints.hidden = true;
    await api("send", { channel: ui.conversation, text });
  });
}

function listen() {
  const source = new EventSource("/api/events");
  let pending = null;
  source.onmessage = () => {
    clearTimeout(pending);
    pending = setTimeout(refresh, 30);
  };
}

function start() {
  $("viewer").addEventListener("change", (event) => {
    ui.viewer = event.target.value;
    ui.modalKey = null;
    if (ui.conversation.startsWith("D")) ui.conversation = `D${ui.viewer}`;
    open(ui.conversation, ui.tab);
  });
  $("tab-home").addEventListener("click", () => open(ui.conversation, "home"));
  $("tab-messages").addEventListener("click", () => open(ui.conversation, "messages"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && ui.state?.modal) api("close", { view_id: ui.state.modal.view.id });
  });
  setUpComposer();
  listen();
  open(ui.conversation, ui.tab);
}

start();
