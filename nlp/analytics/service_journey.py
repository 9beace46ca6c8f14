"""The service journey: channel paths, hand-offs, repeat contacts and first-contact resolution; call timing.

Per stage and channel: contacts, bot→human hand-off rate, transfer and escalation rates, mean hand-offs
(changes of service step), repeat-contact rate (another contact of the same order/customer within the window
after this one) and first-contact resolution (ended resolved and no such repeat). Most frequent paths.
For contacts with turn timings (calls): talk time per speaker, silence share of the call and interruptions
(a turn starting before the other speaker's turn ended).
"""

from __future__ import annotations

import pandas as pd
from duckdb import DuckDBPyConnection

from nlp.analytics.contacts import contact_facts
from nlp.analytics.filters import Filters
from nlp.analytics.settings import AnalyticsSettings

_PATHS = """
WITH turns AS (
    SELECT transcript_id, turn_index, any_value(service_step) AS step
    FROM utterances WHERE transcript_id IN (SELECT transcript_id FROM _facts) GROUP BY 1, 2
), changes AS (
    SELECT transcript_id, turn_index, step, step IS DISTINCT FROM lag(step) OVER w AS new_step
    FROM turns WHERE step IS NOT NULL WINDOW w AS (PARTITION BY transcript_id ORDER BY turn_index)
)
SELECT transcript_id, string_agg(step, ' → ' ORDER BY turn_index) AS path, count(*) - 1 AS handoffs
FROM changes WHERE new_step GROUP BY 1
"""

_TIMING = """
WITH turns AS (
    SELECT transcript_id, turn_index, any_value(speaker) AS speaker, min(start_ms) AS start_ms, max(end_ms) AS end_ms
    FROM utterances WHERE start_ms IS NOT NULL AND end_ms IS NOT NULL
      AND transcript_id IN (SELECT transcript_id FROM _facts) GROUP BY 1, 2
), ordered AS (
    SELECT *, max(end_ms) OVER (PARTITION BY transcript_id ORDER BY turn_index
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_until,
           lag(speaker) OVER (PARTITION BY transcript_id ORDER BY turn_index) AS previous_speaker,
           lag(end_ms) OVER (PARTITION BY transcript_id ORDER BY turn_index) AS previous_end
    FROM turns
), calls AS (
    SELECT transcript_id, max(end_ms) - min(start_ms) AS duration_ms,
           sum(greatest(0, end_ms - greatest(start_ms, coalesce(covered_until, start_ms)))) AS spoken_ms,
           count(*) FILTER (WHERE start_ms < previous_end AND speaker <> previous_speaker) AS interruptions
    FROM ordered GROUP BY 1
)
SELECT transcript_id, duration_ms / 1000.0 AS duration_s, 1 - spoken_ms / greatest(duration_ms, 1) AS silence_share,
       interruptions, talk_s_customer, talk_s_agent, talk_s_other
FROM calls JOIN (
    SELECT transcript_id,
           sum(end_ms - start_ms) FILTER (WHERE speaker = 'customer') / 1000.0 AS talk_s_customer,
           sum(end_ms - start_ms) FILTER (WHERE speaker = 'agent') / 1000.0 AS talk_s_agent,
           sum(end_ms - start_ms) FILTER (WHERE speaker NOT IN ('customer', 'agent')) / 1000.0 AS talk_s_other
    FROM turns GROUP BY 1
) USING (transcript_id)
"""


def service_journey(con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None = None,
                    by: str | None = None, top_paths: int = 10) -> dict[str, pd.DataFrame]:
    """Tables ``by_stage_channel``, ``paths`` and ``call_timing`` for the contacts matching ``filters``."""
    facts = contact_facts(con, settings, filters, by)
    con.register("_facts", facts[["transcript_id"]])
    try:
        paths = con.execute(_PATHS).df()
        timing = con.execute(_TIMING).df()
    finally:
        con.unregister("_facts")
    facts = facts.merge(paths, on="transcript_id", how="left").fillna({"handoffs": 0, "path": ""})
    keys = ["taxonomy", "group", "stage", "channel"]
    table = facts.groupby(keys, dropna=False).agg(
        contacts=("transcript_id", "size"), bot_handoff_pct=("bot_handoff", "mean"),
        transfer_pct=("x_transfer", "mean"), escalation_pct=("escalated", "mean"), handoffs=("handoffs", "mean"),
        repeat_contact_pct=("followed_up", "mean"), fcr_pct=("first_contact_resolution", "mean"),
        third_party_pct=("n_third_party_turns", lambda s: (s > 0).mean()),
    ).reset_index()
    for column in ("bot_handoff_pct", "transfer_pct", "escalation_pct", "repeat_contact_pct", "fcr_pct",
                   "third_party_pct"):
        table[column] *= 100
    common = (facts.groupby(["taxonomy", "group", "path"], dropna=False).size().rename("contacts").reset_index()
              .sort_values("contacts", ascending=False).groupby(["taxonomy", "group"], dropna=False)
              .head(top_paths).reset_index(drop=True))
    calls = timing.fillna(0).merge(facts[["transcript_id", *keys]], on="transcript_id")
    call_timing = calls.drop(columns="transcript_id").groupby(keys, dropna=False).mean(numeric_only=True)
    call_timing.insert(0, "calls", calls.groupby(keys, dropna=False).size())
    return {"by_stage_channel": table, "paths": common, "call_timing": call_timing.reset_index()}
