"""Stage rankings and the frequency × pain quadrant.

Per taxonomy (and breakdown group) and stage: how often problems arise there (contacts whose reason stage
it is), how customers feel there (NEV), how much it hurts (pain, its components), the top issue types, and
evidence: the customer utterances of the stage's most painful contacts that say it best. The quadrant
splits stages at the median share and the median pain of their taxonomy, as the 美团 journey study does:

- frequent and painful → fix both: prevent the problem and improve its resolution (top priority);
- frequent, low pain → reduce occurrence (prevent the problem upstream);
- rare, painful → improve resolution (faster, better handling);
- rare, low pain → monitor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from duckdb import DuckDBPyConnection

from nlp.analytics.contacts import contact_facts, touchpoint_emotions
from nlp.analytics.filters import Filters
from nlp.analytics.nev import nev_table
from nlp.analytics.settings import PAIN_COMPONENTS, AnalyticsSettings
from nlp.schema.taxonomy import TaxonomyError, load_taxonomy

RECOMMENDATIONS = {
    ("high", "high"): "prevent and improve resolution (priority)",
    ("high", "low"): "reduce occurrence",
    ("low", "high"): "improve resolution",
    ("low", "low"): "monitor",
}

_EVIDENCE = """
WITH best AS (  -- each contact's most telling negative customer utterance at its reason stage
    SELECT u.transcript_id, u.turn_index, u.stage, t.taxonomy, u.text, u.emotion, p.pain
    FROM utterances u JOIN _pain p USING (transcript_id) JOIN transcripts t USING (transcript_id)
    WHERE u.speaker = 'customer' AND u.sentiment = 'negative' AND length(u.text) BETWEEN 8 AND 80
      AND u.stage = p.stage
    QUALIFY row_number() OVER (PARTITION BY u.transcript_id
                               ORDER BY length(u.text) DESC, u.sentiment_score ASC, u.turn_index) = 1
)
SELECT *, row_number() OVER (PARTITION BY taxonomy, stage ORDER BY pain DESC, transcript_id) AS evidence_rank
FROM best
QUALIFY evidence_rank <= $per_stage
"""


_STAGE_INFO = ["taxonomy", "stage", "stage_name", "phase", "journey_order", "owner"]


def stage_info(taxonomy: str) -> pd.DataFrame:
    """Journey order, name and phase of every stage of a taxonomy (empty if it cannot be loaded)."""
    try:
        stages = load_taxonomy(taxonomy).stages
    except TaxonomyError:
        return pd.DataFrame(columns=_STAGE_INFO)
    return pd.DataFrame([{"taxonomy": taxonomy, "stage": s.id, "stage_name": s.name, "phase": s.phase,
                          "journey_order": i, "owner": s.owner} for i, s in enumerate(stages)])


def rank_stages(con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None = None,
                by: str | None = None, evidence: int = 3, facts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The stage table, most painful stage first within each taxonomy (and ``by`` group)."""
    facts = contact_facts(con, settings, filters, by) if facts is None else facts
    keys = ["taxonomy", "group", "stage"]
    per_stage = facts.groupby(keys, dropna=False).agg(
        contacts=("transcript_id", "size"), pain=("pain", "mean"), pain_sd=("pain", "std"),
        ces=("ces", "mean"), unresolved_pct=("x_unresolved", "mean"), repeat_pct=("repeat_contact", "mean"),
        escalation_pct=("escalated", "mean"), fcr_pct=("first_contact_resolution", "mean"),
        broken_promises=("broken_promises", "sum"), csat=("csat", "mean"),
        **{f"pain_{c}": (f"x_{c}", "mean") for c in PAIN_COMPONENTS},
    ).reset_index()
    for column in ("unresolved_pct", "repeat_pct", "escalation_pct", "fcr_pct"):
        per_stage[column] *= 100
    margin = 1.96 * per_stage["pain_sd"].fillna(0) / np.sqrt(per_stage["contacts"])
    per_stage["pain_low"], per_stage["pain_high"] = per_stage["pain"] - margin, per_stage["pain"] + margin
    totals = per_stage.groupby(["taxonomy", "group"], dropna=False)["contacts"].transform("sum")
    per_stage["share_pct"] = 100 * per_stage["contacts"] / totals
    per_stage["top_issue_types"] = _top_issue_types(facts, keys).reindex(
        pd.MultiIndex.from_frame(per_stage[keys])).to_numpy()
    nev = nev_table(touchpoint_emotions(con, settings, filters, by), keys, settings)
    table = per_stage.merge(nev, on=keys, how="outer")
    table["contacts"] = table["contacts"].fillna(0).astype(int)
    table["share_pct"] = table["share_pct"].fillna(0.0)
    info = pd.concat([pd.DataFrame(columns=_STAGE_INFO), *map(stage_info, table["taxonomy"].dropna().unique())],
                     ignore_index=True)
    table = table.merge(info, on=["taxonomy", "stage"], how="left")
    table["stage_name"] = table["stage_name"].fillna(table["stage"])
    table["reliable"] = (table["contacts"] >= settings.min_contacts) & table["nev_reliable"].fillna(False)
    if evidence:
        found = _evidence(con, facts, evidence).reindex(pd.MultiIndex.from_frame(table[["taxonomy", "stage"]]))
        table["evidence"] = [items if isinstance(items, list) else [] for items in found]
    table = quadrant(table)
    ranked = table["pain"].where(table["stage"] != "other")  # "other" is shown, never ranked
    table["pain_rank"] = ranked.groupby([table["taxonomy"], table["group"]], dropna=False).rank(
        ascending=False, method="min").astype("Int64")
    return table.sort_values(["taxonomy", "group", "pain_rank", "stage"], na_position="last").drop(
        columns=["pain_sd"]).reset_index(drop=True)


def quadrant(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``frequency``/``pain_level`` (high/low vs the taxonomy's median over real stages) and the
    recommendation. Stages named ``other`` are placed but do not move the medians."""
    table = table.copy()
    real = table[table["stage"] != "other"]
    medians = real.groupby(["taxonomy", "group"], dropna=False)[["share_pct", "pain"]].median()
    medians.columns = ["share_median", "pain_median"]
    table = table.merge(medians.reset_index(), on=["taxonomy", "group"], how="left")
    table["frequency"] = np.where(table["share_pct"] > table["share_median"], "high", "low")
    table["pain_level"] = np.where(table["pain"] > table["pain_median"], "high", "low")
    table["recommendation"] = [RECOMMENDATIONS[(f, p)] for f, p in zip(table["frequency"], table["pain_level"],
                                                                         strict=True)]
    table.loc[table["stage"] == "other", ["frequency", "pain_level", "recommendation"]] = "—"
    return table


def _top_issue_types(facts: pd.DataFrame, keys: list[str], top: int = 3) -> pd.Series:
    counts = facts.dropna(subset=["issue_type"]).groupby(keys + ["issue_type"], dropna=False).size()
    counts = counts.rename("n").reset_index().sort_values(["n", "issue_type"], ascending=[False, True])
    shares = (100 * counts["n"] / counts.groupby(keys, dropna=False)["n"].transform("sum")).round().astype(int)
    counts["label"] = counts["issue_type"] + " " + shares.astype(str) + "%"
    return counts.groupby(keys, dropna=False).head(top).groupby(keys, dropna=False)["label"].agg(" · ".join)


def _evidence(con: DuckDBPyConnection, facts: pd.DataFrame, per_stage: int) -> pd.Series:
    """Per (taxonomy, stage): the customer's most telling negative utterances, from the most painful contacts
    whose reason stage it is."""
    con.register("_pain", pa.Table.from_pandas(facts[["transcript_id", "stage", "pain"]], preserve_index=False))
    try:
        rows = con.execute(_EVIDENCE, {"per_stage": per_stage}).df()
    finally:
        con.unregister("_pain")
    if rows.empty:
        return pd.Series(dtype=object, index=pd.MultiIndex.from_tuples([], names=["taxonomy", "stage"]))
    records = rows.sort_values("evidence_rank").groupby(["taxonomy", "stage"]).apply(
        lambda g: g[["transcript_id", "turn_index", "text", "emotion"]].to_dict("records"), include_groups=False)
    return records
