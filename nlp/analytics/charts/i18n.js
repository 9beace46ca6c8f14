/* Words of the dashboard and of the HTML report, in Chinese (default) and English, and the names of the
   taxonomies' stages, issue types and service steps (from GET /v1/taxonomies, or embedded in a report). */
(function (global) {
  "use strict";

  const STRINGS = {
    zh: {
      title: "客户旅程情绪看板", loading: "加载中…", changeKey: "更换密钥",
      from: "开始日期", to: "结束日期", businessLine: "业务线", channel: "渠道", where: "元数据筛选",
      wherePlaceholder: "persona=学生; city=上海", by: "细分维度", category: "类别", apply: "应用", reset: "重置", all: "全部",
      journeyMap: "旅程地图", levelCustomer: "客户旅程", levelService: "服务旅程", levelProcess: "处理流程",
      hintCustomer: "柱 = 以该阶段为联络原因的联络量；线 = NEV（净情绪值）；颜色 = 痛度。点击阶段查看详情。",
      hintService: "柱 = 经过该服务环节的联络量；线 = 该环节客户话语的 NEV；颜色 = 这些联络的平均痛度。",
      hintProcess: "{stage}：按问题类型的处理环节。柱 = 联络量；线 = NEV；颜色 = 痛度。",
      quadrant: "问题频率 × 痛度", quadrantHint: "每个点是一个阶段，大小为联络量；虚线为中位数。点击查看详情。",
      trends: "阶段趋势", stage: "阶段", period: "周期", week: "周", day: "日", changeDate: "变更日期",
      drilldown: "阶段详情", customerJourney: "客户视角旅程", journeyPlaceholder: "订单号或客户 ID",
      show: "查看", allStages: "全部阶段", keyTitle: "输入 API 密钥",
      keyHelp: "密钥由管理员用 journeylens keys create 生成，只保存在本标签页中。", keySubmit: "进入看板",
      keyInvalid: "密钥无效或已撤销，请重新输入。", keyMissing: "请输入 API 密钥。",
      contacts: "联络量", share: "占比", nev: "NEV", pain: "痛度", ces: "费力度 CES", volume: "联络量",
      unresolved: "未解决", repeat: "重复联络", escalation: "升级", brokenPromises: "违背承诺",
      fewData: "数据较少", rank: "痛度排名", recommendation: "建议", issueTypes: "问题类型",
      painDrivers: "主要痛点", evidence: "证据（客户原话）", openTranscript: "查看对话",
      headline: "最痛的阶段：{stage}", headlineFacts: "痛度 {pain}（第 1 / {n}），NEV {nev}，{contacts} 次联络（占 {share}）。建议：{rec}。",
      headlineFrequent: "问题最多的阶段：{stage}（占 {share}）。",
      headlineGroup: "（{by} = {group}）", evidenceLabel: "证据：", driversLabel: "主要痛点：",
      noData: "没有符合筛选条件的数据。", noEvidence: "这个阶段没有足够负面的客户原话。",
      noTrend: "这个阶段在所选范围内没有联络。", noJourney: "找不到这个订单号或客户 ID 的联络。",
      apiError: "请求失败", rateLimited: "请求过于频繁，请稍后再试。", networkError: "无法连接服务。",
      chartsFailed: "图表库加载失败。", retry: "重试",
      anomaly: "异常", changeMarker: "变更", before: "变更前", after: "变更后", difference: "差值",
      interval: "区间", effect: "效应量", verdict: "结论", better: "改善", worse: "变差", noChange: "无显著变化",
      impactTitle: "变更前后（{date}）：{stage}", changedStages: "显著变化：", noneChanged: "没有阶段显著变化。",
      metric_nev: "NEV", metric_pain: "痛度", metric_ces: "费力度 CES", metric_repeat_rate: "重复联络率",
      transcript: "对话", speaker: "说话人", turnsLegend: "客户话语按情绪着色：",
      transcriptCategories: "命中类别：", noTranscriptCategories: "未命中任何类别。",
      categoryChipHint: "{n} 句话语命中；点击高亮", contactLevelMatch: "整通联络命中（无具体话语）",
      journeySummary: "{contacts} 次联络，历时 {days} 天（{channels}）；承诺 {promises} 个：违背 {broken}，兑现 {kept}；第三方：{parties}；最后是否解决：{resolved}。",
      yes: "是", no: "否", none: "无", contactsList: "联络", promisesList: "承诺",
      promise: "承诺", due: "期限", status: "状态", madeIn: "做出于", judgedBy: "由后续联络判定",
      status_broken: "违背", status_kept: "兑现", status_open: "待定",
      stagesPath: "阶段", servicePath: "服务路径", chases: "追问被违背的承诺",
      quadrantHigh: "高频·高痛", quadrantFreq: "高频·低痛", quadrantPain: "低频·高痛", quadrantLow: "低频·低痛",
      unclassified: "未分类", other: "其他",
      reportTitle: "客户旅程情绪报告", reportGenerated: "生成于 {when}，数据：{db}", reportFilters: "筛选：{filters}",
      reportTrendsAll: "各阶段趋势", reportEvidence: "证据（每阶段最痛联络中的客户原话）", transcriptId: "对话 ID",
      emotion: "情绪", date: "日期",
    },
    en: {
      title: "Customer journey emotion dashboard", loading: "Loading…", changeKey: "Change key",
      from: "From", to: "To", businessLine: "Business line", channel: "Channel", where: "Metadata",
      wherePlaceholder: "persona=student; city=Shanghai", by: "Break down by", category: "Category", apply: "Apply", reset: "Reset",
      all: "All",
      journeyMap: "Journey map", levelCustomer: "Customer journey", levelService: "Service journey",
      levelProcess: "Process",
      hintCustomer: "Bars = contacts whose reason is the stage; line = NEV (net emotional value); colour = pain. Click a stage for details.",
      hintService: "Bars = contacts passing through the service step; line = NEV of customer utterances there; colour = their mean pain.",
      hintProcess: "{stage}: handling steps per issue type. Bars = contacts; line = NEV; colour = pain.",
      quadrant: "Problem frequency × pain", quadrantHint: "One point per stage, sized by contacts; dashed lines are medians. Click for details.",
      trends: "Stage trends", stage: "Stage", period: "Period", week: "Week", day: "Day", changeDate: "Change date",
      drilldown: "Stage details", customerJourney: "Customer-view journey", journeyPlaceholder: "Order or customer id",
      show: "Show", allStages: "All stages", keyTitle: "Enter an API key",
      keyHelp: "An administrator creates keys with journeylens keys create; the key stays in this browser tab only.",
      keySubmit: "Open the dashboard", keyInvalid: "The key is not valid or was revoked; enter it again.",
      keyMissing: "Enter an API key.",
      contacts: "Contacts", share: "Share", nev: "NEV", pain: "Pain", ces: "Effort (CES)", volume: "Contacts",
      unresolved: "Unresolved", repeat: "Repeat contact", escalation: "Escalated", brokenPromises: "Broken promises",
      fewData: "few data", rank: "Pain rank", recommendation: "Recommendation", issueTypes: "Issue types",
      painDrivers: "Pain drivers", evidence: "Evidence (customers' words)", openTranscript: "Open transcript",
      headline: "Most painful stage: {stage}", headlineFacts: "Pain {pain} (1 of {n}), NEV {nev}, {contacts} contacts ({share}). Recommendation: {rec}.",
      headlineFrequent: "Most problems at: {stage} ({share}).",
      headlineGroup: " ({by} = {group})", evidenceLabel: "Evidence: ", driversLabel: "Pain drivers: ",
      noData: "No data matches the filters.", noEvidence: "No negative enough customer utterance at this stage.",
      noTrend: "No contact at this stage in the selected range.", noJourney: "No contact names this order or customer id.",
      apiError: "Request failed", rateLimited: "Too many requests; try again shortly.", networkError: "Cannot reach the service.",
      chartsFailed: "The chart library did not load.", retry: "Retry",
      anomaly: "anomaly", changeMarker: "change", before: "Before", after: "After", difference: "Δ",
      interval: "interval", effect: "Effect size", verdict: "Verdict", better: "better", worse: "worse", noChange: "no change",
      impactTitle: "Before / after {date}: {stage}", changedStages: "Changed: ", noneChanged: "No stage changed significantly.",
      metric_nev: "NEV", metric_pain: "Pain", metric_ces: "Effort (CES)", metric_repeat_rate: "Repeat rate",
      transcript: "Transcript", speaker: "Speaker", turnsLegend: "Customer utterances coloured by emotion:",
      transcriptCategories: "Categories:", noTranscriptCategories: "No category matched.",
      categoryChipHint: "{n} utterances matched; click to highlight", contactLevelMatch: "Matched by the contact as a whole (no utterance)",
      journeySummary: "{contacts} contacts over {days} days ({channels}); {promises} promises: {broken} broken, {kept} kept; third parties: {parties}; resolved at the end: {resolved}.",
      yes: "yes", no: "no", none: "none", contactsList: "Contacts", promisesList: "Promises",
      promise: "Promise", due: "Due", status: "Status", madeIn: "Made in", judgedBy: "Judged by",
      status_broken: "broken", status_kept: "kept", status_open: "open",
      stagesPath: "Stages", servicePath: "Service path", chases: "Chases broken promises",
      quadrantHigh: "Frequent · painful", quadrantFreq: "Frequent · low pain", quadrantPain: "Rare · painful",
      quadrantLow: "Rare · low pain", unclassified: "unclassified", other: "other",
      reportTitle: "Customer journey emotion report", reportGenerated: "Generated {when} from {db}",
      reportFilters: "Filters: {filters}", reportTrendsAll: "Trends per stage",
      reportEvidence: "Evidence (customers' words from each stage's most painful contacts)", transcriptId: "Transcript",
      emotion: "Emotion", date: "Date",
    },
  };

  const WORDS = {
    taxonomy: {
      zh: {food_delivery: "外卖", hotel_stay: "酒店住宿", ecommerce: "电商购物", car_rental: "租车"},
      en: {food_delivery: "Food delivery", hotel_stay: "Hotel stay", ecommerce: "E-commerce", car_rental: "Car rental"},
    },
    phase: {
      zh: {pre_sale: "售前", in_sale: "售中", after_sale: "售后"},
      en: {pre_sale: "Pre-sale", in_sale: "In-sale", after_sale: "After-sale"},
    },
    emotion: {
      zh: {anger: "愤怒", frustration: "沮丧", anxiety: "焦虑", disappointment: "失望", confusion: "困惑",
           neutral: "中性", surprise: "惊讶", satisfaction: "满意", gratitude: "感激"},
      en: {anger: "anger", frustration: "frustration", anxiety: "anxiety", disappointment: "disappointment",
           confusion: "confusion", neutral: "neutral", surprise: "surprise", satisfaction: "satisfaction",
           gratitude: "gratitude"},
    },
    speaker: {
      zh: {customer: "客户", agent: "客服", bot: "机器人", ivr: "IVR", system: "系统", third_party: "第三方"},
      en: {customer: "Customer", agent: "Agent", bot: "Bot", ivr: "IVR", system: "System", third_party: "Third party"},
    },
    channel: {
      zh: {chat: "在线", call: "电话", email: "邮件", ticket: "工单"},
      en: {chat: "chat", call: "call", email: "e-mail", ticket: "ticket"},
    },
    recommendation: {
      zh: {"prevent and improve resolution (priority)": "优先：既要预防问题，也要改善解决",
           "reduce occurrence": "减少发生（从源头预防）", "improve resolution": "改善解决（更快、更好地处理）",
           "monitor": "保持监控", "—": "—"},
      en: {"prevent and improve resolution (priority)": "priority: prevent and improve resolution",
           "reduce occurrence": "reduce occurrence", "improve resolution": "improve resolution",
           "monitor": "monitor", "—": "—"},
    },
    component: {
      zh: {unresolved: "结束时未解决", negative_share: "负面话语占比", worsened: "情绪变差", repeat_contact: "重复联络",
           transfer: "转接", bot_handoff: "机器人转人工", escalation: "升级二线", long_wait: "等待过久",
           complaint_threat: "投诉威胁", broken_promise: "承诺被违背", effort: "费力表达"},
      en: {unresolved: "unresolved at the end", negative_share: "negative share", worsened: "emotion worsened",
           repeat_contact: "repeat contact", transfer: "transfer", bot_handoff: "bot → human hand-off",
           escalation: "escalation", long_wait: "long wait", complaint_threat: "complaint threat",
           broken_promise: "broken promise", effort: "effort markers"},
    },
  };

  const catalog = {};  // taxonomy → {stages: {id: {name, name_en, …}}, issue_types: {…}, service_steps: {…}}

  const i18n = {
    lang: "zh",

    t(key, vars) {
      const text = (STRINGS[i18n.lang] && STRINGS[i18n.lang][key]) || STRINGS.zh[key] || key;
      return vars ? text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : "")) : text;
    },

    word(kind, id) {
      if (id === null || id === undefined) return "";
      const table = WORDS[kind][i18n.lang] || WORDS[kind].zh;
      return table[id] || id;
    },

    /** Load the taxonomies (the shape of GET /v1/taxonomies → taxonomies[]). */
    setCatalog(taxonomies) {
      for (const taxonomy of taxonomies) {
        const index = (items) => Object.fromEntries((items || []).map((item) => [item.id, item]));
        catalog[taxonomy.name] = {
          stages: index(taxonomy.stages),
          issue_types: index(taxonomy.issue_types), service_steps: index(taxonomy.service_steps),
        };
      }
    },

    /** The name of a stage / issue type / service step in the current language (the id when unknown). */
    name(taxonomy, level, id) {
      if (id === null || id === undefined) return i18n.t("unclassified");
      if (id === "other") return i18n.t("other");
      const item = catalog[taxonomy] && catalog[taxonomy][level] && catalog[taxonomy][level][id];
      if (!item) return id;
      return i18n.lang === "en" ? item.name_en || item.name || id : item.name || id;
    },

    number(value, digits = 1) {
      if (value === null || value === undefined || Number.isNaN(value)) return "—";
      return Number(value).toLocaleString(i18n.lang === "en" ? "en-US" : "zh-CN",
        {minimumFractionDigits: digits, maximumFractionDigits: digits});
    },

    signed(value, digits = 0) {
      if (value === null || value === undefined || Number.isNaN(value)) return "—";
      const text = i18n.number(Math.abs(value), digits);
      return (value > 0 ? "+" : value < 0 ? "−" : "") + text;
    },

    percent(value, digits = 0) {
      return value === null || value === undefined ? "—" : i18n.number(value, digits) + "%";
    },
  };

  global.JL = global.JL || {};
  global.JL.i18n = i18n;
})(window);
