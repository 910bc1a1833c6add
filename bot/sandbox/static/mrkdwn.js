// Slack text objects as HTML: mrkdwn (bold, italic, strike, code, links, mentions, emoji) and plain_text.

const EMOJI = {
  large_green_circle: "🟢", large_orange_circle: "🟠", large_yellow_circle: "🟡", red_circle: "🔴",
  white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", hourglass_flowing_sand: "⏳",
  hourglass: "⌛", rocket: "🚀", calendar: "📅", date: "📅", spiral_calendar_pad: "🗓️", tada: "🎉",
  fire: "🔥", eyes: "👀", bulb: "💡", memo: "📝", pushpin: "📌", chart_with_upwards_trend: "📈",
  chart_with_downwards_trend: "📉", bar_chart: "📊", dart: "🎯", bell: "🔔", lock: "🔒", link: "🔗",
  construction: "🚧", no_entry: "⛔", stopwatch: "⏱️", alarm_clock: "⏰", mag: "🔍", star: "⭐",
  thumbsup: "👍", "+1": "👍", thumbsdown: "👎", wave: "👋", sparkles: "✨", information_source: "ℹ️",
  question: "❓", exclamation: "❗", arrow_right: "➡️", arrow_up: "⬆️", arrow_down: "⬇️",
  busts_in_silhouette: "👥", bust_in_silhouette: "👤", package: "📦", clipboard: "📋", zap: "⚡",
  traffic_light: "🚥", checkered_flag: "🏁", rotating_light: "🚨", inbox_tray: "📥", email: "📧",
  speech_balloon: "💬", thinking_face: "🤔", heavy_plus_sign: "➕", heavy_minus_sign: "➖",
  white_circle: "⚪", black_circle: "⚫", large_blue_circle: "🔵", large_purple_circle: "🟣",
  leftwards_arrow_with_hook: "↩️", arrows_counterclockwise: "🔄", hammer_and_wrench: "🛠️", shield: "🛡️",
  trophy: "🏆", crystal_ball: "🔮", mega: "📣", loudspeaker: "📢", new: "🆕", soon: "🔜", clock3: "🕒",
};

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

// Slack escapes &, < and > in mrkdwn; turn them back before escaping everything for HTML.
function unescapeSlack(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function emoji(name) {
  return EMOJI[name] ?? `:${name}:`;
}

function emojify(html) {
  return html.replace(/:([a-z0-9_+\-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

function safeUrl(url) {
  return /^(https?:|mailto:)/i.test(url) ? url : "#";
}

function linkHtml(inner, ctx) {
  const [target, label] = inner.split("|", 2);
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return `<span class="mention">@${escapeHtml(label || ctx.names?.[id] || id)}</span>`;
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return `<span class="mention">#${escapeHtml(label || ctx.channelNames?.[id] || id)}</span>`;
  }
  if (target.startsWith("!")) {
    const special = target.slice(1).split("^")[0];
    if (special.startsWith("date")) return escapeHtml(label || special);
    if (special.startsWith("subteam")) return `<span class="mention">@${escapeHtml(label || "group")}</span>`;
    return `<span class="mention">@${escapeHtml(label || special)}</span>`;
  }
  const url = unescapeSlack(target);
  const text = label ? unescapeSlack(label) : url;
  return `<a href="${escapeHtml(safeUrl(url))}" target="_blank" rel="noopener">${escapeHtml(text)}</a>`;
}

// Formatting marks only count at word edges, as in Slack: snake_case_names stay as they are.
function formatMarks(html) {
  return html
    .replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?=[^\w*]|$)/g, "$1<b>$2</b>")
    .replace(/(^|[^\w_])_(?!\s)([^_\n]+?)_(?=[^\w_]|$)/g, "$1<i>$2</i>")
    .replace(/(^|[^\w~])~(?!\s)([^~\n]+?)~(?=[^\w~]|$)/g, "$1<s>$2</s>");
}

export function mrkdwnHtml(text, ctx = {}) {
  const kept = [];
  const keep = (html) => `\u0000${kept.push(html) - 1}\u0000`;
  let source = String(text ?? "");
  source = source.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre>${escapeHtml(unescapeSlack(code))}</pre>`));
  source = source.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${escapeHtml(unescapeSlack(code))}</code>`));
  source = source.replace(/<([^<>\n]+)>/g, (_, inner) => keep(linkHtml(inner, ctx)));
  let html = escapeHtml(unescapeSlack(source));
  html = formatMarks(emojify(html));
  html = html
    .split("\n")
    .map((line) => (line.startsWith("&gt; ") ? `<blockquote>${line.slice(5)}</blockquote>` : line))
    .join("\n")
    .replace(/\n/g, "<br>")
    .replace(/<\/blockquote><br>/g, "</blockquote>");
  return html.replace(/\u0000(\d+)\u0000/g, (_, index) => kept[Number(index)]);
}

export function plainHtml(text, withEmoji = true) {
  const html = escapeHtml(text).replace(/\n/g, "<br>");
  return withEmoji ? emojify(html) : html;
}

// A text object ({type: "mrkdwn"|"plain_text", text}) as HTML.
export function textHtml(object, ctx = {}) {
  if (!object) return "";
  if (typeof object === "string") return plainHtml(object);
  if (object.type === "mrkdwn") return mrkdwnHtml(object.text, ctx);
  return plainHtml(object.text, object.emoji !== false);
}

export function textOf(object) {
  if (!object) return "";
  return typeof object === "string" ? object : String(object.text ?? "");
}
