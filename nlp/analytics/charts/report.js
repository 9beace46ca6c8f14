/* The HTML report (nlp/analytics/report.py): draws the data embedded in #report-data with the dashboard's
   charts, per taxonomy: headline, journey map (customer and service levels), quadrant, stage trend, stage
   table and evidence. Chinese with an English toggle; nothing is fetched. */
(function () {
  "use strict";
  const {i18n, charts} = window.JL;
  const h = charts.h;
  const t = (key, vars) => i18n.t(key, vars);
  const data = JSON.parse(document.getElementById("report-data").textContent);
  i18n.setCatalog(data.taxonomies);
  const chosenStage = {};  // taxonomy → stage shown in its trend chart

  const rowsOf = (rows, taxonomy) => rows.filter((row) => row.taxonomy === taxonomy);
  const byOrder = (a, b) => (a.journey_order ?? 999) - (b.journey_order ?? 999);

  function headline(taxonomy, ranking) {
    const name = (stage) => i18n.name(taxonomy, "stages", stage);
    const first = ranking.filter((row) => row.pain_rank === 1);
    const pool = first.some((row) => row.reliable) ? first.filter((row) => row.reliable) : first;
    const top = pool.sort((a, b) => (b.pain ?? -1) - (a.pain ?? -1))[0];
    if (!top) return h("section", {class: "headline"}, t("noData"));
    const ranked = ranking.filter((row) => row.pain_rank !== null && (row.group ?? null) === (top.group ?? null));
    return h("section", {class: "headline"},
      h("h2", null, t("headline", {stage: name(top.stage)}),
        top.group !== null && top.group !== undefined ? t("headlineGroup", {by: data.meta.filters.by, group: top.group}) : ""),
      h("p", {class: "facts"}, t("headlineFacts", {pain: i18n.number(top.pain), n: ranked.length, nev: i18n.signed(top.nev),
        contacts: top.contacts, share: i18n.percent(top.share_pct, 1), rec: i18n.word("recommendation", top.recommendation)})),
      h("p", {class: "headline-evidence"}, h("span", {class: "label"}, t("evidenceLabel")),
        (top.evidence || []).slice(0, 3).map((item) => h("span", {class: `quote emo-${item.emotion || "neutral"}`}, `“${item.text}”`))));
  }

  function stageTable(taxonomy, ranking) {
    const by = data.meta.filters.by;
    const header = ["#", t("stage"), by || null, t("contacts"), t("share"), t("pain"), "NEV", t("ces"), t("unresolved"),
      t("repeat"), t("issueTypes"), t("recommendation")].filter((label) => label !== null);
    return h("table", {class: "table"}, h("thead", null, h("tr", null, header.map((label) => h("th", null, label)))),
      h("tbody", null, ranking.map((row) => h("tr", null, h("td", null, row.pain_rank ?? "—"),
        h("td", null, i18n.name(taxonomy, "stages", row.stage), row.reliable ? "" : ` (${t("fewData")})`),
        by ? h("td", null, row.group ?? "—") : null, h("td", null, row.contacts), h("td", null, i18n.percent(row.share_pct, 1)),
        h("td", null, i18n.number(row.pain)), h("td", null, i18n.signed(row.nev)), h("td", null, i18n.number(row.ces, 2)),
        h("td", null, i18n.percent(row.unresolved_pct)), h("td", null, i18n.percent(row.repeat_pct)),
        h("td", null, row.top_issue_types || "—"), h("td", null, i18n.word("recommendation", row.recommendation))))));
  }

  function evidenceTable(taxonomy, ranking) {
    const rows = ranking.filter((row) => row.pain_rank !== null).sort((a, b) => a.pain_rank - b.pain_rank)
      .flatMap((row) => (row.evidence || []).map((item) => ({row, item})));
    if (!rows.length) return h("p", {class: "empty-message"}, t("noEvidence"));
    return h("table", {class: "table evidence-table"},
      h("thead", null, h("tr", null, ["#", t("stage"), t("pain"), t("emotion"), t("evidence"), t("transcriptId")]
        .map((label) => h("th", null, label)))),
      h("tbody", null, rows.map(({row, item}) => h("tr", null, h("td", null, row.pain_rank),
        h("td", null, i18n.name(taxonomy, "stages", row.stage) + (row.group !== null && row.group !== undefined ? ` · ${row.group}` : "")),
        h("td", null, i18n.number(row.pain)),
        h("td", null, h("span", {class: `chip emo-${item.emotion || "neutral"}`}, i18n.word("emotion", item.emotion))),
        h("td", {class: "text"}, `“${item.text}”`), h("td", null, item.transcript_id)))));
  }

  function drawTrend(taxonomy) {
    const points = rowsOf(data.trends, taxonomy).filter((p) => p.stage === chosenStage[taxonomy])
      .map((p) => ({...p, period: String(p.period).slice(0, 10)}));
    const element = document.getElementById(`trend-${taxonomy}`);
    if (!points.length) {
      element.replaceChildren(h("p", {class: "empty-message"}, t("noTrend")));
      return;
    }
    charts.draw(element, charts.trend(points));
  }

  function section(taxonomy) {
    const ranking = rowsOf(data.ranking, taxonomy);
    const stages = ranking.filter((row) => row.stage !== "other").sort(byOrder);
    const service = rowsOf(data.service, taxonomy).sort((a, b) => (a.step_order ?? 999) - (b.step_order ?? 999));
    const stageIds = [...new Set(stages.map((row) => row.stage))];
    const top = ranking.find((row) => row.pain_rank === 1);
    if (!chosenStage[taxonomy]) chosenStage[taxonomy] = top ? top.stage : stageIds[0];
    const chart = (kind) => h("div", {id: `${kind}-${taxonomy}`, class: "chart", dataset: {chart: kind}});
    const select = h("select", {onchange: (event) => { chosenStage[taxonomy] = event.target.value; drawTrend(taxonomy); }},
      stageIds.map((stage) => h("option", {value: stage}, i18n.name(taxonomy, "stages", stage))));
    select.value = chosenStage[taxonomy] || "";
    const element = h("section", {class: "taxonomy", dataset: {taxonomy}},
      h("h2", {class: "taxonomy-title"}, i18n.word("taxonomy", taxonomy)),
      headline(taxonomy, ranking),
      h("div", {class: "grid"},
        h("div", {class: "card span-7"}, h("h2", null, `${t("journeyMap")} · ${t("levelCustomer")}`),
          h("p", {class: "hint"}, t("hintCustomer")), chart("journey-map")),
        h("div", {class: "card span-5"}, h("h2", null, t("quadrant")), h("p", {class: "hint"}, t("quadrantHint")), chart("quadrant")),
        h("div", {class: "card span-7"}, h("h2", null, `${t("journeyMap")} · ${t("levelService")}`),
          h("p", {class: "hint"}, t("hintService")), chart("service-map")),
        h("div", {class: "card span-5"}, h("div", {class: "card-head"}, h("h2", null, t("trends")), select), chart("trend")),
        h("div", {class: "card span-12"}, h("h2", null, t("allStages")), stageTable(taxonomy, ranking)),
        h("div", {class: "card span-12"}, h("h2", null, t("reportEvidence")), evidenceTable(taxonomy, ranking))));
    const draws = [];
    const item = (row, name) => ({key: row.stage || row.service_step, name, contacts: row.contacts, share: row.share_pct,
      nev: row.nev, nev_low: row.nev_low, nev_high: row.nev_high, pain: row.pain, reliable: row.reliable, group: row.group});
    draws.push(["journey-map", stages.length ? charts.journeyMap(stages.map((row) => ({...item(row, i18n.name(taxonomy, "stages", row.stage)),
      phase: i18n.word("phase", row.phase)}))) : null]);
    const points = stages.filter((row) => row.pain !== null);
    draws.push(["quadrant", points.length ? charts.quadrant(points.map((row) => ({key: row.stage, name: i18n.name(taxonomy, "stages", row.stage),
      share: row.share_pct, pain: row.pain, contacts: row.contacts, recommendation: row.recommendation,
      share_median: row.share_median, pain_median: row.pain_median, group: row.group, reliable: row.reliable}))) : null]);
    draws.push(["service-map", service.length ? charts.journeyMap(service.map((row) => ({
      ...item(row, i18n.name(taxonomy, "service_steps", row.service_step)), phase: null}))) : null]);
    return {element, draws};
  }

  function render() {
    document.documentElement.lang = i18n.lang === "en" ? "en" : "zh-CN";
    document.title = `JourneyLens · ${t("reportTitle")}`;
    const filters = Object.entries(data.meta.filters).map(([name, value]) =>
      `${name}=${typeof value === "object" ? JSON.stringify(value) : value}`).join(", ") || t("none");
    const taxonomies = [...new Set(data.ranking.map((row) => row.taxonomy))];
    const sections = taxonomies.map(section);
    document.getElementById("report").replaceChildren(
      h("header", {class: "topbar"}, h("h1", null, h("span", {class: "brand"}, "JourneyLens"), " ", t("reportTitle")),
        h("div", {class: "topbar-actions"}, h("button", {type: "button", class: "ghost", id: "lang-toggle", onclick: () => {
          i18n.lang = i18n.lang === "en" ? "zh" : "en";
          render();
        }}, i18n.lang === "en" ? "中文" : "EN"))),
      h("p", {class: "muted"}, t("reportGenerated", {when: data.meta.generated, db: data.meta.source}), " · ",
        t("reportFilters", {filters})),
      ...(taxonomies.length ? sections.map((s) => s.element) : [h("p", {class: "empty-message"}, t("noData"))]));
    for (const [index, taxonomy] of taxonomies.entries()) {
      for (const [kind, figure] of sections[index].draws) {
        const element = document.getElementById(`${kind}-${taxonomy}`);
        if (figure) charts.draw(element, figure);
        else element.replaceChildren(h("p", {class: "empty-message"}, t("noData")));
      }
      drawTrend(taxonomy);
    }
  }

  render();
})();
