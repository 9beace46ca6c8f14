"""Static reports for people who will not open the dashboard: ``journeylens report --output report.html|.xlsx``.

- **.html**: one self-contained file that opens offline: plotly.js's basic bundle and the chart code the
  dashboard also serves (``nlp/analytics/charts/``) inlined, the data embedded as JSON. Per taxonomy: the
  headline (most painful stage and its evidence), the journey map at the customer and service levels, the
  frequency × pain quadrant, the trend of any stage (volume, NEV, pain, anomalies), the stage table and the
  evidence table; Chinese with an English toggle, as the dashboard.
- **.xlsx**: the sheets ``rankings``, ``quadrant``, ``trends``, ``evidence`` and ``service_journey``
  (``export.write_tables``).

The numbers are those of the analytics routes and commands (same library calls, same filters).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
from duckdb import DuckDBPyConnection

from nlp.analytics.contacts import contact_facts
from nlp.analytics.export import write_tables
from nlp.analytics.filters import Filters
from nlp.analytics.rankings import rank_stages
from nlp.analytics.settings import AnalyticsSettings
from nlp.analytics.touchpoints import touchpoints
from nlp.analytics.trends import stage_trend
from nlp.resources import chart_assets_dir
from nlp.schema.taxonomy import TaxonomyError, load_taxonomy

FORMATS = (".html", ".xlsx")
_QUADRANT = ["taxonomy", "group", "stage", "stage_name", "contacts", "share_pct", "pain", "share_median",
             "pain_median", "frequency", "pain_level", "recommendation", "reliable"]
_EVIDENCE = ["taxonomy", "group", "stage", "stage_name", "pain_rank", "pain", "evidence_rank", "transcript_id",
             "turn_index", "emotion", "text"]
_SCRIPTS = ("vendor/plotly-basic.min.js", "i18n.js", "charts.js", "report.js")


def report_tables(con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None = None,
                  by: str | None = None, evidence: int = 5, period: str = "week") -> dict[str, pd.DataFrame]:
    """The report's tables: ``rankings``, ``quadrant``, ``trends`` (every stage per ``period``), ``evidence``
    (one row per evidence utterance) and ``service_journey`` (touchpoints per service step)."""
    facts = contact_facts(con, settings, filters, by)
    ranking = rank_stages(con, settings, filters, by=by, evidence=evidence, facts=facts)
    if "evidence" not in ranking:
        ranking["evidence"] = [[] for _ in range(len(ranking))]
    rows = [{**{c: row[c] for c in _EVIDENCE[:6]}, "evidence_rank": rank, **item}
            for row in ranking.to_dict("records") for rank, item in enumerate(row["evidence"], start=1)]
    trends = stage_trend(con, settings, filters, period=period, by=by, facts=facts)
    trends["period"] = trends["period"].dt.date
    return {
        "rankings": ranking.drop(columns=["evidence"]),
        "quadrant": ranking[_QUADRANT],
        "trends": trends,
        "evidence": pd.DataFrame(rows, columns=_EVIDENCE),
        "service_journey": touchpoints(con, settings, filters, level="service", by=by, facts=facts),
    }


def write_report(tables: dict[str, pd.DataFrame], path: str | Path, source: str = "",
                 filters: Filters | None = None, by: str | None = None) -> Path:
    """Write ``tables`` (from ``report_tables``) as .html or .xlsx, chosen by the extension of ``path``."""
    path = Path(path)
    if path.suffix not in FORMATS:
        raise ValueError(f"unsupported report {path.name!r}: use one of {', '.join(FORMATS)}")
    if path.suffix == ".xlsx":
        return write_tables(tables, path)[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(tables, source, filters, by), encoding="utf-8")
    return path


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON values (NaN → null, dates → ISO text)."""
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def _catalog(names) -> list[dict]:
    """Names of the stages, issue types and service steps of each taxonomy, as GET /v1/taxonomies gives them."""
    catalog = []
    for name in sorted(names):
        try:
            taxonomy = load_taxonomy(name)
        except TaxonomyError:
            continue
        catalog.append({
            "name": name,
            "stages": [{"id": s.id, "name": s.name, "name_en": s.name_en, "phase": s.phase} for s in taxonomy.stages],
            **{level: [{"id": c.id, "name": c.name, "name_en": c.name_en} for c in getattr(taxonomy, level)]
               for level in ("issue_types", "service_steps")},
        })
    return catalog


def _inline(text: str) -> str:
    """Text safe inside a <script> element."""
    return text.replace("</", "<\\/")


def render_html(tables: dict[str, pd.DataFrame], source: str = "", filters: Filters | None = None,
                by: str | None = None) -> str:
    """The self-contained HTML report."""
    keys = ["taxonomy", "group", "stage"]
    evidence = tables["evidence"].groupby(keys, dropna=False)[["transcript_id", "turn_index", "emotion", "text"]]
    ranking = tables["rankings"].merge(
        evidence.apply(lambda g: g.to_dict("records"), include_groups=False).rename("evidence").reset_index(),
        on=keys, how="left")
    ranking["evidence"] = [items if isinstance(items, list) else [] for items in ranking["evidence"]]
    applied = (filters or Filters()).model_dump(mode="json", exclude_defaults=True)
    data = {
        "meta": {"generated": datetime.now().astimezone().isoformat(timespec="seconds"), "source": source,
                 "filters": {**applied, **({"by": by} if by else {})}},
        "taxonomies": _catalog(ranking["taxonomy"].dropna().unique()),
        "ranking": _records(ranking), "trends": _records(tables["trends"]),
        "service": _records(tables["service_journey"]),
    }
    assets = chart_assets_dir()
    scripts = "\n".join(f"<script>{_inline((assets / name).read_text(encoding='utf-8'))}</script>"
                        for name in _SCRIPTS)
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>JourneyLens · 客户旅程情绪报告</title>
<style>{(assets / "dashboard.css").read_text(encoding="utf-8")}</style>
</head>
<body>
<div id="report" class="report"></div>
<script type="application/json" id="report-data">{_inline(json.dumps(data, ensure_ascii=False))}</script>
{scripts}
</body>
</html>
"""
