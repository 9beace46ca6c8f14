"""The stage-level table the demo prints: per taxonomy and stage, how many contacts and how they felt.

``pct_negative`` / ``pct_positive`` are the shares of the stage's customer utterances with that sentiment label;
``nev`` is the stage's Net Emotional Value by the one definition (``nlp.analytics.nev``, the settings' emotion
weights), the number ``journeylens rank`` and the dashboard show. Pain, intervals and rankings: ``rankings``.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from nlp.analytics.contacts import touchpoint_emotions
from nlp.analytics.nev import nev_table
from nlp.analytics.settings import AnalyticsSettings
from nlp.schema.taxonomy import TaxonomyError, load_taxonomy

_SQL = """
WITH contacts AS (
    SELECT t.taxonomy, s.stage, count(DISTINCT s.transcript_id) AS contacts
    FROM segments s JOIN transcripts t USING (transcript_id)
    GROUP BY ALL
), feelings AS (
    SELECT t.taxonomy, u.stage,
           count(*) AS customer_utterances,
           100 * avg(CASE WHEN u.sentiment = 'negative' THEN 1 ELSE 0 END) AS pct_negative,
           100 * avg(CASE WHEN u.sentiment = 'positive' THEN 1 ELSE 0 END) AS pct_positive,
           mode(u.emotion) FILTER (WHERE u.emotion <> 'neutral') AS top_emotion
    FROM utterances u JOIN transcripts t USING (transcript_id)
    WHERE u.speaker = 'customer'
    GROUP BY ALL
)
SELECT c.taxonomy, c.stage, c.contacts,
       100.0 * c.contacts / sum(c.contacts) OVER (PARTITION BY c.taxonomy) AS pct_contacts,
       coalesce(f.customer_utterances, 0) AS customer_utterances,
       f.pct_negative, f.pct_positive, f.top_emotion
FROM contacts c LEFT JOIN feelings f USING (taxonomy, stage)
"""


def stage_summary(con: duckdb.DuckDBPyConnection, settings: AnalyticsSettings | None = None) -> pd.DataFrame:
    """One row per (taxonomy, stage), stages in journey order, ``other`` last; ``settings``: whose emotion
    weights NEV uses (default: the default settings)."""
    settings = settings or AnalyticsSettings()
    frame = con.execute(_SQL).df()
    nev = nev_table(touchpoint_emotions(con, settings), ["taxonomy", "stage"], settings)[["taxonomy", "stage", "nev"]]
    frame = frame.merge(nev, on=["taxonomy", "stage"], how="left")
    frame.insert(frame.columns.get_loc("top_emotion"), "nev", frame.pop("nev").astype(float))
    frame["stage_name"] = frame["stage"]
    frame["order"] = len(frame) + 1
    for taxonomy in frame["taxonomy"].unique():
        try:
            stages = load_taxonomy(taxonomy).stages
        except TaxonomyError:
            continue
        rows = frame["taxonomy"] == taxonomy
        position = {s.id: i for i, s in enumerate(stages)}
        names = {s.id: s.name for s in stages}
        frame.loc[rows, "order"] = frame.loc[rows, "stage"].map(position).fillna(len(stages))
        frame.loc[rows, "stage_name"] = frame.loc[rows, "stage"].map(names).fillna(frame.loc[rows, "stage"])
    frame = frame.sort_values(["taxonomy", "order"]).drop(columns="order").reset_index(drop=True)
    return frame.round({"pct_contacts": 1, "pct_negative": 1, "pct_positive": 1, "nev": 1})
