// Stateful Block Kit elements (text inputs, selects, pickers, choices) and modal input blocks.
// Each picker reports its value in the simulator's natural form: a string, an id, an option value or a list.

import { h, unsupported } from "./blockkit.js";
import { textHtml, textOf } from "./mrkdwn.js";

let counter = 0;
const nextId = (prefix) => `${prefix}-${++counter}`;

function optionsOf(element) {
  const options = [...(element.options || [])];
  for (const group of element.option_groups || []) options.push(...(group.options || []));
  return options;
}

function richTextToString(value) {
  if (!value || typeof value !== "object") return String(value ?? "");
  const walk = (node) => {
    if (node.type === "text" || node.type === "link") return node.text || node.url || "";
    if (node.type === "rich_text_list") return (node.elements || []).map((item) => `- ${walk(item)}`).join("\n");
    return (node.elements || []).map(walk).join("");
  };
  return (value.elements || []).map(walk).join("\n");
}

function choicesFor(element, ctx) {
  const type = element.type;
  if (type.includes("users")) return (ctx.people || []).map((p) => ({ value: p.id, label: p.name }));
  if (type.includes("conversations") || type.includes("channels")) {
    return (ctx.channels || []).map((c) => ({ value: c.id, label: `# ${c.name}` }));
  }
  return optionsOf(element).map((o) => ({ value: o.value, label: textOf(o.text) }));
}

function initialOf(element) {
  const type = element.type;
  if (type.startsWith("multi_")) {
    if (type.includes("users")) return element.initial_users || [];
    if (type.includes("conversations")) return element.initial_conversations || [];
    if (type.includes("channels")) return element.initial_channels || [];
    return (element.initial_options || []).map((o) => o.value);
  }
  if (type.includes("users")) return element.initial_user ?? null;
  if (type.includes("conversations")) return element.initial_conversation ?? null;
  if (type.includes("channels")) return element.initial_channel ?? null;
  return element.initial_option?.value ?? null;
}

function picker(node, get) {
  const state = { node, get, onChange: null };
  state.changed = () => state.onChange?.(state.get());
  return state;
}

function singleSelect(element, ctx, id) {
  const select = h("select", { class: "bk-select", id, "data-action-id": element.action_id });
  select.append(h("option", { value: "" }, textOf(element.placeholder) || "Select an item"));
  for (const choice of choicesFor(element, ctx)) select.append(h("option", { value: choice.value }, choice.label));
  select.value = initialOf(element) ?? "";
  const state = picker(select, () => select.value || null);
  select.addEventListener("change", () => select.value && state.changed());
  return state;
}

function multiSelect(element, ctx, id) {
  const choices = choicesFor(element, ctx);
  const chosen = [...initialOf(element)];
  const chips = h("div", { class: "chips" });
  const select = h("select", { class: "bk-select", id, "data-action-id": element.action_id });
  const wrap = h("div", { class: "bk-multi" }, chips, select);
  const state = picker(wrap, () => [...chosen]);
  const label = (value) => choices.find((c) => c.value === value)?.label || value;
  const draw = () => {
    chips.replaceChildren(...chosen.map((value) => h("span", { class: "chip", "data-value": value }, label(value),
      h("button", { type: "button", "aria-label": `Remove ${label(value)}`, onclick: () => {
        chosen.splice(chosen.indexOf(value), 1);
        draw();
        state.changed();
      } }, "×"))));
    select.replaceChildren(h("option", { value: "" }, textOf(element.placeholder) || "Add…"),
      ...choices.filter((c) => !chosen.includes(c.value)).map((c) => h("option", { value: c.value }, c.label)));
    select.value = "";
  };
  select.addEventListener("change", () => {
    const limit = element.max_selected_items;
    if (select.value && !(limit && chosen.length >= limit)) {
      chosen.push(select.value);
      state.changed();
    }
    draw();
  });
  draw();
  return state;
}

// An external select: Slack asks the app for options (block_suggestion) as the person types; so does this one.
// The value is the picked option object (a list of them for multi_external_select), as Slack sends it back.
function externalSelect(element, block, ctx, id) {
  const multiple = element.type === "multi_external_select";
  const minimum = element.min_query_length ?? 3;
  const chosen = multiple ? [...(element.initial_options || [])] : [element.initial_option].filter(Boolean);
  let offered = [];
  let asked = 0;  // searches sent; an answer to an older one is dropped
  const search = h("input", { type: "search", id, class: "bk-input", "data-action-id": element.action_id,
    placeholder: textOf(element.placeholder) || "Type to search", autocomplete: "off" });
  const select = h("select", { class: "bk-select", "data-external": element.action_id,
    "aria-label": `Matches for ${textOf(element.placeholder) || "search"}` });
  const chips = h("div", { class: "chips" });
  const wrap = h("div", { class: "bk-external" }, multiple ? chips : null, search, select);
  const state = picker(wrap, () => (multiple ? [...chosen] : chosen[0] ?? null));
  const draw = () => {
    const shown = multiple ? offered.filter((o) => !chosen.some((c) => c.value === o.value))
      : [...chosen.filter((c) => !offered.some((o) => o.value === c.value)), ...offered];
    let hint = minimum ? `Type at least ${minimum} characters to search` : "Type to search";
    if (asked) hint = offered.length ? `${offered.length} match${offered.length === 1 ? "" : "es"}` : "No matches";
    select.replaceChildren(h("option", { value: "" }, hint),
      ...shown.map((o) => h("option", { value: o.value }, textOf(o.text))));
    select.value = multiple ? "" : chosen[0]?.value ?? "";
    chips.replaceChildren(...chosen.map((o) => h("span", { class: "chip", "data-value": o.value }, textOf(o.text),
      h("button", { type: "button", "aria-label": `Remove ${textOf(o.text)}`, onclick: () => {
        chosen.splice(chosen.indexOf(o), 1);
        draw();
        state.changed();
      } }, "×"))));
  };
  const load = async () => {
    const typed = search.value.trim();
    if (typed.length < minimum || !ctx.suggest) return;
    const mine = ++asked;
    const options = await ctx.suggest(element, block, typed);
    if (mine !== asked) return;  // a newer search answered first
    offered = options;
    draw();
  };
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 150); });
  search.addEventListener("focus", () => { if (!offered.length) load(); });
  select.addEventListener("change", () => {
    const picked = offered.find((o) => o.value === select.value);
    if (!picked) return;
    if (multiple) {
      if (!(element.max_selected_items && chosen.length >= element.max_selected_items)) chosen.push(picked);
    } else {
      chosen.splice(0, chosen.length, picked);
    }
    draw();
    state.changed();
  });
  draw();
  return state;
}

function choiceList(element, ctx, id) {
  const multiple = element.type === "checkboxes";
  const name = nextId("choice");
  const initial = multiple ? (element.initial_options || []).map((o) => o.value) : [element.initial_option?.value];
  const wrap = h("div", { id, role: multiple ? "group" : "radiogroup", "data-action-id": element.action_id });
  const inputs = optionsOf(element).map((option) => {
    const input = h("input", { type: multiple ? "checkbox" : "radio", name, value: option.value,
      checked: initial.includes(option.value) });
    wrap.append(h("label", { class: "bk-choice" }, input, " ", h("span", { html: textHtml(option.text, ctx) }),
      option.description ? h("div", { class: "bk-hint", html: textHtml(option.description, ctx) }) : null));
    return input;
  });
  const get = () => {
    const picked = inputs.filter((i) => i.checked).map((i) => i.value);
    return multiple ? picked : picked[0] ?? null;
  };
  const state = picker(wrap, get);
  wrap.addEventListener("change", () => state.changed());
  return state;
}

function textInput(element, id, type) {
  const multiline = element.multiline || element.type === "rich_text_input";
  const attrs = { id, class: multiline ? "bk-textarea" : "bk-input", "data-action-id": element.action_id,
    placeholder: textOf(element.placeholder) || null, maxlength: element.max_length || null };
  const node = multiline ? h("textarea", attrs) : h("input", { ...attrs, type });
  if (element.type === "number_input") {
    node.setAttribute("inputmode", element.is_decimal_allowed ? "decimal" : "numeric");
    if (element.min_value !== undefined) node.setAttribute("min", element.min_value);
    if (element.max_value !== undefined) node.setAttribute("max", element.max_value);
    if (!element.is_decimal_allowed) node.setAttribute("step", "1");
  }
  const initial = element.type === "rich_text_input" ? richTextToString(element.initial_value) : element.initial_value;
  node.value = initial ?? "";
  const state = picker(node, () => node.value);
  node.addEventListener("change", () => state.changed());
  return state;
}

function datePicker(element, id, type) {
  const node = h("input", { type, id, class: "bk-input", "data-action-id": element.action_id });
  if (type === "date") node.value = element.initial_date || "";
  if (type === "time") node.value = element.initial_time || "";
  if (type === "datetime-local" && element.initial_date_time) {
    node.value = new Date(element.initial_date_time * 1000).toISOString().slice(0, 16);
  }
  const get = () => {
    if (!node.value) return null;
    return type === "datetime-local" ? Math.floor(new Date(node.value).getTime() / 1000) : node.value;
  };
  const state = picker(node, get);
  node.addEventListener("change", () => node.value && state.changed());
  return state;
}

// A picker for any stateful element, or null for element types this renderer does not know.
export function pickerElement(element, ctx, id = nextId("el"), block = {}) {
  switch (element.type) {
    case "external_select": case "multi_external_select": return externalSelect(element, block, ctx, id);
    case "plain_text_input": case "rich_text_input": return textInput(element, id, "text");
    case "email_text_input": return textInput(element, id, "email");
    case "url_text_input": return textInput(element, id, "url");
    case "number_input": return textInput(element, id, "number");
    case "datepicker": return datePicker(element, id, "date");
    case "timepicker": return datePicker(element, id, "time");
    case "datetimepicker": return datePicker(element, id, "datetime-local");
    case "static_select": case "users_select": case "conversations_select":
    case "channels_select": return singleSelect(element, ctx, id);
    case "multi_static_select": case "multi_users_select":
    case "multi_conversations_select": case "multi_channels_select": return multiSelect(element, ctx, id);
    case "checkboxes": case "radio_buttons": return choiceList(element, ctx, id);
    default: return null;
  }
}

export function isEmpty(value) {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

// An input block: label, element, hint, and a place for the app's field error.
export function inputBlock(block, ctx) {
  const id = nextId("field");
  const element = block.element || {};
  const state = pickerElement(element, ctx, id, block);
  const label = h("label", { for: id }, textOf(block.label),
    block.optional ? h("span", { class: "bk-optional" }, " (optional)") : null);
  const error = h("div", { class: "bk-field-error", role: "alert", hidden: true });
  const node = h("div", { class: "bk-input-block" }, label,
    state ? state.node : unsupported("input element", element.type),
    block.hint ? h("div", { class: "bk-hint", html: textHtml(block.hint, ctx) }) : null, error);
  if (state && block.dispatch_action && ctx.act) state.onChange = (value) => ctx.act(element, block, value);
  ctx.inputs?.set(block.block_id, { block, state, error, node });
  return node;
}
