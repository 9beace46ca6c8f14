/* The Discover card (GET /v1/discover): what customers of the selected contacts talk about, as topics found in
   their own utterances, with each topic's size and share, NEV, its contacts' pain, top terms, 5 examples (the
   API redacts them), emerging topics flagged against the taxonomy shown, and the draft taxonomy YAML to download.
   The first discovery for a store takes seconds, so it runs when asked: the button, or discover=1 in the URL
   (with the sample size, the topic limit and the comparison: discover_sample, discover_topics,
   discover_emerging), which this card keeps in the URL beside the page's own state. dashboard.js calls load()
   after each overview with the page's filters and render() when the language changes. */
(function (global) {
  "use strict";
  const {i18n, charts} = global.JL;
  const h = charts.h;
  const KEY_STORAGE = "journeylens.apiKey";
  const SAMPLES = [200, 500, 2000, 5000, 20000];
  const MAX_ATTEMPTS = 300;  // polls of a computation in progress, Retry-After (2 s) apart
  const WORDS = {
    zh: {title: "话题发现", hint: "从所选联络的客户话语中自动聚类出话题（e5 向量 + 层次聚类），可作为新分类体系的草稿。首次计算需要数秒。",
      sample: "抽样话语", topics: "最多话题", compare: "与当前分类体系比较", run: "发现话题", download: "下载分类草稿 YAML",
      running: "正在计算话题…", idle: "点击“发现话题”开始。", topic: "话题", terms: "关键词", size: "话语数", share: "占比",
      pain: "痛度", contacts: "联络", coverage: "现有阶段覆盖", examples: "{n} 条示例", emerging: "新兴",
      summary: "抽样 {sampled} / {seen} 条客户话语 · {n} 个话题 · {noise} 条未归类", compared: " · 与 {taxonomy} 比较：{k} 个新兴话题",
      other: "其他 {pct}", none: "没有发现话题。", failed: "话题发现失败", slow: "计算时间过长，请稍后再试"},
    en: {title: "Discover topics", hint: "Topics clustered from the customers' own utterances of the selected contacts (e5 vectors, agglomerative clustering): a draft for a new taxonomy. The first run takes seconds.",
      sample: "Sample", topics: "At most", compare: "Compare with this taxonomy", run: "Discover", download: "Download draft taxonomy YAML",
      running: "Discovering topics…", idle: "Press Discover to start.", topic: "Topic", terms: "Terms", size: "Utterances", share: "Share",
      pain: "Pain", contacts: "Contacts", coverage: "Covered by", examples: "{n} examples", emerging: "emerging",
      summary: "{sampled} of {seen} customer utterances sampled · {n} topics · {noise} unclustered", compared: " · against {taxonomy}: {k} emerging",
      other: "other {pct}", none: "No topic found.", failed: "Discovery failed", slow: "still computing: try again later"},
  };
  const w = (key, vars = {}) => (WORDS[i18n.lang] || WORDS.zh)[key].replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? "");
  const $ = (selector) => document.querySelector(selector);

  const url = new URLSearchParams(location.search);
  const state = {
    open: url.get("discover") === "1",
    sample: SAMPLES.includes(Number(url.get("discover_sample"))) ? Number(url.get("discover_sample")) : 2000,
    topics: Math.min(50, Math.max(2, Number(url.get("discover_topics")) || 12)),
    emerging: url.get("discover_emerging") === "1",
  };
  const view = {context: null, body: null, error: null, running: false, generation: 0};

  function fill(selector, ...children) {
    $(selector).replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  }

  /** This card's part of the URL (dashboard.js keeps the discover* parameters when it writes its own). */
  function writeUrl() {
    const query = new URLSearchParams(location.search);
    for (const name of ["discover", "discover_sample", "discover_topics", "discover_emerging"]) query.delete(name);
    if (state.open) {
      query.set("discover", "1");
      if (state.sample !== 2000) query.set("discover_sample", String(state.sample));
      if (state.topics !== 12) query.set("discover_topics", String(state.topics));
      if (state.emerging) query.set("discover_emerging", "1");
    }
    const search = query.toString();
    history.replaceState(null, "", search ? `?${search}` : location.pathname);
  }

  function params() {
    const {by, ...filters} = view.context.params;  // discover has no breakdown
    return {...filters, sample: state.sample, max_topics: state.topics, emerging: state.emerging ? "true" : null};
  }

  /** context: {api, params (the page's filters, with the taxonomy shown)}. */
  async function load(context) {
    view.context = context;
    if (state.open) await run();
    else render();
  }

  async function run() {
    const mine = ++view.generation;
    state.open = true;
    writeUrl();
    view.running = true;
    view.error = null;
    document.body.dataset.discover = "running";
    render();
    try {
      let body = await view.context.api("v1/discover", params());
      // 202: still computing on the server (the first discovery of a store takes a while): ask again
      for (let attempt = 1; body.status === "computing" && attempt < MAX_ATTEMPTS; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 1000 * (body.retry_after_s || 2)));
        if (mine !== view.generation) return;
        body = await view.context.api("v1/discover", params());
      }
      if (body.status === "computing") throw new Error(w("slow"));
      if (mine !== view.generation) return;
      view.body = body;
    } catch (error) {
      if (mine !== view.generation) return;
      view.body = null;
      view.error = error;
    }
    view.running = false;
    render();
    document.body.dataset.discover = view.error ? "failed" : "ready";
  }

  function render() {
    $("#discover-title").textContent = w("title");
    $("#discover-hint").textContent = w("hint");
    fill("#discover-controls",
      h("label", null, w("sample"), " ", h("select", {id: "discover-sample", onchange: (event) => { state.sample = Number(event.target.value); }},
        SAMPLES.map((n) => h("option", {value: n, selected: n === state.sample ? "selected" : null}, i18n.number(n, 0))))),
      h("label", null, w("topics"), " ", h("input", {id: "discover-topics", type: "number", min: 2, max: 50, value: state.topics,
        onchange: (event) => { state.topics = Math.min(50, Math.max(2, Number(event.target.value) || 12)); }})),
      h("label", null, h("input", {id: "discover-emerging", type: "checkbox", checked: state.emerging ? "checked" : null,
        onchange: (event) => { state.emerging = event.target.checked; }}), " ", w("compare")),
      h("button", {type: "button", id: "discover-run", disabled: view.running ? "disabled" : null,
        onclick: () => run()}, w("run")),
      h("button", {type: "button", id: "discover-download", class: "ghost", disabled: view.body ? null : "disabled",
        onclick: () => download().catch((error) => { view.error = error; render(); })}, w("download")));
    if (view.running) return fill("#discover-result", h("p", {class: "empty-message"}, w("running")));
    if (view.error) {
      const problem = view.error.problem || {};
      return fill("#discover-result", h("p", {class: "error-text", id: "discover-error"},
        `${w("failed")}: ${problem.detail || problem.title || view.error.message}`));
    }
    if (!view.body) return fill("#discover-result", h("p", {class: "empty-message"}, w("idle")));
    renderTopics();
  }

  function renderTopics() {
    const body = view.body;
    const compared = body.compared_with !== null && body.compared_with !== undefined;
    const summary = w("summary", {sampled: i18n.number(body.sampled, 0), seen: i18n.number(body.seen, 0),
      n: body.topics.length, noise: i18n.number(body.noise, 0)}) +
      (compared ? w("compared", {taxonomy: body.compared_with, k: body.emerging.length}) : "");
    if (!body.topics.length) return fill("#discover-result", h("p", {class: "empty-message"}, w("none")));
    const header = [w("topic"), w("terms"), w("size"), w("share"), "NEV", w("pain"), w("contacts"),
      compared ? w("coverage") : null, "…"].filter((label) => label !== null);
    fill("#discover-result", h("p", {id: "discover-summary", class: "hint"}, summary),
      h("table", {class: "table compact", id: "discover-table"},
        h("thead", null, h("tr", null, header.map((label) => h("th", null, label)))),
        h("tbody", null, body.topics.map((topic) => h("tr", {class: topic.emerging ? "emerging" : null,
          dataset: {topic: topic.id}},
        h("td", {class: "name", title: topic.id}, topic.name,
          topic.emerging ? h("span", {class: "pill warn"}, ` ${w("emerging")}`) : null),
        h("td", {class: "terms"}, topic.terms.slice(0, 4).join(", ")),
        h("td", {class: "size"}, topic.size), h("td", {class: "share"}, i18n.percent(100 * topic.share, 1)),
        h("td", {class: "nev"}, i18n.signed(topic.nev, 1)), h("td", {class: "pain"}, i18n.number(topic.pain)),
        h("td", {class: "contacts"}, topic.contacts ?? "—"),
        compared ? h("td", {class: "coverage"}, topic.coverage.best_stage
          ? `${i18n.name(body.compared_with, "stages", topic.coverage.best_stage)} ${i18n.percent(100 * topic.coverage.best_stage_share)}`
          : "—", ` · ${w("other", {pct: i18n.percent(100 * topic.coverage.other_share)})}`) : null,
        h("td", {class: "examples"}, h("details", null, h("summary", null, w("examples", {n: topic.examples.length})),
          h("ol", null, topic.examples.map((text) => h("li", null, text))))))))));
  }

  async function download() {
    const target = new URL("v1/discover/taxonomy.yaml", document.baseURI);
    for (const [name, value] of Object.entries(params())) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item !== null && item !== undefined && item !== "") target.searchParams.append(name, item);
      }
    }
    const response = await fetch(target, {headers: {"X-API-Key": sessionStorage.getItem(KEY_STORAGE) || ""}});
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    if (response.status === 202) throw new Error(w("slow"));  // the store changed: discover again first
    const link = h("a", {href: URL.createObjectURL(await response.blob()), download: "discovered.yaml"});
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  global.JL.discoverView = {load, render};
})(window);
