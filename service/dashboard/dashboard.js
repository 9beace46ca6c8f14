/* The dashboard page: asks for an API key (kept in sessionStorage), reads the /v1 analytics routes with the
   filters of the URL, and draws the journey map, the frequency × pain quadrant, the stage trend with change
   impact, the stage drill-down with evidence and transcripts, and the customer-view journey. The URL query
   string holds the whole view, so a copied URL shows the same thing. */
(function () {
  "use strict";
  const {i18n, charts} = window.JL;
  const h = charts.h;
  const t = (key, vars) => i18n.t(key, vars);
  const KEY_STORAGE = "journeylens.apiKey";
  const CHANNELS = ["chat", "call", "email", "ticket"];
  const LEVELS = ["customer", "service", "process"];
  const FILTERS = ["from", "to", "business_line", "channel", "by", "category"];
  const $ = (selector) => document.querySelector(selector);

  // -- state (mirrored in the URL) --------------------------------------------------------------------------
  const state = readState();
  const view = {taxonomies: [], ranking: [], touchpoints: null, trend: null, impact: null,
    journey: null, transcript: null, evidenceTurn: null, transcriptCategory: null};
  const bound = new Set();
  let generation = 0;

  function readState() {
    const query = new URLSearchParams(location.search);
    const value = (name) => query.get(name) || null;
    return {
      taxonomy: value("taxonomy"), from: value("from"), to: value("to"), business_line: value("business_line"),
      channel: value("channel"), where: query.getAll("where").filter(Boolean), by: value("by"),
      category: value("category"),
      level: LEVELS.includes(value("level")) ? value("level") : "customer", stage: value("stage"),
      period: value("period") === "day" ? "day" : "week", change_date: value("change_date"),
      journey: value("journey"), transcript: value("transcript"), lang: value("lang") === "en" ? "en" : "zh",
    };
  }

  function writeState() {
    const query = new URLSearchParams();
    const order = ["taxonomy", ...FILTERS, "level", "stage", "period", "change_date", "journey", "transcript", "lang"];
    for (const name of order) {
      const value = state[name];
      const isDefault = (name === "level" && value === "customer") || (name === "period" && value === "week") ||
        (name === "lang" && value === "zh");
      if (value && !isDefault) query.set(name, value);
      if (name === "by") state.where.forEach((pair) => query.append("where", pair));
    }
    for (const [name, value] of new URLSearchParams(location.search)) {  // the Discover card's (discover.js)
      if (name.startsWith("discover")) query.set(name, value);
    }
    const search = query.toString();
    history.replaceState(null, "", search ? `?${search}` : location.pathname);
  }

  function filterParams(withTaxonomy = true) {
    const params = {where: state.where};
    for (const name of FILTERS) if (state[name]) params[name] = state[name];
    if (withTaxonomy && state.taxonomy) params.taxonomy = state.taxonomy;
    return params;
  }

  // -- the API ---------------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  async function api(path, params = {}) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (!key) {
      showKeyForm(t("keyMissing"));
      throw new ApiError(401, {title: t("keyMissing")});
    }
    const url = new URL(path, document.baseURI);
    for (const [name, value] of Object.entries(params)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item !== null && item !== undefined && item !== "") url.searchParams.append(name, item);
      }
    }
    let response;
    try {
      response = await fetch(url, {headers: {"X-API-Key": key, Accept: "application/json"}});
    } catch (error) {
      throw new ApiError(0, {title: t("networkError"), detail: String(error.message || error)});
    }
    if (response.ok) return response.json();
    const problem = await response.json().catch(() => null);
    if (response.status === 401 && sessionStorage.getItem(KEY_STORAGE) === key) {  // not a late answer to an old key
      sessionStorage.removeItem(KEY_STORAGE);
      showKeyForm(t("keyInvalid"));
    }
    throw new ApiError(response.status, problem);
  }

  // -- small DOM helpers -----------------------------------------------------------------------------------
  function fill(target, ...children) {
    const element = typeof target === "string" ? $(target) : target;
    element.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
    return element;
  }

  function emptyChart(id, message) {
    const element = document.getElementById(id);
    return charts.clear(element, () => {  // after any draw of this chart still in flight
      bound.delete(id);  // purge dropped the click handler
      element.classList.add("empty");
      fill(element, h("p", {class: "empty-message"}, message));
    });
  }

  function showError(error) {
    if (error instanceof ApiError && error.status === 401) return;  // the key form says it
    const box = $("#error");
    const problem = error instanceof ApiError ? error.problem : {title: String(error && error.message || error)};
    const status = error instanceof ApiError && error.status ? ` ${error.status}` : "";
    const text = error instanceof ApiError && error.status === 429 ? t("rateLimited")
      : `${t("apiError")}${status}: ${problem.title || ""}${problem.detail ? ` — ${problem.detail}` : ""}` +
        (problem.request_id ? ` (request id ${problem.request_id})` : "");
    fill(box, h("span", null, text), h("button", {type: "button", class: "ghost", onclick: () => loadOverview()}, t("retry")));
    box.hidden = false;
  }

  function clearError() {
    $("#error").hidden = true;
  }

  function setBusy(busy) {
    $("#busy").hidden = !busy;
    document.body.dataset.ready = busy ? "false" : "true";
  }

  const plotlyReady = new Promise((resolve, reject) => {
    if (window.Plotly) return resolve();
    const script = $("#plotly-js");
    script.addEventListener("load", () => resolve());
    script.addEventListener("error", () => reject(new Error(t("chartsFailed"))));
  });
  const marks = {};  // ms since navigation start: where the first load's time goes (JL.timing)
  plotlyReady.then(() => { marks.plotly = performance.now(); }, () => null);

  async function draw(id, figure, onClick) {
    await plotlyReady;
    const element = document.getElementById(id);
    if (element.classList.contains("empty")) element.replaceChildren();
    await charts.draw(element, figure);
    if (onClick && !bound.has(id)) {
      element.on("plotly_click", (event) => {
        const point = event.points && event.points[0];
        if (point && point.customdata) onClick(point.customdata[0]);
      });
      bound.add(id);
    }
  }

  // -- the key form ----------------------------------------------------------------------------------------
  function showKeyForm(message) {
    const note = $("#key-message");
    note.textContent = message || "";
    note.hidden = !message;
    $("#key-overlay").hidden = false;
    $("#key-form input[name=key]").focus();
  }

  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = event.target.elements.key;
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    input.value = "";
    $("#key-overlay").hidden = true;
    loadOverview();
  });
  $("#key-change").addEventListener("click", () => showKeyForm(""));

  // -- rows of the current taxonomy --------------------------------------------------------------------------
  const mine = (rows) => rows.filter((row) => row.taxonomy === state.taxonomy);
  const stageName = (stage) => i18n.name(state.taxonomy, "stages", stage);

  function journeyStages() {
    return mine(view.ranking).filter((row) => row.stage !== "other")
      .sort((a, b) => (a.journey_order ?? 999) - (b.journey_order ?? 999) || String(a.group).localeCompare(String(b.group)));
  }

  function stageIds() {
    return [...new Set(journeyStages().map((row) => row.stage))];
  }

  /** The row the headline names: the most painful ranked stage (reliable rows first; with a breakdown, over the
      groups' first-ranked stages). */
  function topRow() {
    const first = mine(view.ranking).filter((row) => row.pain_rank === 1);
    const pool = first.some((row) => row.reliable) ? first.filter((row) => row.reliable) : first;
    return pool.sort((a, b) => (b.pain ?? -1) - (a.pain ?? -1))[0] || null;
  }

  function stageRow(stage) {
    const rows = mine(view.ranking).filter((row) => row.stage === stage);
    return rows.sort((a, b) => b.contacts - a.contacts)[0] || null;
  }

  // -- loading -----------------------------------------------------------------------------------------------
  async function loadOverview() {
    const mineGeneration = ++generation;
    clearError();
    setBusy(true);
    try {
      // One ranking request feeds the headline, the journey map, the quadrant (its rows carry the quadrant and
      // its medians, as GET /v1/quadrant does) and the drill-down; a stage named in the URL gets its trend at once.
      const early = state.stage ? fetchTrend().catch(() => null) : null;
      const earlyStage = state.stage;
      const [taxonomies, ranking] = await Promise.all([
        view.taxonomies.length ? view.taxonomies : api("v1/taxonomies").then((body) => body.taxonomies),
        api("v1/stages/ranking", {...filterParams(), evidence: 5})]);
      if (mineGeneration !== generation) return;
      if (!marks.ranking) marks.ranking = performance.now();
      view.taxonomies = taxonomies;
      i18n.setCatalog(taxonomies);
      view.ranking = ranking.stages;
      view.touchpoints = null;
      chooseTaxonomy();
      if (!stageIds().includes(state.stage)) state.stage = (topRow() || {}).stage || stageIds()[0] || null;
      // ask for the trend before drawing anything: the server computes it while the browser draws the rest
      const trend = early && earlyStage === state.stage ? early : state.stage ? fetchTrend().catch(() => null) : null;
      writeState();
      renderControls();
      renderStatic();
      const drawn = [renderJourneyMap(), renderQuadrant(), loadTrend(trend)];
      if (state.journey) drawn.push(loadJourney());
      drawn.push(state.transcript ? openTranscript(state.transcript, view.evidenceTurn) : openFirstEvidence());
      await Promise.all(drawn);
      if (mineGeneration !== generation) return;
      if (!window.JL.timing) window.JL.timing = {firstRender: performance.now(), ...marks};
      // categories and agent QA (categories.js) after the journey views: not part of the first render's time
      await window.JL.categoryViews.load({api, params: filterParams(), stages: stageIds(), stageName, period: state.period});
      if (mineGeneration !== generation) return;
      document.body.dataset.categories = "ready";
      // the Discover card: runs when the URL or its button asks (a first discovery takes seconds)
      await window.JL.discoverView.load({api, params: filterParams()});
    } catch (error) {
      showError(error);
    } finally {
      if (mineGeneration === generation) setBusy(false);
    }
  }

  function chooseTaxonomy() {
    const names = view.taxonomies.map((taxonomy) => taxonomy.name);
    if (state.taxonomy && names.includes(state.taxonomy)) return;
    const volume = {};
    for (const row of view.ranking) volume[row.taxonomy] = (volume[row.taxonomy] || 0) + row.contacts;
    const busiest = Object.keys(volume).sort((a, b) => volume[b] - volume[a])[0];
    const fallback = (view.taxonomies.find((taxonomy) => taxonomy.default) || view.taxonomies[0] || {}).name;
    state.taxonomy = busiest || fallback || null;
  }

  /** The selected stage's trend and, with a change date, the impact of the change. */
  function fetchTrend() {
    const stage = state.stage;
    return Promise.all([
      api(`v1/stages/${encodeURIComponent(stage)}/trend`, {...filterParams(), period: state.period}).catch((error) => {
        if (error.status === 404) return {points: []};
        throw error;
      }),
      state.change_date ? api("v1/impact", {...filterParams(), change_date: state.change_date}) : null,
    ]).then(([trend, impact]) => ({stage, period: state.period, trend, impact}));
  }

  async function loadTrend(pending) {
    view.trend = null;
    if (!state.stage) {
      fill("#impact");
      return emptyChart("trend", t("noData"));
    }
    let result = pending ? await pending : null;
    if (!result || result.stage !== state.stage || result.period !== state.period) result = await fetchTrend();
    if (!marks.trend) marks.trend = performance.now();
    view.trend = result.trend.points;
    view.impact = result.impact ? result.impact.rows : null;
    await renderTrend();
    renderImpact();
  }

  async function loadTouchpoints() {
    const params = {...filterParams(), level: state.level};
    if (state.level === "process") params.stage = state.stage;
    const cacheKey = JSON.stringify(params);
    if (!view.touchpoints || view.touchpoints.key !== cacheKey) {
      const body = await api("v1/touchpoints", params);
      view.touchpoints = {key: cacheKey, rows: body.touchpoints};
    }
    return view.touchpoints.rows;
  }

  async function loadJourney() {
    const box = $("#journey-summary");
    if (!state.journey) return;
    try {
      view.journey = await api(`v1/journeys/${encodeURIComponent(state.journey)}`);
    } catch (error) {
      view.journey = null;
      $("#journey-timeline").hidden = true;
      fill("#journey-details");
      if (error.status === 404) fill(box, h("p", {class: "empty-message"}, t("noJourney")));
      else showError(error);
      return;
    }
    await renderJourney();
  }

  async function openTranscript(id, turn) {
    if (id !== state.transcript) view.transcriptCategory = null;
    state.transcript = id;
    view.evidenceTurn = turn ?? null;
    writeState();
    try {
      view.transcript = await api(`v1/transcripts/${encodeURIComponent(id)}`);
      renderTranscript();
    } catch (error) {
      view.transcript = null;
      fill("#transcript", h("p", {class: "empty-message"}, error.message));
    }
  }

  function openFirstEvidence() {
    const row = stageRow(state.stage);
    const first = row && row.evidence && row.evidence[0];
    if (first) return openTranscript(first.transcript_id, first.turn_index);
    view.transcript = null;
    fill("#transcript");
    return Promise.resolve();
  }

  function selectStage(stage) {
    if (!stage || !stageIds().includes(stage)) return;
    state.stage = stage;
    state.transcript = null;
    writeState();
    renderDrilldown();
    renderStageTable();
    $("#trend-stage").value = stage;
    openFirstEvidence();
    Promise.all([loadTrend(), renderQuadrant(), renderJourneyMap()]).catch(showError);
    $("#drilldown-card").scrollIntoView({behavior: "smooth", block: "nearest"});
  }

  // -- rendering ---------------------------------------------------------------------------------------------
  function applyStaticTexts() {
    document.documentElement.lang = i18n.lang === "en" ? "en" : "zh-CN";
    document.title = `JourneyLens · ${t("title")}`;
    for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
    for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
      element.placeholder = t(element.dataset.i18nPlaceholder);
    }
    $("#lang-toggle").textContent = i18n.lang === "en" ? "中文" : "EN";
  }

  function renderControls() {
    const form = $("#filters");
    for (const name of ["from", "to", "by", "category"]) form.elements[name].value = state[name] || "";
    form.elements.where.value = state.where.join("; ");
    const lines = [...new Set(view.taxonomies.flatMap((taxonomy) => taxonomy.business_lines))];
    if (state.business_line && !lines.includes(state.business_line)) lines.push(state.business_line);
    fill(form.elements.business_line, h("option", {value: ""}, t("all")),
      lines.map((line) => h("option", {value: line}, line)));
    form.elements.business_line.value = state.business_line || "";
    fill(form.elements.channel, h("option", {value: ""}, t("all")),
      CHANNELS.map((channel) => h("option", {value: channel}, i18n.word("channel", channel))));
    form.elements.channel.value = state.channel || "";
    const stored = new Set([...view.ranking.map((row) => row.taxonomy), state.taxonomy]);  // tabs with data
    fill("#taxonomy-tabs", view.taxonomies.filter((taxonomy) => stored.has(taxonomy.name)).map((taxonomy) => h("button", {
      type: "button", class: taxonomy.name === state.taxonomy ? "tab active" : "tab", dataset: {taxonomy: taxonomy.name},
      "aria-pressed": String(taxonomy.name === state.taxonomy),
      onclick: () => {
        if (taxonomy.name === state.taxonomy) return;
        Object.assign(state, {taxonomy: taxonomy.name, stage: null, transcript: null});
        loadOverview();
      },
    }, i18n.word("taxonomy", taxonomy.name))));
    for (const input of document.querySelectorAll("#level-switch input")) input.checked = input.value === state.level;
    $("#trend-period").value = state.period;
    $("#change-date").value = state.change_date || "";
    $("#journey-form").elements.journey.value = state.journey || "";
  }

  function renderStatic() {
    applyStaticTexts();
    renderHeadline();
    fill("#trend-stage", stageIds().map((stage) => h("option", {value: stage}, stageName(stage))));
    $("#trend-stage").value = state.stage || "";
    renderDrilldown();
    renderStageTable();
  }

  const quote = (text) => `“${text}”`;

  function renderHeadline() {
    const box = $("#headline");
    const top = topRow();
    if (!top) {
      fill(box, h("p", {class: "empty-message"}, t("noData")));
      return;
    }
    const group = top.group !== null && top.group !== undefined ? t("headlineGroup", {by: state.by, group: top.group}) : "";
    const ranked = mine(view.ranking).filter((row) => row.pain_rank !== null && (row.group ?? null) === (top.group ?? null));
    const frequent = [...ranked].sort((a, b) => b.share_pct - a.share_pct)[0];
    const evidence = (top.evidence || []).slice(0, 2);
    const drivers = Object.entries(top.pain_components || {}).filter(([, v]) => v).sort((a, b) => b[1] - a[1]).slice(0, 3);
    fill(box,
      h("div", {class: "headline-main"},
        h("h2", null, t("headline", {stage: ""}),
          h("a", {href: "#drilldown-card", id: "headline-stage", dataset: {stage: top.stage},
            onclick: (event) => { event.preventDefault(); selectStage(top.stage); }}, stageName(top.stage)),
          group),
        h("p", {class: "facts"}, t("headlineFacts", {
          pain: i18n.number(top.pain), n: ranked.length, nev: i18n.signed(top.nev), contacts: top.contacts,
          share: i18n.percent(top.share_pct, 1), rec: i18n.word("recommendation", top.recommendation)}),
        frequent && frequent.stage !== top.stage ? " " + t("headlineFrequent", {stage: stageName(frequent.stage),
          share: i18n.percent(frequent.share_pct, 1)}) : ""),
        drivers.length ? h("p", {class: "facts", id: "headline-drivers"}, h("span", {class: "label"}, t("driversLabel")),
          drivers.map(([name, value]) => `${i18n.word("component", name)} ${i18n.percent(100 * value)}`).join(" · ")) : null),
      evidence.length ? h("p", {class: "headline-evidence"}, h("span", {class: "label"}, t("evidenceLabel")),
        evidence.map((item) => h("button", {type: "button", class: `quote emo-${item.emotion || "neutral"}`,
          title: `${i18n.word("emotion", item.emotion)} · ${item.transcript_id}`,
          onclick: () => { selectStage(top.stage); openTranscript(item.transcript_id, item.turn_index); }},
        quote(item.text)))) : h("p", {class: "headline-evidence"}, t("noEvidence")));
  }

  async function renderJourneyMap() {
    const hint = $("#journey-map-hint");
    let items;
    if (state.level === "customer") {
      hint.textContent = t("hintCustomer");
      items = journeyStages().map((row) => ({
        key: row.stage, name: stageName(row.stage), phase: i18n.word("phase", row.phase), contacts: row.contacts,
        share: row.share_pct, nev: row.nev, nev_low: row.nev_low, nev_high: row.nev_high, pain: row.pain,
        reliable: row.reliable, group: row.group}));
    } else {
      hint.textContent = state.level === "service" ? t("hintService") : t("hintProcess", {stage: stageName(state.stage)});
      if (state.level === "process" && !state.stage) {
        return emptyChart("journey-map", t("noData"));
      }
      // process level: one series per issue type (and breakdown group) along the service steps
      const series = (row) => (state.level === "process"
        ? [i18n.name(state.taxonomy, "issue_types", row.issue_type), row.group].filter((part) => part !== null).join(" · ")
        : row.group);
      const rows = mine(await loadTouchpoints()).sort((a, b) => (a.step_order ?? 999) - (b.step_order ?? 999));
      items = rows.map((row) => ({
        key: row.service_step, name: i18n.name(state.taxonomy, "service_steps", row.service_step), phase: null,
        contacts: row.contacts, share: row.share_pct, nev: row.nev, nev_low: row.nev_low, nev_high: row.nev_high,
        pain: row.pain, reliable: row.reliable, group: series(row)}));
    }
    if (!items.length) {
      return emptyChart("journey-map", t("noData"));
    }
    const selected = state.level === "customer" ? state.stage : null;
    await draw("journey-map", charts.journeyMap(items, {selected}), (key) => {
      if (state.level === "customer") selectStage(key);
    });
  }

  async function renderQuadrant() {
    const points = mine(view.ranking).filter((p) => p.stage !== "other" && p.pain !== null);
    if (!points.length) {
      return emptyChart("quadrant", t("noData"));
    }
    await draw("quadrant", charts.quadrant(points.map((p) => ({
      key: p.stage, name: stageName(p.stage), share: p.share_pct, pain: p.pain, contacts: p.contacts,
      recommendation: p.recommendation, share_median: p.share_median, pain_median: p.pain_median, group: p.group,
      reliable: p.reliable})), {selected: state.stage}), selectStage);
  }

  function impactFor(stage) {
    if (!view.impact) return null;
    const rows = mine(view.impact).filter((row) => row.stage === stage && (row.group ?? null) === null);
    if (!rows.length) return null;
    return Object.fromEntries(rows.map((row) => [row.metric, row]));
  }

  async function renderTrend() {
    const points = (view.trend || []).filter((p) => p.taxonomy === state.taxonomy);
    if (!points.length) {
      return emptyChart("trend", t("noTrend"));
    }
    await draw("trend", charts.trend(points, {changeDate: state.change_date, impact: impactFor(state.stage)}));
  }

  function renderImpact() {
    const box = $("#impact");
    if (!state.change_date || !view.impact) {
      fill(box);
      return;
    }
    const rows = impactFor(state.stage);
    const changed = mine(view.impact).filter((row) => row.changed);
    const verdict = (row) => t(row.direction === "better" ? "better" : row.direction === "worse" ? "worse" : "noChange");
    const table = rows ? h("table", {class: "table compact"},
      h("thead", null, h("tr", null, ["", t("before"), t("after"), t("difference"), t("interval"), t("effect"),
        t("verdict")].map((label) => h("th", null, label)))),
      h("tbody", null, ["nev", "pain", "ces", "repeat_rate"].filter((metric) => rows[metric]).map((metric) => {
        const row = rows[metric];
        return h("tr", {class: row.changed ? `changed ${row.direction}` : null},
          h("th", null, t(`metric_${metric}`)), h("td", null, i18n.number(row.before)), h("td", null, i18n.number(row.after)),
          h("td", null, i18n.signed(row.difference, 1)),
          h("td", null, `${i18n.signed(row.low, 1)} … ${i18n.signed(row.high, 1)}`),
          h("td", null, i18n.number(row.effect_size, 2)), h("td", null, verdict(row)));
      }))) : null;
    fill(box, h("h3", null, t("impactTitle", {date: state.change_date, stage: stageName(state.stage)})), table,
      h("p", {class: "changed-list"}, changed.length ? [t("changedStages"), changed.map((row) =>
        `${stageName(row.stage)} ${t(`metric_${row.metric}`)} ${row.difference > 0 ? "↑" : "↓"} (${verdict(row)})`).join(" · ")]
        : t("noneChanged")));
  }

  function parseIssueTypes(text) {
    // top_issue_types is "id NN% · id NN%" (nlp/analytics/rankings.py)
    return (text || "").split(" · ").map((part) => part.trim().match(/^(\S+)\s+(\d+)%$/)).filter(Boolean)
      .map((match) => ({id: match[1], share: Number(match[2])}));
  }

  function renderDrilldown() {
    const box = $("#drilldown");
    const row = stageRow(state.stage);
    if (!row) {
      fill(box, h("p", {class: "empty-message"}, t("noData")));
      return;
    }
    const ranked = mine(view.ranking).filter((r) => r.pain_rank !== null && (r.group ?? null) === (row.group ?? null));
    const metric = (label, value, note) => h("div", {class: "metric"}, h("dt", null, label), h("dd", null, value,
      note ? h("small", null, ` ${note}`) : null));
    const components = Object.entries(row.pain_components || {}).filter(([, v]) => v)
      .sort((a, b) => b[1] - a[1]).slice(0, 3);
    const issues = parseIssueTypes(row.top_issue_types);
    fill(box,
      h("div", {class: "dd-head"}, h("h3", {id: "drilldown-stage", dataset: {stage: row.stage}}, stageName(row.stage)),
        h("span", {class: "pill"}, i18n.word("phase", row.phase)),
        row.pain_rank ? h("span", {class: "pill strong"}, `${t("rank")} #${row.pain_rank} / ${ranked.length}`) : null,
        row.group !== null && row.group !== undefined ? h("span", {class: "pill"}, `${state.by} = ${row.group}`) : null,
        row.reliable ? null : h("span", {class: "pill warn"}, t("fewData"))),
      h("dl", {class: "metrics"},
        metric(t("contacts"), row.contacts, i18n.percent(row.share_pct, 1)),
        metric(t("pain"), i18n.number(row.pain), row.pain_low !== null ? `${i18n.number(row.pain_low)}–${i18n.number(row.pain_high)}` : null),
        metric("NEV", i18n.signed(row.nev), row.nev_low !== null ? `${i18n.signed(row.nev_low)}…${i18n.signed(row.nev_high)}` : null),
        metric(t("ces"), i18n.number(row.ces, 2)),
        metric(t("unresolved"), i18n.percent(row.unresolved_pct)), metric(t("repeat"), i18n.percent(row.repeat_pct)),
        metric(t("escalation"), i18n.percent(row.escalation_pct)), metric(t("brokenPromises"), row.broken_promises ?? "—")),
      h("p", {class: "recommendation"}, h("strong", null, `${t("recommendation")}${i18n.lang === "en" ? ": " : "："}`), i18n.word("recommendation", row.recommendation)),
      issues.length ? h("div", {class: "dd-section"}, h("h4", null, t("issueTypes")), h("ul", {class: "bars"},
        issues.map((issue) => h("li", null, h("span", {class: "bar-label"}, i18n.name(state.taxonomy, "issue_types", issue.id)),
          h("span", {class: "bar", style: `width:${Math.max(issue.share, 2)}%`}), h("span", {class: "bar-value"}, `${issue.share}%`))))) : null,
      components.length ? h("div", {class: "dd-section"}, h("h4", null, t("painDrivers")), h("ul", {class: "chips"},
        components.map(([name, value]) => h("li", null, `${i18n.word("component", name)} ${i18n.percent(100 * value)}`)))) : null,
      h("div", {class: "dd-section"}, h("h4", null, t("evidence")), row.evidence && row.evidence.length
        ? h("ol", {id: "evidence", class: "evidence"}, row.evidence.map((item) => h("li", null,
          h("span", {class: `chip emo-${item.emotion || "neutral"}`}, i18n.word("emotion", item.emotion)),
          h("span", {class: "quote-text"}, quote(item.text)),
          h("button", {type: "button", class: "link", title: t("openTranscript"),
            onclick: () => openTranscript(item.transcript_id, item.turn_index)}, item.transcript_id))))
        : h("p", {class: "empty-message"}, t("noEvidence"))));
  }

  function renderTranscript() {
    const data = view.transcript;
    if (!data) return;
    const turns = new Map();
    for (const utterance of data.utterances) {
      if (!turns.has(utterance.turn_index)) turns.set(utterance.turn_index, []);
      turns.get(utterance.turn_index).push(utterance);
    }
    const emotions = [...new Set(data.utterances.filter((u) => u.speaker === "customer" && u.emotion).map((u) => u.emotion))];
    const when = data.started_at ? data.started_at.replace("T", " ").slice(0, 16) : "";
    const categories = data.categories || [];
    const matchedBy = new Map();  // utterance index → the categories it is evidence of
    for (const category of categories) {
      for (const index of category.utterance_indexes) {
        if (!matchedBy.has(index)) matchedBy.set(index, []);
        matchedBy.get(index).push(category);
      }
    }
    const utteranceView = (u, speaker) => {
      const matched = matchedBy.get(u.index) || [];
      const emotion = speaker === "customer" && u.emotion;
      const span = h("span", {
        class: ["utt", emotion ? `emo-${u.emotion}` : null, matched.length ? "cat-match" : null].filter(Boolean).join(" "),
        title: emotion ? `${i18n.word("emotion", u.emotion)} ${i18n.signed(u.sentiment_score, 2)}` : null,
        dataset: matched.length ? {index: u.index, categories: matched.map((c) => c.id).join(" ")} : {index: u.index}}, u.text);
      return [span, ...matched.map((c) => h("span", {class: "cat-label", dataset: {category: c.id, index: u.index}}, categoryLabel(c.name)))];
    };
    fill("#transcript",
      h("div", {class: "transcript-head"}, h("h4", null, `${t("transcript")} ${data.id}`),
        h("span", {class: "muted"}, [i18n.word("channel", data.channel), when,
          `NEV ${i18n.signed(data.summary && data.summary.nev)}`].filter(Boolean).join(" · "))),
      h("p", {class: "legend"}, t("turnsLegend"), emotions.map((emotion) => h("span", {class: `chip emo-${emotion}`}, i18n.word("emotion", emotion)))),
      h("p", {class: "legend transcript-categories", id: "transcript-categories"}, t("transcriptCategories"),
        categories.length ? categories.map((c) => h("button", {
          type: "button", class: "chip cat-chip", dataset: {category: c.id, level: c.level}, "aria-pressed": "false",
          title: c.utterance_indexes.length ? t("categoryChipHint", {n: c.utterance_indexes.length}) : t("contactLevelMatch"),
          onclick: () => selectTranscriptCategory(c.id)},
        categoryLabel(c.name), h("span", {class: "cat-count"}, c.utterance_indexes.length || "—")))
          : h("span", {class: "muted"}, t("noTranscriptCategories"))),
      h("ol", {class: "turns"}, [...turns.entries()].map(([index, utterances]) => {
        const speaker = utterances[0].speaker;
        return h("li", {class: `turn speaker-${speaker}${index === view.evidenceTurn ? " evidence-turn" : ""}`,
          dataset: {turn: index}},
        h("span", {class: "speaker"}, i18n.word("speaker", speaker)),
        h("span", {class: "turn-text"}, utterances.flatMap((u) => utteranceView(u, speaker))));
      })));
    scrollTurns(document.querySelector("#transcript .evidence-turn"));
    markTranscriptCategory(Boolean(view.transcriptCategory));
  }

  function scrollTurns(turn) {  // scroll the turn list only, not the page
    if (!turn) return;
    const list = turn.parentElement;
    list.scrollTop = turn.offsetTop - list.offsetTop - list.clientHeight / 3;
  }

  /** A category's name in the page's language: "投诉威胁 / complaint threat" has both; other names stay whole. */
  function categoryLabel(name) {
    const parts = String(name).split(" / ");
    return parts.length === 2 ? parts[i18n.lang === "en" ? 1 : 0] : name;
  }

  function selectTranscriptCategory(id) {  // a second click on the same chip clears the highlight
    view.transcriptCategory = view.transcriptCategory === id ? null : id;
    markTranscriptCategory(true);
  }

  /** Highlight the utterances of the selected category (and its chip); scroll to the first of them. */
  function markTranscriptCategory(scroll) {
    const selected = view.transcriptCategory;
    for (const chip of document.querySelectorAll("#transcript-categories .cat-chip")) {
      const on = chip.dataset.category === selected;
      chip.classList.toggle("active", on);
      chip.setAttribute("aria-pressed", String(on));
    }
    let first = null;
    for (const utterance of document.querySelectorAll("#transcript .utt.cat-match")) {
      const on = selected !== null && utterance.dataset.categories.split(" ").includes(selected);
      utterance.classList.toggle("cat-selected", on);
      first = first || (on ? utterance : null);
    }
    for (const label of document.querySelectorAll("#transcript .cat-label")) {
      label.classList.toggle("cat-selected", label.dataset.category === selected);
    }
    if (scroll && first) scrollTurns(first.closest(".turn"));
  }

  function renderStageTable() {
    const rows = mine(view.ranking);
    if (!rows.length) {
      fill("#stage-table", h("p", {class: "empty-message"}, t("noData")));
      return;
    }
    const header = ["#", t("stage"), state.by ? state.by : null, t("contacts"), t("share"), t("pain"), "NEV", t("ces"),
      t("unresolved"), t("repeat"), t("recommendation")].filter((label) => label !== null);
    fill("#stage-table", h("table", {class: "table"},
      h("thead", null, h("tr", null, header.map((label) => h("th", null, label)))),
      h("tbody", null, rows.map((row) => h("tr", {
        class: row.stage === state.stage ? "selected" : null, dataset: {stage: row.stage},
        onclick: () => selectStage(row.stage)},
      h("td", null, row.pain_rank ?? "—"), h("td", null, stageName(row.stage), row.reliable ? "" : h("small", {class: "muted"}, ` (${t("fewData")})`)),
      state.by ? h("td", null, row.group ?? "—") : null,
      h("td", null, row.contacts), h("td", null, i18n.percent(row.share_pct, 1)), h("td", null, i18n.number(row.pain)),
      h("td", null, i18n.signed(row.nev)), h("td", null, i18n.number(row.ces, 2)), h("td", null, i18n.percent(row.unresolved_pct)),
      h("td", null, i18n.percent(row.repeat_pct)), h("td", null, i18n.word("recommendation", row.recommendation)))))));
  }

  async function renderJourney() {
    const journey = view.journey;
    if (!journey) return;
    const s = journey.summary;
    const taxonomy = (journey.contacts[0] || {}).taxonomy || state.taxonomy;
    const name = (stage) => i18n.name(taxonomy, "stages", stage);
    fill("#journey-summary", h("p", {id: "journey-facts", dataset: {contacts: s.contacts, broken: s.promises_broken}},
      h("strong", null, s.key), " · ", t("journeySummary", {
        contacts: s.contacts, days: i18n.number(s.span_days), channels: s.channels.map((c) => i18n.word("channel", c)).join(", "),
        promises: s.promises, broken: s.promises_broken, kept: s.promises_kept,
        parties: s.third_parties.join(", ") || t("none"), resolved: s.resolved_at_end ? t("yes") : t("no")})));
    const timeline = $("#journey-timeline");
    timeline.hidden = false;
    const when = (value) => (value ? String(value).replace("T", " ").slice(0, 16) : "—");
    fill("#journey-details",
      h("div", null, h("h4", null, t("contactsList")), h("table", {class: "table compact"},
        h("thead", null, h("tr", null, ["#", t("date"), t("channel"), t("stagesPath"), t("servicePath"), t("pain"), t("chases")]
          .map((label) => h("th", null, label)))),
        h("tbody", null, journey.contacts.map((c, index) => h("tr", {class: c.broken_promises ? "broken" : null,
          onclick: () => { openTranscript(c.transcript_id, null); $("#drilldown-card").scrollIntoView({block: "nearest"}); }},
        h("td", null, index + 1), h("td", null, when(c.started_at)),
        h("td", null, i18n.word("channel", c.channel)), h("td", null, c.stages.map(name).join(" → ")),
        h("td", null, c.service_path.map((step) => i18n.name(taxonomy, "service_steps", step)).join(" → ")),
        h("td", null, i18n.number(c.pain)), h("td", null, c.broken_promises ? `✕ ${c.broken_promises}` : "")))))),
      h("div", null, h("h4", null, t("promisesList")), h("table", {class: "table compact"},
        h("thead", null, h("tr", null, [t("promise"), t("madeIn"), t("due"), t("status")].map((label) => h("th", null, label)))),
        h("tbody", null, journey.promises.map((p) => h("tr", {class: `promise-${p.status}`},
          h("td", null, p.speaker_label ? `${p.speaker_label}：${p.text}` : p.text), h("td", null, p.transcript_id),
          h("td", null, when(p.deadline)), h("td", null, h("span", {class: `status status-${p.status}`},
            `${p.status === "broken" ? "✕" : p.status === "kept" ? "✓" : "…"} ${t(`status_${p.status}`)}`))))))));
    await draw("journey-timeline", charts.timeline(journey, {stage: (c) => name(c.stage)}));
  }

  function rerender() {
    renderStatic();
    window.JL.categoryViews.render();
    window.JL.discoverView.render();
    Promise.all([renderJourneyMap(), renderQuadrant(), view.trend ? renderTrend() : null, renderJourney()])
      .then(() => { renderImpact(); renderTranscript(); }).catch(showError);
  }

  // -- controls ----------------------------------------------------------------------------------------------
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target.elements;
    const where = form.where.value.split(/[;；\n]+/).map((pair) => pair.trim()).filter(Boolean);
    const bad = where.find((pair) => !/^[A-Za-z_][A-Za-z0-9_]*=./.test(pair));
    if (bad) {
      showError(new ApiError(422, {title: t("where"), detail: `${bad}: FIELD=VALUE`}));
      return;
    }
    for (const name of FILTERS) state[name] = form[name].value.trim() || null;
    state.where = where;
    loadOverview();
  });

  $("#filters-reset").addEventListener("click", () => {
    for (const name of FILTERS) state[name] = null;
    state.where = [];
    loadOverview();
  });

  $("#lang-toggle").addEventListener("click", () => {
    state.lang = i18n.lang = i18n.lang === "en" ? "zh" : "en";
    writeState();
    rerender();
  });

  for (const input of document.querySelectorAll("#level-switch input")) {
    input.addEventListener("change", () => {
      state.level = input.value;
      writeState();
      setBusy(true);
      renderJourneyMap().catch(showError).finally(() => setBusy(false));
    });
  }

  $("#trend-stage").addEventListener("change", (event) => selectStage(event.target.value));

  $("#trend-period").addEventListener("change", (event) => {
    state.period = event.target.value;
    writeState();
    loadTrend().catch(showError);
  });

  $("#change-date").addEventListener("change", (event) => {
    state.change_date = event.target.value || null;
    writeState();
    setBusy(true);
    loadTrend().catch(showError).finally(() => setBusy(false));
  });

  $("#journey-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.journey = event.target.elements.journey.value.trim() || null;
    writeState();
    setBusy(true);
    loadJourney().catch(showError).finally(() => setBusy(false));
  });

  // -- start -------------------------------------------------------------------------------------------------
  i18n.lang = state.lang;
  applyStaticTexts();
  plotlyReady.catch((error) => showError(error));
  if (sessionStorage.getItem(KEY_STORAGE)) loadOverview();
  else showKeyForm("");
})();
