// Block Kit blocks and interactive elements as DOM. Anything unknown shows as a visible "[unsupported: TYPE]" box.

import { emoji, escapeHtml, mrkdwnHtml, textHtml, textOf } from "./mrkdwn.js";
import { inputBlock, pickerElement } from "./inputs.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function unsupported(kind, what = "") {
  return h("span", { class: "bk-unsupported", "data-unsupported": what || "?" }, `[unsupported: ${what || "?"}]`,
    kind ? ` (${kind})` : "");
}

function span(html, cls = "") {
  return h("span", { class: cls, html });
}

// --- interactive elements in messages, Home tabs and modals --------------------------------------------

function confirmed(element) {
  const confirm = element.confirm;
  if (!confirm) return true;
  return window.confirm(`${textOf(confirm.title)}\n\n${textOf(confirm.text)}`);
}

function button(element, block, ctx) {
  const cls = `bk-button ${element.style || ""}`.trim();
  const node = h("button", { type: "button", class: cls, "data-action-id": element.action_id });
  node.innerHTML = textHtml(element.text, ctx);
  node.addEventListener("click", async () => {
    if (element.url) window.open(element.url, "_blank", "noopener");
    if (!confirmed(element)) return;
    node.disabled = true;
    try {
      await ctx.act(element, block, element.value ?? null);
    } finally {
      node.disabled = false;
    }
  });
  return node;
}

function overflow(element, block, ctx) {
  const wrap = h("span", { class: "bk-overflow" });
  const menu = h("div", { class: "bk-overflow-menu", role: "menu", hidden: true });
  for (const option of element.options || []) {
    menu.append(h("button", {
      type: "button", role: "menuitem", html: textHtml(option.text, ctx),
      onclick: async () => {
        menu.hidden = true;
        if (option.url) window.open(option.url, "_blank", "noopener");
        if (confirmed(element)) await ctx.act(element, block, option.value);
      },
    }));
  }
  const toggle = h("button", { type: "button", class: "bk-button", "aria-label": "More actions",
    "data-action-id": element.action_id, onclick: () => { menu.hidden = !menu.hidden; } }, "⋯");
  wrap.append(toggle, menu);
  return wrap;
}

// Selects, pickers and choices outside an input block send block_actions as soon as something is picked.
function actingPicker(element, block, ctx) {
  const picker = pickerElement(element, ctx, undefined, block);
  if (!picker) return unsupported("element", element.type);
  picker.onChange = async (value) => {
    if (!confirmed(element)) return;
    await ctx.act(element, block, value);
  };
  return picker.node;
}

export function element(element, block, ctx) {
  if (!element || typeof element !== "object") return unsupported("element", String(element));
  switch (element.type) {
    case "button":
    case "workflow_button":
      return button(element, block, ctx);
    case "overflow":
      return overflow(element, block, ctx);
    case "image":
      return h("img", { class: "bk-accessory-image", src: element.image_url, alt: element.alt_text || "" });
    default:
      return actingPicker(element, block, ctx);
  }
}

// --- rich_text -------------------------------------------------------------------------------------------

function richLeaf(leaf, ctx) {
  const style = leaf.style || {};
  let html;
  switch (leaf.type) {
    case "text": html = escapeHtml(leaf.text).replace(/\n/g, "<br>"); break;
    case "link": html = `<a href="${escapeHtml(/^(https?:|mailto:)/.test(leaf.url) ? leaf.url : "#")}" target="_blank"`
      + ` rel="noopener">${escapeHtml(leaf.text || leaf.url)}</a>`; break;
    case "user": html = `<span class="mention">@${escapeHtml(ctx.names?.[leaf.user_id] || leaf.user_id)}</span>`; break;
    case "channel":
      html = `<span class="mention">#${escapeHtml(ctx.channelNames?.[leaf.channel_id] || leaf.channel_id)}</span>`;
      break;
    case "usergroup": html = `<span class="mention">@${escapeHtml(leaf.usergroup_id)}</span>`; break;
    case "broadcast": html = `<span class="mention">@${escapeHtml(leaf.range)}</span>`; break;
    case "emoji": html = leaf.unicode ? String.fromCodePoint(...leaf.unicode.split("-").map((c) => parseInt(c, 16)))
      : escapeHtml(emoji(leaf.name)); break;
    case "date": html = escapeHtml(leaf.fallback || new Date(leaf.timestamp * 1000).toDateString()); break;
    case "color": html = escapeHtml(leaf.value); break;
    default: return unsupported("rich text element", leaf.type).outerHTML;
  }
  if (style.code) html = `<code>${html}</code>`;
  if (style.bold) html = `<b>${html}</b>`;
  if (style.italic) html = `<i>${html}</i>`;
  if (style.strike) html = `<s>${html}</s>`;
  return html;
}

function richElement(part, ctx) {
  const leaves = () => (part.elements || []).map((leaf) => richLeaf(leaf, ctx)).join("");
  switch (part.type) {
    case "rich_text_section": return h("div", { html: leaves() });
    case "rich_text_preformatted": return h("pre", { html: leaves() });
    case "rich_text_quote": return h("blockquote", { html: leaves() });
    case "rich_text_list": {
      const list = h(part.style === "ordered" ? "ol" : "ul", { class: "bk-rich-list" });
      list.style.marginLeft = `${(part.indent || 0) * 20}px`;
      for (const item of part.elements || []) list.append(h("li", {}, richElement(item, ctx)));
      return list;
    }
    default: return unsupported("rich text", part.type);
  }
}

// --- blocks ----------------------------------------------------------------------------------------------

function section(block, ctx) {
  const body = h("div", { class: "bk-section-body" });
  if (block.text) body.append(span(textHtml(block.text, ctx)));
  if (block.fields?.length) {
    body.append(h("div", { class: "bk-fields" }, block.fields.map((field) => h("div", { html: textHtml(field, ctx) }))));
  }
  const node = h("div", { class: "bk-section" }, body);
  if (block.accessory) node.append(element(block.accessory, block, ctx));
  return node;
}

function context(block, ctx) {
  return h("div", { class: "bk-context" }, (block.elements || []).map((part) => {
    if (part.type === "image") return h("img", { src: part.image_url, alt: part.alt_text || "" });
    if (part.type === "mrkdwn" || part.type === "plain_text") return span(textHtml(part, ctx));
    return unsupported("context element", part.type);
  }));
}

function image(block) {
  return h("figure", { class: "bk-image", style: "margin:0" },
    block.title ? h("div", { class: "bk-image-title" }, textOf(block.title)) : null,
    h("img", { src: block.image_url || block.slack_file?.url || "", alt: block.alt_text || "" }));
}

function markdown(block) {
  const html = escapeHtml(block.text).replace(/\*\*([^*\n]+)\*\*/g, "<b>$1</b>").replace(/\n/g, "<br>");
  return h("div", { html });
}

function block(block, ctx) {
  switch (block?.type) {
    case "section": return section(block, ctx);
    case "header": return h("div", { class: "bk-header", html: textHtml(block.text, ctx) });
    case "context": return context(block, ctx);
    case "divider": return h("hr", { class: "bk-divider" });
    case "actions": return h("div", { class: "bk-actions" }, (block.elements || []).map((e) => element(e, block, ctx)));
    case "image": return image(block);
    case "rich_text": return h("div", {}, (block.elements || []).map((part) => richElement(part, ctx)));
    case "markdown": return markdown(block);
    case "input": return inputBlock(block, ctx);
    default: return unsupported("block", block?.type);
  }
}

export function renderBlocks(blocks, ctx) {
  const root = h("div", { class: "bk" });
  for (const item of blocks || []) {
    const node = block(item, ctx);
    node.classList.add("bk-block");
    if (item?.block_id) node.dataset.blockId = item.block_id;
    root.append(node);
  }
  return root;
}

export function renderMessageBody(message, ctx) {
  if (message.blocks?.length) return renderBlocks(message.blocks, ctx);
  const root = h("div", { class: "bk", html: mrkdwnHtml(message.text || "", ctx) });
  for (const file of message.files || []) root.append(h("div", { class: "chip" }, `📎 ${file.title || file.name}`));
  for (const attachment of message.attachments || []) {
    root.append(h("div", { class: "thread" }, attachment.blocks ? renderBlocks(attachment.blocks, ctx)
      : span(mrkdwnHtml(attachment.text || attachment.fallback || "", ctx))));
  }
  return root;
}
