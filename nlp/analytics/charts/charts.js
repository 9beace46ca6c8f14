/* Chart figures of the dashboard and of the HTML report: pure functions from analytics rows to plotly
   {data, layout} objects, draw() to render one, and h() to build the page elements around them. Words come from JL.i18n (i18n.js). */
(function (global) {
  "use strict";
  const i18n = global.JL.i18n;
  const t = (key, vars) => i18n.t(key, vars);

  const FONT = "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'PingFang SC', 'Microsoft YaHei', sans-serif";
  const PAIN_SCALE = [[0, "#1a9850"], [0.5, "#fee08b"], [1, "#d73027"]];
  const PATTERNS = ["", "/", "x", ".", "\\", "+", "-", "|"];
  const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];
  const RECOMMENDATION_COLORS = {
    "prevent and improve resolution (priority)": "#d73027", "reduce occurrence": "#fc8d59",
    "improve resolution": "#4575b4", "monitor": "#91bfdb",
  };
  const STATUS_STYLE = {
    broken: {symbol: "x", color: "#d73027"}, kept: {symbol: "circle", color: "#1a9850"},
    open: {symbol: "circle-open", color: "#888888"},
  };
  const CONFIG = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"]};

  function base(extra) {
    return Object.assign({
      font: {family: FONT, size: 12, color: "#222"}, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      margin: {l: 56, r: 24, t: 36, b: 44}, hoverlabel: {font: {family: FONT}},
      legend: {orientation: "h", x: 0, y: 1.14, font: {size: 11}},
    }, extra);
  }

  function painAxis(values) {
    const present = values.filter((v) => v !== null && v !== undefined);
    const low = present.length ? Math.min(...present) : 0;
    const high = present.length ? Math.max(...present) : 100;
    return {colorscale: PAIN_SCALE, cmin: Math.floor(low), cmax: Math.max(Math.ceil(high), Math.floor(low) + 1),
      colorbar: {title: {text: t("pain"), side: "right"}, thickness: 10, len: 0.75, x: 1.1, y: 0.45}};
  }

  /** An invisible trace that only carries the pain colour bar (legend entries cannot show colour arrays). */
  function colorBar(axis, x) {
    return {type: "scatter", mode: "markers", x, y: [null], showlegend: false, hoverinfo: "skip",
      marker: {color: [axis.cmin], coloraxis: "coloraxis"}};
  }

  /** The colour of a value on the pain scale (bars are given colours, not numbers: plotly.js 4 warns about
      numeric bar colours). */
  function painColor(value, axis) {
    if (value === null || value === undefined) return "#cccccc";
    const at = Math.min(1, Math.max(0, (value - axis.cmin) / (axis.cmax - axis.cmin)));
    const upper = PAIN_SCALE.findIndex(([stop]) => stop >= at);
    const [s1, c1] = PAIN_SCALE[Math.max(upper - 1, 0)];
    const [s2, c2] = PAIN_SCALE[upper];
    const f = s2 > s1 ? (at - s1) / (s2 - s1) : 0;
    const rgb = [1, 3, 5].map((i) => Math.round(parseInt(c1.slice(i, i + 2), 16) * (1 - f) + parseInt(c2.slice(i, i + 2), 16) * f));
    return `rgb(${rgb.join(",")})`;
  }

  function groupsOf(items) {
    return [...new Set(items.map((item) => item.group ?? null))];
  }

  function groupName(group) {
    return group === null ? "" : ` · ${group}`;
  }

  /** Bars of the breakdown groups differ by hatching (their colour is the pain). */
  function pattern(groups, index) {
    return groups.length > 1
      ? {shape: PATTERNS[index % PATTERNS.length], fgcolor: "#333", bgcolor: "rgba(0,0,0,0)", fillmode: "overlay"}
      : undefined;
  }

  /** An axis range around the values that keeps 0 in view, with a margin. */
  function spanWithZero(values, pad = 0.12) {
    const present = values.filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
    const low = Math.min(0, ...present);
    const high = Math.max(0, ...present);
    const margin = Math.max(high - low, 1) * pad;
    return [low - margin, high + margin];
  }

  /** A range around the values with a margin on each side (room for labels in the corners). */
  function span(values, pad) {
    const present = values.filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
    if (!present.length) return undefined;
    const low = Math.min(...present);
    const high = Math.max(...present);
    const margin = Math.max(high - low, 1) * pad;
    return [low - margin, high + margin];
  }

  /** A long label on up to three lines (English stage names), so the axis keeps its labels horizontal. */
  function wrap(label, width = 10) {
    const words = String(label).split(" ");
    if (label.length <= width || words.length < 2) return label;
    const lines = [];
    for (const word of words) {
      if (lines.length && (lines[lines.length - 1] + " " + word).length <= width) lines[lines.length - 1] += " " + word;
      else lines.push(word);
    }
    return lines.slice(0, 3).join("<br>");
  }

  /** Journey map: items [{key, name, phase, contacts, share, nev, nev_low, nev_high, pain, reliable, group}]
      in journey order. Bars = contacts (colour = pain), line = NEV with its interval. */
  function journeyMap(items, options = {}) {
    const groups = groupsOf(items);
    const axis = painAxis(items.map((item) => item.pain));
    const phased = items.length > 0 && items.every((item) => item.phase);
    const data = [];
    groups.forEach((group, index) => {
      const rows = items.filter((item) => (item.group ?? null) === group);
      const x = phased ? [rows.map((r) => r.phase), rows.map((r) => wrap(r.name))] : rows.map((r) => wrap(r.name));
      const custom = rows.map((r) => [r.key, i18n.number(r.pain), i18n.signed(r.nev),
        i18n.percent(r.share, 1), r.reliable ? "" : ` (${t("fewData")})`]);
      data.push({
        type: "bar", name: groups.length > 1 ? String(group ?? "—") : t("contacts"), legendgroup: `g${index}`, x,
        y: rows.map((r) => r.contacts), customdata: custom,
        marker: {
          color: rows.map((r) => painColor(r.pain, axis)), opacity: rows.map((r) => (r.reliable ? 1 : 0.45)),
          line: {color: rows.map((r) => (r.key === options.selected ? "#111" : "rgba(0,0,0,0)")), width: 2.5},
          pattern: pattern(groups, index),
        },
        hovertemplate: `%{x}<br>${t("contacts")} %{y} (%{customdata[3]})<br>${t("pain")} %{customdata[1]}` +
          `<br>NEV %{customdata[2]}%{customdata[4]}<extra></extra>`,
      });
      data.push({
        type: "scatter", mode: "lines+markers", name: "NEV" + groupName(group), legendgroup: `g${index}`,
        showlegend: groups.length === 1, x, y: rows.map((r) => r.nev),
        yaxis: "y2", customdata: custom, line: {color: "#2b3a67", width: 2, dash: DASHES[index % DASHES.length]},
        marker: {size: 9, color: rows.map((r) => painColor(r.pain, axis)), line: {color: "#2b3a67", width: 1.5}},
        error_y: {type: "data", symmetric: false, color: "rgba(43,58,103,0.35)", thickness: 1,
          array: rows.map((r) => (r.nev_high ?? r.nev ?? 0) - (r.nev ?? 0)),
          arrayminus: rows.map((r) => (r.nev ?? 0) - (r.nev_low ?? r.nev ?? 0))},
        hovertemplate: `%{x}<br>NEV %{customdata[2]}%{customdata[4]}<extra></extra>`,
      });
    });
    if (items.length) data.push(colorBar(axis, phased ? [[items[0].phase], [wrap(items[0].name)]] : [wrap(items[0].name)]));
    const layout = base({
      barmode: "group", coloraxis: axis,
      margin: {l: 56, r: 110, t: 36, b: phased ? 64 : 80},
      xaxis: phased ? {type: "multicategory", tickfont: {size: 11}, tickangle: 0}
        : {type: "category", tickfont: {size: 11}, tickangle: 0, categoryorder: "array",
          categoryarray: [...new Set(items.map((item) => wrap(item.name)))]},
      yaxis: {title: {text: t("contacts")}, rangemode: "tozero", gridcolor: "#eee"},
      yaxis2: {title: {text: "NEV"}, overlaying: "y", side: "right", zeroline: true, zerolinecolor: "#888", tickmode: "auto",
        showgrid: false, range: spanWithZero(items.flatMap((item) => [item.nev_low, item.nev_high, item.nev]))},
    });
    return {data, layout};
  }

  /** Frequency × pain: points [{key, name, share, pain, contacts, recommendation, share_median, pain_median,
      group, reliable}]. */
  function quadrant(points, options = {}) {
    const biggest = Math.max(1, ...points.map((p) => p.contacts));
    const groups = groupsOf(points);
    const data = Object.keys(RECOMMENDATION_COLORS).map((recommendation) => {
      const rows = points.filter((p) => p.recommendation === recommendation);
      return {
        type: "scatter", mode: "markers+text", name: i18n.word("recommendation", recommendation),
        x: rows.map((p) => p.share), y: rows.map((p) => p.pain),
        text: rows.map((p) => (groups.length > 1 ? "" : p.name)),
        hovertext: rows.map((p) => p.name + groupName(p.group ?? null)),
        textposition: "top center", textfont: {size: 11},
        customdata: rows.map((p) => [p.key, p.contacts, i18n.word("recommendation", p.recommendation),
          p.reliable ? "" : ` (${t("fewData")})`]),
        marker: {color: RECOMMENDATION_COLORS[recommendation], sizemode: "area", sizemin: 6,
          sizeref: (2 * biggest) / (46 * 46), size: rows.map((p) => p.contacts), opacity: 0.8,
          line: {color: rows.map((p) => (p.key === options.selected ? "#111" : "#fff")), width: 2}},
        hovertemplate: `%{hovertext}<br>${t("share")} %{x:.1f}%<br>${t("pain")} %{y:.1f}<br>${t("contacts")} ` +
          `%{customdata[1]}%{customdata[3]}<br>%{customdata[2]}<extra></extra>`,
      };
    }).filter((trace) => trace.x.length);
    const shapes = [];
    if (groups.length === 1 && points.length) {
      const {share_median: x, pain_median: y} = points[0];
      const line = {color: "#999", width: 1, dash: "dash"};
      if (x !== null && x !== undefined) shapes.push({type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1, line});
      if (y !== null && y !== undefined) shapes.push({type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: y, y1: y, line});
    }
    const corner = (x, y, key, recommendation) => ({
      xref: "x domain", yref: "y domain", x, y, xanchor: x > 0.5 ? "right" : "left", yanchor: y > 0.5 ? "top" : "bottom",
      showarrow: false, align: x > 0.5 ? "right" : "left", font: {size: 11, color: RECOMMENDATION_COLORS[recommendation]},
      text: `<b>${t(key)}</b><br>${i18n.word("recommendation", recommendation)}`,
    });
    const layout = base({
      showlegend: false, shapes, margin: {l: 56, r: 24, t: 24, b: 44},
      annotations: [corner(0.99, 0.99, "quadrantHigh", "prevent and improve resolution (priority)"),
        corner(0.99, 0.01, "quadrantFreq", "reduce occurrence"), corner(0.01, 0.99, "quadrantPain", "improve resolution"),
        corner(0.01, 0.01, "quadrantLow", "monitor")],
      xaxis: {title: {text: `${t("share")} (%)`}, gridcolor: "#eee", zeroline: false,
        range: span(points.map((p) => p.share), 0.2)},
      yaxis: {title: {text: t("pain")}, gridcolor: "#eee", zeroline: false, range: span(points.map((p) => p.pain), 0.38)},
    });
    return {data, layout};
  }

  /** Trend of one stage: points [{period, contacts, nev, pain, anomaly, z_contacts, z_nev, z_pain, group}];
      options {changeDate, impact: {nev: {before, after}, pain: {before, after}}}. Volume, NEV and pain stacked. */
  function trend(points, options = {}) {
    const groups = groupsOf(points);
    const data = [];
    const metrics = [["contacts", "y", "bar"], ["nev", "y2", "line"], ["pain", "y3", "line"]];
    groups.forEach((group, index) => {
      const rows = points.filter((p) => (p.group ?? null) === group);
      const x = rows.map((p) => p.period);
      for (const [metric, axis, kind] of metrics) {
        const label = (metric === "nev" ? "NEV" : t(metric === "contacts" ? "volume" : "pain")) + groupName(group);
        // with a breakdown the legend names the groups (one entry each); the three panels say the metric
        const legend = groups.length > 1 ? {legendgroup: `g${index}`, showlegend: metric === "contacts", name: String(group ?? "—")}
          : {legendgroup: metric, name: label};
        const trace = {x, y: rows.map((p) => p[metric]), yaxis: axis, ...legend,
          hovertemplate: `%{x}<br>${label} %{y:.1f}<extra></extra>`};
        if (kind === "bar") {
          Object.assign(trace, {type: "bar", marker: {color: "#9db4d6", pattern: pattern(groups, index)}});
        } else {
          Object.assign(trace, {type: "scatter", mode: "lines+markers", marker: {size: 5},
            line: {width: 2, color: metric === "nev" ? "#2b3a67" : "#d73027", dash: DASHES[index % DASHES.length]}});
        }
        data.push(trace);
      }
      const anomalies = rows.filter((p) => p.anomaly);
      if (anomalies.length) {
        const placed = anomalies.map((p) => {
          const strongest = (best, current) => (Math.abs(p[`z_${current[0]}`] || 0) > Math.abs(p[`z_${best[0]}`] || 0) ? current : best);
          const [metric, axis] = metrics.reduce(strongest);
          return {x: p.period, y: p[metric], axis, metric, z: p[`z_${metric}`]};
        });
        for (const [, axis] of metrics) {
          const here = placed.filter((p) => p.axis === axis);
          if (!here.length) continue;
          data.push({type: "scatter", mode: "markers", yaxis: axis, name: t("anomaly"), legendgroup: "anomaly",
            showlegend: !data.some((trace) => trace.legendgroup === "anomaly"), x: here.map((p) => p.x),
            y: here.map((p) => p.y), customdata: here.map((p) => i18n.number(p.z, 1)),
            marker: {symbol: "x", size: 12, color: "#b2182b", line: {width: 1, color: "#b2182b"}},
            hovertemplate: `%{x}<br>${t("anomaly")} (z = %{customdata})<extra></extra>`});
        }
      }
    });
    const shapes = [];
    const annotations = [];
    if (options.changeDate) {
      shapes.push({type: "line", xref: "x", yref: "paper", x0: options.changeDate, x1: options.changeDate, y0: 0, y1: 1,
        line: {color: "#6a3d9a", width: 2, dash: "dash"}});
      annotations.push({xref: "x", yref: "paper", x: options.changeDate, y: 1.02, yanchor: "bottom", showarrow: false,
        text: `${t("changeMarker")} ${options.changeDate}`, font: {color: "#6a3d9a", size: 11}});
      const periods = points.map((p) => p.period).sort();
      for (const [metric, axis] of [["nev", "y2"], ["pain", "y3"]]) {
        const effect = options.impact && options.impact[metric];
        if (!effect || !periods.length) continue;
        const line = {color: "#6a3d9a", width: 2, dash: "dot"};
        if (effect.before !== null && effect.before !== undefined) {
          shapes.push({type: "line", xref: "x", yref: axis, x0: periods[0], x1: options.changeDate, y0: effect.before, y1: effect.before, line});
        }
        if (effect.after !== null && effect.after !== undefined) {
          shapes.push({type: "line", xref: "x", yref: axis, x0: options.changeDate, x1: periods[periods.length - 1], y0: effect.after, y1: effect.after, line});
        }
      }
    }
    const layout = base({
      shapes, annotations, barmode: "group", margin: {l: 56, r: 24, t: 40, b: 36},
      xaxis: {type: "date", anchor: "y", gridcolor: "#f3f3f3"},
      yaxis: {domain: [0, 0.27], title: {text: t("volume")}, rangemode: "tozero", gridcolor: "#eee"},
      yaxis2: {domain: [0.36, 0.63], title: {text: "NEV"}, zerolinecolor: "#bbb", gridcolor: "#eee"},
      yaxis3: {domain: [0.72, 1], title: {text: t("pain")}, gridcolor: "#eee"},
    });
    return {data, layout};
  }

  /** Customer-view journey: contacts on one row (colour = pain) and each promise from when it was made to its
      deadline, ending in its status (broken ✕, kept ●, open ○). */
  function timeline(journey, names = {}) {
    const contactRow = t("contactsList");
    const axis = painAxis(journey.contacts.map((c) => c.pain));
    const contacts = journey.contacts;
    const data = [{
      type: "scatter", mode: "markers+text", name: t("contactsList"), x: contacts.map((c) => c.started_at),
      y: contacts.map(() => contactRow), text: contacts.map((c, i) => `${i + 1}`), textposition: "middle center",
      textfont: {size: 10, color: "#111"},
      customdata: contacts.map((c) => [c.transcript_id, i18n.word("channel", c.channel),
        names.stage ? names.stage(c) : c.stage, i18n.number(c.pain)]),
      marker: {size: 16, color: contacts.map((c) => painColor(c.pain, axis)), line: {color: "#333", width: 1}},
      hovertemplate: `%{x}<br>%{customdata[0]} · %{customdata[1]}<br>%{customdata[2]}<br>${t("pain")} ` +
        `%{customdata[3]}<extra></extra>`,
    }];
    const shown = new Set();
    journey.promises.forEach((promise, index) => {
      const row = `${t("promise")} ${index + 1}`;
      const style = STATUS_STYLE[promise.status] || STATUS_STYLE.open;
      const statusName = t(`status_${promise.status}`);
      data.push({
        type: "scatter", mode: "lines+markers", x: [promise.made_at, promise.deadline], y: [row, row],
        name: statusName, legendgroup: promise.status, showlegend: !shown.has(promise.status),
        line: {color: style.color, width: 3}, customdata: [promise.text, promise.text],
        marker: {symbol: ["circle", style.symbol], size: [7, 15], color: style.color, line: {width: 2, color: style.color}},
        hovertemplate: `%{x}<br>%{customdata}<br>${statusName}<extra></extra>`,
      });
      shown.add(promise.status);
    });
    const rows = [contactRow, ...journey.promises.map((_, index) => `${t("promise")} ${index + 1}`)];
    const layout = base({
      height: 90 + 34 * rows.length, margin: {l: 80, r: 24, t: 36, b: 36},
      xaxis: {type: "date", gridcolor: "#eee"},
      yaxis: {type: "category", categoryorder: "array", categoryarray: [...rows].reverse(), gridcolor: "#f3f3f3"},
    });
    return {data, layout};
  }

  // Draws and clears of one element run one after the other: a purge (or new content) landing while plotly is
  // still drawing leaves its pending auto-margin redraw without a layout ("_redrawFromAutoMarginCount" errors).
  const queues = new WeakMap();

  function enqueue(element, operation) {
    const next = (queues.get(element) || Promise.resolve()).catch(() => {}).then(operation);
    queues.set(element, next);
    return next;
  }

  /** Render a figure into an element; resolves when plotly has drawn it. */
  function draw(element, figure) {
    return enqueue(element, () => {
      element.classList.remove("empty");
      return global.Plotly.react(element, figure.data, figure.layout, CONFIG);
    });
  }

  /** Remove an element's chart once any draw in flight has finished, then ``then()`` (e.g. fill in a message). */
  function clear(element, then) {
    return enqueue(element, () => {
      if (global.Plotly && element.data) global.Plotly.purge(element);
      then();
    });
  }

  /** A DOM element: h("div", {class: "x", onclick: f}, child, "text", [more children]). */
  function h(tag, props, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name === "dataset") Object.assign(element.dataset, value);
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  global.JL.charts = {h, journeyMap, quadrant, trend, timeline, draw, clear, RECOMMENDATION_COLORS};
})(window);
