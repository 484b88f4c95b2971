// treatykb explorer: a client of the public /v1 API and nothing else.
"use strict";

const API = "/v1";
const main = document.getElementById("main");
const errorBox = document.getElementById("error");

// --- helpers ---------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  for (const child of children.flat(Infinity)) if (child) el.append(child);
  return el;
};

// The data version the explorer reads at (the page's `as_of`), or null: the current data.
let asOf = null;

async function api(path, params = {}) {
  const url = new URL(API + path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  if (asOf) url.searchParams.set("as_of", asOf);
  return fetchJson(url);
}

async function fetchJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(detail);
  }
  return response.json();
}

// Replace the page's content; parts may be nested arrays of nodes and strings.
function render(...parts) {
  main.replaceChildren(...parts.flat(Infinity).filter((part) => part !== "" && part != null));
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

// The API escapes snippets and marks matches with <mark>: rebuild them as DOM nodes.
function snippet(html) {
  const out = h("span");
  let marked = false;
  for (const part of html.split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") { marked = true; continue; }
    if (part === "</mark>") { marked = false; continue; }
    const decoder = document.createElement("textarea");
    decoder.innerHTML = part;
    out.append(marked ? h("mark", {}, decoder.value) : decoder.value);
  }
  return out;
}

const slugOf = (url) => url.split("/").pop();
const statusLabel = (s) => ({ in_force: "in force", not_signed: "not yet signed" }[s] || s);
const badge = (status) => h("span", { class: `badge ${status}` }, statusLabel(status));
const table = (head, rows) => h("div", { class: "table-wrap" },
  h("table", {}, h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows)));

function sourceLinks(sources) {
  return h("span", { class: "sources" }, sources.map((s, i) => [
    i ? "; " : "",
    s.kind === "article" ? h("a", { href: `#/articles/${s.slug}` }, s.title)
      : s.web_url ? h("a", { href: s.web_url, rel: "noopener" }, s.title) : s.title,
  ]));
}

function statementItem(s, highlighted) {
  return h("article", { class: "statement" },
    h("blockquote", {}, highlighted ? snippet(highlighted) : `“${s.text}”`),
    h("div", {},
      s.speaker ? h("a", { href: `#/people/${s.speaker.slug}` }, s.speaker.name) : (s.country?.name ?? ""),
      s.speaker_role ? `, ${s.speaker_role}` : "", " · ",
      h("time", { datetime: s.said_on }, s.said_on),
      s.said_on_precision !== "day" ? h("span", { class: "muted" }, ` (${s.said_on_precision} only)`) : "",
      s.article ? [" · ", h("a", { href: `#/articles/${s.article.slug}` }, s.article.title)] : ""),
    s.sources ? h("div", {}, "Source: ", sourceLinks(s.sources)) : "");
}

// --- timeline --------------------------------------------------------------------------

const MARKED = new Set(["extension", "suspension", "withdrawal_announced", "withdrawal_notified",
  "withdrawal_effective", "expiry"]);

function timeline(treaties, events) {
  const today = new Date();
  const start = 1985, end = today.getFullYear() + 2;
  const width = 900, left = 110, row = 46, top = 30;
  const x = (iso) => {
    const [y, m = 1, d = 1] = iso.split("-").map(Number);
    return left + ((y + (m - 1) / 12 + (d - 1) / 365 - start) / (end - start)) * (width - left - 10);
  };
  const height = top + treaties.length * row + 20;
  const chart = svg("svg", { class: "timeline", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Timeline of the treaties from signature to today" });
  for (let year = start; year <= end; year += 5) {
    chart.append(svg("line", { x1: x(`${year}`), x2: x(`${year}`), y1: 20, y2: height - 10, stroke: "#eef0f3" }),
      svg("text", { x: x(`${year}`) - 14, y: 14 }, document.createTextNode(year)));
  }
  treaties.forEach((t, i) => {
    const y = top + i * row;
    const ends = t.ended_on || today.toISOString().slice(0, 10);
    const bars = [];
    if (t.signed_on) bars.push(svg("rect", { x: x(t.signed_on), y, height: 18, rx: 3, fill: "var(--signed)",
      width: Math.max(2, x(t.entered_into_force_on || ends) - x(t.signed_on)) }));
    if (t.entered_into_force_on) bars.push(svg("rect", { x: x(t.entered_into_force_on), y, height: 18, rx: 3,
      fill: t.ended_on ? "var(--ended)" : "var(--force)",
      width: Math.max(2, x(ends) - x(t.entered_into_force_on)) }));
    const marks = events.filter((e) => e.treaty.slug === t.slug && MARKED.has(e.type)).map((e) =>
      svg("circle", { cx: x(e.date), cy: y + 9, r: 5, fill: "#fff", stroke: "#1d2430", "stroke-width": 2 },
        svg("title", {}, document.createTextNode(`${e.date} ${e.type.replace(/_/g, " ")}: ${e.description}`))));
    // Named by what it shows (the treaty, then its status), as a screen reader reads it.
    const link = svg("a", { href: `#/treaties/${t.slug}`, class: "treaty-bar", "data-slug": t.slug },
      svg("rect", { x: 0, y: y - 6, width, height: row - 4, fill: "transparent" }),
      svg("text", { x: 4, y: y + 13 }, document.createTextNode(t.short_name)), bars,
      svg("text", { x: 4, y: y + 30, class: "status" }, document.createTextNode(statusLabel(t.status))));
    // The marks' titles are not the link's text: its name stays what it shows.
    chart.append(link, svg("g", {}, marks));
  });
  const now = x(today.toISOString().slice(0, 10));
  chart.append(svg("line", { x1: now, x2: now, y1: 20, y2: height - 10, stroke: "var(--warn)", "stroke-dasharray": "4 3" }),
    svg("text", { x: now - 30, y: height - 2, fill: "var(--warn)" }, document.createTextNode("today")));
  return chart;
}

// --- statements per month: chart and facet menus -------------------------------------

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
const monthLabel = (m) => `${MONTHS[Number(m.slice(5, 7)) - 1]} ${m.slice(0, 4)}`;
const SHADES = 6;  // series colours: classes s0-s5 in style.css, the last for "other"
const STACKS = { "": "nothing", treaty: "treaty", country: "country" };

// A filtered view's hash: the current filters with `changes` applied ("" removes one).
function viewHash(params, changes) {
  const next = new URLSearchParams(params);
  for (const [name, value] of Object.entries(changes)) {
    if (value) next.set(name, value); else next.delete(name);
  }
  return `#/statements?${next}`;
}

// Counts per month of the filtered statements, split by the top values of `stack` (one
// request each, the rest as "other"): [{label, shade, counts: Map(month -> n)}].
async function monthSeries(query, stack, facets) {
  const months = facets["said_on:month"].values;
  if (!stack) return [{ label: "statements", shade: 0, counts: new Map(months.map((v) => [v.value, v.count])) }];
  const top = facets[stack].values.filter((v) => !v.selected).slice(0, SHADES - 1);
  const parts = await Promise.all(top.map((v) =>
    api("/statements", { ...query, [stack]: v.value, facet: "said_on:month", limit: 1 })));
  const series = top.map((v, i) => ({ label: v.label, shade: i,
    counts: new Map(parts[i].facets["said_on:month"].values.map((m) => [m.value, m.count])) }));
  const other = new Map(months.map((m) => [m.value,
    m.count - series.reduce((sum, s) => sum + (s.counts.get(m.value) || 0), 0)]));
  if ([...other.values()].some((n) => n > 0)) series.push({ label: "other", shade: SHADES - 1, counts: other });
  return series;
}

// Every month from the first to the last counted, the empty ones at 0: a time axis.
function everyMonth(counted) {
  if (!counted.length) return [];
  const byMonth = new Map(counted.map((m) => [m.value, m.count]));
  const [first, last] = [counted[0].value, counted[counted.length - 1].value];
  const months = [];
  for (let y = Number(first.slice(0, 4)), m = Number(first.slice(5, 7)); ; m += 1) {
    if (m > 12) { y += 1; m = 1; }
    const value = `${y}-${String(m).padStart(2, "0")}`;
    months.push({ value, count: byMonth.get(value) || 0 });
    if (value >= last || months.length > 1200) return months;
  }
}

// A bar per month (stacked), each a link to the list of that month.
function monthChart(counted, series, params, title) {
  const months = everyMonth(counted);
  const width = 900, height = 220, left = 40, bottom = 30, top = 10;
  const most = Math.max(1, ...months.map((m) => m.count));
  const step = Math.min(48, (width - left - 10) / Math.max(months.length, 1));
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "group",
    "aria-label": title });
  const y = (n) => top + (height - top - bottom) * (1 - n / most);
  chart.append(svg("line", { x1: left, x2: width - 10, y1: y(0), y2: y(0), stroke: "#aab3c0" }),
    svg("text", { x: 4, y: y(most) + 10 }, document.createTextNode(most)),
    svg("text", { x: 4, y: y(0) }, document.createTextNode("0")));
  months.forEach((m, i) => {
    const x = left + i * step;
    let base = 0;
    const name = `${monthLabel(m.value)}: ${m.count} statement${m.count === 1 ? "" : "s"}`;
    const bars = series.map((s) => {
      const n = s.counts.get(m.value) || 0;
      const rect = svg("rect", { x: x + 1, y: y(base + n), width: Math.max(1, step - 2),
        height: y(base) - y(base + n), class: `s${s.shade}` });
      base += n;
      return rect;
    });
    if (m.count) {
      chart.append(svg("a", { href: viewHash(params, { during: m.value }), class: "bar", "data-month": m.value,
        "aria-label": name }, svg("title", {}, document.createTextNode(name)), bars));
    }
    if (i % Math.ceil(months.length / 8) === 0) {
      chart.append(svg("text", { x, y: height - 10 }, document.createTextNode(m.value)));
    }
  });
  const legend = series.length > 1 ? h("ul", { class: "legend" }, series.map((s) =>
    h("li", {}, h("span", { class: `swatch s${s.shade}` }), s.label))) : "";
  return h("figure", { class: "chart-wrap" }, h("figcaption", {}, title), chart, legend);
}

// A facet's values as links that narrow the list (or widen it again, when selected).
function facetMenu(name, title, answer, params) {
  return h("section", { class: "facet", "data-facet": name }, h("h2", {}, title),
    h("ul", {}, answer.values.map((v) => {
      const held = (params.get(name) || "").split(",").filter(Boolean);
      const next = v.selected ? held.filter((x) => x !== v.value) : [...held, v.value];
      return h("li", {}, h("a", { href: viewHash(params, { [name]: next.join(",") }),
        "aria-current": v.selected ? "true" : false, class: v.selected ? "selected" : "" },
        v.label, " ", h("span", { class: "count" }, `(${v.count})`)));
    }), answer.more ? h("li", { class: "muted" }, "…") : ""));
}

// --- pages -----------------------------------------------------------------------------

async function homePage(params) {
  const [treaties, events] = await Promise.all([api("/treaties"), api("/timeline", { limit: 500 })]);
  const day = params.get("on") || new Date().toISOString().slice(0, 10);
  const picker = h("input", { type: "date", id: "status-date", value: day, min: "1985-01-01" });
  picker.addEventListener("change", () => { location.hash = `#/?on=${picker.value}`; });
  const statuses = await Promise.all(treaties.items.map((t) => api(`/treaties/${t.slug}/status`, { on: day })));
  render(
    h("h1", {}, "Arms-control treaties"),
    timeline(treaties.items, events.items),
    h("p", { class: "muted" }, "Light: signed; green: in force; grey: ended. Circles mark extensions, suspensions and withdrawals."),
    h("h2", {}, "Status on a date"),
    h("label", { for: "status-date" }, "Date", picker),
    table(["Treaty", "Status", "Expires", "Days left", "Parties"], statuses.map((s) => h("tr", { "data-slug": s.treaty.slug },
      h("td", {}, h("a", { href: `#/treaties/${s.treaty.slug}` }, s.treaty.short_name)),
      h("td", {}, badge(s.status)), h("td", {}, s.expires_on ?? "—"),
      h("td", {}, s.days_until_expiry ?? "—"), h("td", {}, s.party_count)))));
}

async function treatyPage(slug) {
  const t = await api(`/treaties/${slug}`);  // first: an unknown slug stops here
  const [events, statements, articles, counted] = await Promise.all([
    api(`/treaties/${slug}/events`, { limit: 500 }),
    api(`/treaties/${slug}/statements`, { limit: 20 }), api(`/treaties/${slug}/articles`),
    api("/statements", { treaty: slug, facet: FACETS, limit: 1 })]);
  const series = await monthSeries({ treaty: slug }, "country", counted.facets);
  const status = await api(`/treaties/${slug}/status`);
  render(
    h("h1", {}, `${t.name} (${t.short_name})`),
    h("p", {}, badge(t.status),
      status.days_until_expiry !== null ? ` · expires ${t.expires_on}, in ${status.days_until_expiry} days` : "",
      t.ended_on ? ` · ended ${t.ended_on}` : ""),
    h("p", { class: "muted" }, t.official_name),
    h("p", {}, `Signed ${t.signed_on ?? "—"} at ${t.signed_at ?? "—"}; in force ${t.entered_into_force_on ?? "—"}.`),
    h("p", {}, t.summary),
    h("h2", {}, "Limits"),
    table(["Limit", "Value", "What counts", "From", "Sources"], t.limits.map((l) => h("tr", {},
      h("td", {}, l.category),
      h("td", { class: "value" }, l.value !== null ? `${l.value.toLocaleString("en-US")} ${l.unit}`
        : `${l.min_value.toLocaleString("en-US")}–${l.max_value.toLocaleString("en-US")} ${l.unit}`),
      h("td", {}, l.counts, l.note ? h("div", { class: "muted" }, l.note) : ""),
      h("td", {}, l.applies_from ?? "—"), h("td", {}, sourceLinks(l.sources))))),
    h("h2", {}, "Parties"),
    table(["State", "Role today", "Signed", "Ratified / acceded", "In force", "Withdrawal notified", "Withdrawal effective"],
      t.parties.map((p) => h("tr", { class: p.role === "withdrawn" ? "withdrawn-row" : "" },
        h("td", { class: p.role === "withdrawn" ? "withdrawn" : "" }, p.country.name),
        h("td", {}, p.role ? p.role.replace("_", " ") : "—"), h("td", {}, p.signed_on ?? ""),
        h("td", {}, p.consented_on ?? ""),
        h("td", {}, p.in_force_on ?? p.party_by_on ?? (p.party_date_unknown ? "date unknown" : "")),
        h("td", {}, p.withdrawal_notified_on ?? ""), h("td", {}, p.withdrawal_effective_on ?? "")))),
    h("h2", {}, "Timeline"),
    h("ol", { class: "events" }, events.items.map((e) => h("li", {},
      h("time", { datetime: e.date }, e.date), ` — ${e.type.replace(/_/g, " ")}: ${e.description} `,
      sourceLinks(e.sources)))),
    h("h2", {}, "Statements"),
    monthChart(counted.facets["said_on:month"].values, series, new URLSearchParams({ treaty: slug }),
      `Statements on ${t.short_name} per month, by speaker's country`),
    statements.items.map((s) => statementItem(s)),
    h("p", {}, h("a", { href: `#/statements?treaty=${slug}` }, "All statements on this treaty")),
    h("h2", {}, "Articles"),
    h("ul", {}, articles.items.map((a) => h("li", {}, h("a", { href: `#/articles/${a.slug}` }, a.title),
      ` (${a.publication}, ${a.published_on})`))),
    h("h2", {}, "Sources"), h("p", {}, sourceLinks(t.sources)));
}

const FILTERS = ["q", "treaty", "speaker", "country", "since", "until", "during"];
const FACETS = "treaty,speaker,country,said_on:month";

async function statementsPage(params) {
  const [treaties, people] = await Promise.all([api("/treaties"), api("/people", { limit: 500 })]);
  const field = (name, label, input) => h("label", {}, label, input);
  const select = (name, options) => h("select", { name, id: `f-${name}` }, h("option", { value: "" }, "Any"),
    options.map(([value, text]) => h("option", { value, selected: params.get(name) === value }, text)));
  const form = h("form", { class: "filters", role: "search" },
    field("q", "Search text", h("input", { name: "q", type: "search", id: "f-q", value: params.get("q") ?? "" })),
    field("treaty", "Treaty", select("treaty", treaties.items.map((t) => [t.slug, t.short_name]))),
    field("speaker", "Speaker", select("speaker", people.items.map((p) => [p.slug, p.name]))),
    field("country", "Country code", h("input", { name: "country", id: "f-country", maxlength: 2, value: params.get("country") ?? "" })),
    field("since", "Since", h("input", { name: "since", type: "date", id: "f-since", value: params.get("since") ?? "" })),
    field("until", "Until", h("input", { name: "until", type: "date", id: "f-until", value: params.get("until") ?? "" })),
    field("stack", "Stack the chart by", h("select", { name: "stack", id: "f-stack" }, Object.entries(STACKS).map(([value, text]) =>
      h("option", { value, selected: (params.get("stack") || "") === value }, text)))),
    h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const name of [...FILTERS, "stack"]) {
      const value = form.elements[name] ? form.elements[name].value : params.get(name);
      if (value) chosen.set(name, value);
    }
    location.hash = `#/statements?${chosen}`;
  });
  const list = h("div", { id: "results" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const count = h("p", { class: "muted", id: "count" });
  const query = Object.fromEntries(FILTERS.filter((n) => params.get(n)).map((n) => [n, params.get(n)]));
  const counted = await api("/statements", { ...query, facet: FACETS, limit: 20 });
  const stack = params.get("stack") || "";
  const series = await monthSeries(query, stack, counted.facets);
  const during = params.get("during");
  render(h("h1", {}, "Statements"), form,
    monthChart(counted.facets["said_on:month"].values, series, params,
      `Statements per month${stack ? `, by ${STACKS[stack]}` : ""}`),
    during ? h("p", {}, `During ${during.length === 7 ? monthLabel(during) : during} · `,
      h("a", { href: viewHash(params, { during: "" }) }, "every month")) : "",
    h("div", { class: "faceted" },
      h("div", { class: "facets" },
        facetMenu("treaty", "Treaty", counted.facets.treaty, params),
        facetMenu("country", "Speaker's country", counted.facets.country, params),
        facetMenu("speaker", "Speaker", counted.facets.speaker, params)),
      h("div", {}, count, list, more)));
  // Search text without a country goes to /search for highlighted snippets.
  const searching = query.q && !query.country && !query.during;
  let page = searching ? await api("/search", { ...query, type: "statement", limit: 20 }) : counted;
  const append = async (result) => {
    if (searching) {
      const full = await Promise.all(result.items.map((hit) => api(`/statements/${hit.key}`)));
      full.forEach((s, i) => list.append(statementItem(s, result.items[i].snippet)));
    } else {
      result.items.forEach((s) => list.append(statementItem(s)));
    }
    more.hidden = !result.next;
  };
  count.textContent = `${page.total} statement${page.total === 1 ? "" : "s"}`;
  await append(page);
  more.addEventListener("click", async () => {
    more.disabled = true;
    try { page = await fetchJson(page.next); await append(page); } catch (e) { showError(e.message); }
    more.disabled = false;
  });
}

async function personPage(slug) {
  const [p, statements] = await Promise.all([api(`/people/${slug}`), api(`/people/${slug}/statements`, { limit: 100 })]);
  render(
    h("h1", {}, p.name),
    p.aliases.length ? h("p", { class: "muted" }, `Also spelled: ${p.aliases.join(", ")}`) : "",
    p.description ? h("p", {}, p.description) : "",
    h("h2", {}, "Positions"),
    table(["Title", "Organisation", "From", "To", "Held today", "Sources"], p.positions.map((pos) => h("tr", {},
      h("td", {}, pos.title), h("td", {}, pos.organization), h("td", {}, pos.start_on ?? "unknown"),
      h("td", {}, pos.end_on ?? (pos.end_by_on ? `by ${pos.end_by_on}` : "unknown")),
      h("td", {}, pos.held), h("td", {}, sourceLinks(pos.sources))))),
    h("h2", {}, "Statements"), statements.items.map((s) => statementItem(s)));
}

async function articlePage(slug) {
  const a = await api(`/articles/${slug}`);
  render(
    h("h1", {}, a.title),
    h("p", {}, `${a.publication}, ${a.published_on} · by ${a.authors.map((x) => x.name).join(" and ")}`),
    a.web_url ? h("p", {}, h("a", { href: a.web_url, rel: "noopener" }, "Read the article")) : "",
    h("p", {}, a.summary),
    h("p", {}, "Treaties: ", a.treaties.map((t, i) => [i ? ", " : "", h("a", { href: `#/treaties/${t.slug}` }, t.short_name)])),
    h("h2", {}, "Statements it reports"), a.statements.map((s) => statementItem(s)));
}

// --- routing ---------------------------------------------------------------------------

async function route() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean);
  asOf = params.get("as_of");
  params.delete("as_of");
  showError("");
  main.classList.add("loading");
  main.setAttribute("aria-busy", "true");
  try {
    if (parts[0] === "treaties" && parts[1]) await treatyPage(parts[1]);
    else if (parts[0] === "statements") await statementsPage(params);
    else if (parts[0] === "people" && parts[1]) await personPage(parts[1]);
    else if (parts[0] === "articles" && parts[1]) await articlePage(parts[1]);
    else await homePage(params);
  } catch (error) {
    render(h("h1", {}, "Something went wrong"));
    showError(error.message);
  } finally {
    main.classList.remove("loading");
    main.removeAttribute("aria-busy");
    keepVersion();
    showVersion();
  }
}

// --- data versions: every page citable, and readable as it was -------------------------

// A link to another page stays at the version this one is read at (or, reading the
// current data, at the current data).
function keepVersion() {
  for (const link of document.querySelectorAll('a[href^="#/"]')) {
    const [path, query = ""] = link.getAttribute("href").split("?");
    const params = new URLSearchParams(query);
    if (asOf) params.set("as_of", asOf);
    else params.delete("as_of");
    const rest = params.toString();
    link.setAttribute("href", rest ? `${path}?${rest}` : path);
  }
}

// This page's URL at `version`, or (null) at the current data.
function pageAt(version) {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  if (version === null) params.delete("as_of");
  else params.set("as_of", version);
  const rest = params.toString();
  return `#${path || "/"}${rest ? `?${rest}` : ""}`;
}

function versionTools() {
  const footer = document.querySelector("footer");
  const cite = h("a", { id: "cite" }, "Cite this page");
  const field = h("input", { id: "at-version", type: "number", min: "0", inputmode: "numeric" });
  const form = h("form", { id: "at" }, h("label", { for: "at-version" }, "Open as of version "),
    field, " ", h("button", { type: "submit" }, "Open"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (field.value) location.hash = pageAt(field.value);
  });
  footer.append(" ", cite, h("p", { id: "citation" }), form);
  main.before(h("p", { id: "past", role: "status", hidden: true }));
}

async function showVersion() {
  const banner = document.getElementById("past");
  try {
    const meta = await api("/meta");
    document.getElementById("version").textContent = meta.data_version;
    const cite = document.getElementById("cite");
    cite.href = new URL(pageAt(meta.data_version), location.href).href;
    document.getElementById("citation").textContent = meta.citation;
    banner.replaceChildren(
      `You are reading the data as it was at version ${meta.data_version}, made `
      + `${meta.changed_at.slice(0, 10)}. `, h("a", { href: pageAt(null) }, "See the current data"));
    banner.hidden = !asOf;
  } catch (error) {
    banner.hidden = !asOf;
    if (asOf) banner.textContent = error.message;  // a version that cannot be read
  }
}

// --- search as you type --------------------------------------------------------------

// What the box holds, as a query: its last word, still being typed, as a prefix ("treat"
// finds "treaty"), unless the user has moved on (a space) or is inside a quoted phrase.
function typedQuery(text) {
  const open = (text.match(/"/g) || []).length % 2 === 1;
  return !open && /[\p{L}\p{N}]{2,}$/u.test(text) ? `${text}*` : text;
}

const QUICK_WAIT = 150;  // ms after the last keystroke
const quickPlace = {
  treaty: (hit) => `#/treaties/${hit.key}`, person: (hit) => `#/people/${hit.key}`,
  article: (hit) => `#/articles/${hit.key}`,
};

function quickSearch() {
  // Made here, not in index.html: the page stays under 1 KiB, sent as it is (.ci/redbot).
  const input = h("input", { id: "quick-q", name: "q", type: "search", autocomplete: "off",
    placeholder: "Search as you type", "aria-describedby": "quick-status", "aria-controls": "quick-results" });
  const status = h("p", { id: "quick-status", class: "muted", "aria-live": "polite" });
  const results = h("ol", { id: "quick-results", hidden: true });
  const form = h("form", { id: "quick", role: "search" },
    h("label", { for: "quick-q", class: "quick-label" }, "Search everything"), input, status, results);
  document.querySelector("header").append(form);
  let timer = 0, asked = 0, pending = null;
  const show = (hits, total, text) => {
    results.replaceChildren(...hits.map((hit) => h("li", {},
      h("span", { class: "kind" }, hit.type),
      h("a", { href: (quickPlace[hit.type] || (() => `#/statements?q=${encodeURIComponent(text)}`))(hit) },
        snippet(hit.snippet || hit.label)))));
    results.hidden = hits.length === 0;
    status.textContent = `${total} match${total === 1 ? "" : "es"}`;
  };
  const ask = async () => {
    const text = input.value.trim();
    const mine = ++asked;
    if (pending) pending.abort();
    if (!text) { results.hidden = true; status.textContent = ""; return; }
    pending = new AbortController();
    try {
      const url = new URL(`${API}/search`, location.origin);
      url.search = new URLSearchParams({ q: typedQuery(input.value), limit: 8 });
      if (asOf) url.searchParams.set("as_of", asOf);
      const response = await fetch(url, { signal: pending.signal, headers: { Accept: "application/json" } });
      const body = await response.json();
      if (mine !== asked) return;  // a newer keystroke's answer is on its way
      if (!response.ok) { results.hidden = true; status.textContent = body.detail; return; }
      show(body.items, body.total, text);
    } catch (error) {
      if (error.name !== "AbortError") status.textContent = error.message;
    }
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, QUICK_WAIT); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    results.hidden = true;
    location.hash = `#/statements?q=${encodeURIComponent(input.value.trim())}`;
  });
  results.addEventListener("click", () => { results.hidden = true; });
}

window.addEventListener("hashchange", route);
quickSearch();
versionTools();
route();
