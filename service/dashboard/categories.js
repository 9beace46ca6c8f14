/* Categories and agent QA on the dashboard (GET /v1/categories, /v1/categories/{id}/trend, /v1/qa): a table of
   the categories' contacts per reason stage of the taxonomy shown, one category's trend (contacts that matched
   it and their rate per week or day), and the agents' QA scores with an Excel export. dashboard.js calls load()
   after each overview with the filters of the page, and render() when the language changes. */
(function (global) {
  "use strict";
  const {i18n, charts} = global.JL;
  const h = charts.h;
  const KEY_STORAGE = "journeylens.apiKey";
  const WORDS = {
    zh: {categories: "类别", categoriesHint: "每个阶段中命中该类别的联络量（悬停查看占该阶段联络的比例）。点击一行查看趋势。",
      category: "类别", all: "全部阶段", rate: "占比", noCategories: "所选范围内没有命中任何类别。",
      trendOf: "{name} · 趋势", matched: "命中联络", qa: "坐席质检", agent: "坐席", team: "组",
      score: "平均分", minScore: "最低分", autoFails: "一票否决", export: "导出 Excel", noQa: "所选范围内没有坐席联络。",
      qaHint: "{n} 次有坐席的联络 · 评分表 {card}"},
    en: {categories: "Categories", categoriesHint: "Contacts that matched each category per stage (hover for the share of the stage). Click a row for its trend.",
      category: "Category", all: "All stages", rate: "Rate", noCategories: "No category matched in this window.",
      trendOf: "{name} · trend", matched: "Matched contacts", qa: "Agent QA", agent: "Agent", team: "Team",
      score: "Mean score", minScore: "Lowest", autoFails: "Auto-fails", export: "Export Excel", noQa: "No contact with an agent in this window.",
      qaHint: "{n} contacts with an agent · scorecard {card}"},
  };
  const w = (key, vars = {}) => (WORDS[i18n.lang] || WORDS.zh)[key].replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? "");
  const $ = (selector) => document.querySelector(selector);
  const number = (value, digits = 1) => value === null || value === undefined ? "—" : Number(value).toFixed(digits);

  const view = {context: null, categories: null, qa: null, trend: null, selected: null, generation: 0};

  function fill(selector, ...children) {
    $(selector).replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  }

  /** context: {api, params (the page's filters), stages (stage ids in journey order), stageName, period}. */
  async function load(context) {
    const mine = ++view.generation;
    const [categories, qa] = await Promise.all([context.api("v1/categories", context.params),
      context.api("v1/qa", {...context.params, limit: 0})]);
    if (mine !== view.generation) return;  // a newer load (other filters) is under way
    view.context = context;
    view.categories = categories;
    view.qa = qa;
    const matched = categories.categories.filter((c) => c.contacts > 0);
    if (!matched.some((c) => c.category_id === view.selected)) {
      view.selected = matched.length ? [...matched].sort((a, b) => b.contacts - a.contacts)[0].category_id : null;
    }
    render();
    await loadTrend();
  }

  async function loadTrend() {
    const {context} = view;
    if (!view.selected) {
      view.trend = null;
      const element = $("#category-trend");
      await charts.clear(element, () => {  // after any draw of the trend still in flight
        delete element.dataset.category;
        fill(element, h("p", {class: "empty-message"}, w("noCategories")));
      });
      return;
    }
    view.trend = await context.api(`v1/categories/${encodeURIComponent(view.selected)}/trend`,
      {...context.params, period: context.period || "week"});
    await renderTrend();
  }

  function select(categoryId) {
    view.selected = categoryId;
    renderTable();
    loadTrend().catch((error) => console.error(error));
  }

  function render() {
    if (!view.categories) return;
    $("#categories-title").textContent = w("categories");
    $("#categories-hint").textContent = w("categoriesHint");
    $("#qa-title").textContent = w("qa");
    $("#qa-export").textContent = w("export");
    fill("#category-ids", view.categories.categories.map((c) => h("option", {value: c.category_id}, c.name)));
    renderTable();
    renderQa();
    if (view.trend) renderTrend();
  }

  function renderTable() {
    const {categories, context} = view;
    const shown = categories.categories.filter((c) => c.contacts > 0);
    if (!shown.length) {
      fill("#categories-table", h("p", {class: "empty-message"}, w("noCategories")));
      return;
    }
    const cells = {};
    for (const row of categories.by_stage) cells[`${row.category_id}|${row.stage}`] = row;
    const stages = context.stages.filter((stage) => categories.by_stage.some((row) => row.stage === stage));
    fill("#categories-table", h("table", {class: "table compact"},
      h("thead", null, h("tr", null, h("th", null, w("category")), h("th", null, w("all")), h("th", null, w("rate")),
        stages.map((stage) => h("th", {dataset: {stage}}, context.stageName(stage))))),
      h("tbody", null, shown.map((c) => h("tr", {
        class: c.category_id === view.selected ? "selected" : null, dataset: {category: c.category_id},
        onclick: () => select(c.category_id)},
      h("td", {title: c.description || c.category_id}, c.name),
      h("td", {class: "count", dataset: {stage: ""}}, c.contacts),
      h("td", null, `${number(c.rate_pct)}%`),
      stages.map((stage) => {
        const cell = cells[`${c.category_id}|${stage}`];
        return h("td", {class: "count", dataset: {stage}, title: cell ? `${number(cell.rate_pct)}%` : null,
          style: cell ? `background: rgba(214, 69, 65, ${Math.min(0.08 + cell.rate_pct / 100, 0.6).toFixed(2)})` : null},
        cell ? cell.contacts : "");
      }))))));
  }

  async function renderTrend() {
    const {trend} = view;
    const points = trend.points;
    const data = [
      {type: "bar", name: w("matched"), x: points.map((p) => p.period), y: points.map((p) => p.matched),
        marker: {color: "#d64541"}, hovertemplate: "%{x}: %{y}<extra></extra>"},
      {type: "scatter", mode: "lines+markers", name: w("rate"), x: points.map((p) => p.period),
        y: points.map((p) => p.rate_pct), yaxis: "y2", line: {color: "#333"}, hovertemplate: "%{x}: %{y:.1f}%<extra></extra>"},
    ];
    const layout = {title: {text: w("trendOf", {name: trend.name}), font: {size: 13}}, height: 260,
      margin: {l: 40, r: 48, t: 36, b: 36}, showlegend: false, xaxis: {type: "date"},
      yaxis: {title: {text: w("matched")}, rangemode: "tozero"},
      yaxis2: {overlaying: "y", side: "right", ticksuffix: "%", rangemode: "tozero", showgrid: false},
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
    const element = $("#category-trend");
    element.dataset.category = trend.category_id;
    await charts.draw(element, {data, layout});
  }

  function renderQa() {
    const {qa} = view;
    $("#qa-hint").textContent = w("qaHint", {n: qa.contacts_total, card: qa.scorecard.name});
    if (!qa.agents.length) {
      fill("#qa-table", h("p", {class: "empty-message"}, w("noQa")));
      return;
    }
    const items = qa.items.filter((item) => item.kind === "item");
    fill("#qa-table", h("table", {class: "table compact"},
      h("thead", null, h("tr", null, [w("agent"), w("team"), i18n.t("contacts"), w("score"), w("minScore"),
        w("autoFails"), ...items.map((item) => item.name.split(" / ")[i18n.lang === "en" ? 1 : 0] || item.item)]
        .map((label) => h("th", null, label)))),
      h("tbody", null, [...qa.agents].sort((a, b) => (a.score ?? 101) - (b.score ?? 101)).map((agent) => h("tr", {
        dataset: {agent: agent.agent_id}},
      h("td", null, agent.agent_id), h("td", null, agent.team ?? "—"), h("td", null, agent.contacts),
      h("td", {class: "score"}, number(agent.score)), h("td", null, number(agent.score_min)), h("td", null, agent.auto_fails),
      items.map((item) => h("td", {dataset: {item: item.item}}, agent.item_pct[item.item] === null ? "—"
        : `${number(agent.item_pct[item.item], 0)}%`)))))));
  }

  async function exportQa() {
    const url = new URL("v1/qa/export.xlsx", document.baseURI);
    for (const [name, value] of Object.entries(view.context ? view.context.params : {})) {
      for (const item of Array.isArray(value) ? value : [value]) if (item) url.searchParams.append(name, item);
    }
    const response = await fetch(url, {headers: {"X-API-Key": sessionStorage.getItem(KEY_STORAGE) || ""}});
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const link = h("a", {href: URL.createObjectURL(await response.blob()), download: "qa.xlsx"});
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("#qa-export").addEventListener("click", () => exportQa().catch((error) => console.error(error)));
  });

  global.JL.categoryViews = {load, render};
})(window);
