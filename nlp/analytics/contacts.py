"""Contact facts: one row per contact with its reason stage, emotion, service path and pain signals.

Everything heavy is one SQL query over the store (utterances are never looped over in Python); the per-contact
pain index and CES proxy are then vectorised column arithmetic. Every report (rankings, trends, impact,
KPIs, journeys) starts from these facts, so they all agree.

A contact's **reason stage** is the stage of its first topical segment that is not ``other``: the problem
that made the customer get in touch; praise is not a problem, so a positive segment that ends mid-turn where the
next one starts (the praised clause of "菜很好吃，但是配送太慢了": clause stages, docs/stages.md) comes after the
others, unless the contact has nothing else. It counts toward that stage's problem frequency and carries the
contact's pain. Emotion (NEV) is counted where it was said: per stage of each customer utterance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from duckdb import DuckDBPyConnection

from nlp.analytics.filters import Filters, field_sql
from nlp.analytics.promises import judged_promises
from nlp.analytics.settings import PAIN_COMPONENTS, AnalyticsSettings

_JOURNEY = """
SELECT transcript_id, coalesce(order_id, customer_id) AS journey_key,
       date_diff('second', lag(started_at) OVER w, started_at) / 86400.0 AS days_since_previous,
       date_diff('second', started_at, lead(started_at) OVER w) / 86400.0 AS days_to_next
FROM transcripts
WINDOW w AS (PARTITION BY coalesce(order_id, customer_id) ORDER BY started_at, transcript_id)
"""

_FACTS = """
WITH base AS (
    SELECT t.*, {group} AS "group" FROM transcripts t WHERE {where}
), journey AS ({journey}),
segment AS (  -- praise: a positive segment that ends mid-turn, where the next one starts ("菜很好吃，但是配送…")
    SELECT *, coalesce(sentiment_mean > 0 AND lead(first_turn) OVER (PARTITION BY transcript_id
                                                                    ORDER BY segment_index) = last_turn, false)
                  ::INTEGER * 1000000 + segment_index AS reason_order
    FROM segments SEMI JOIN base USING (transcript_id)
), reason AS (
    SELECT transcript_id,
           coalesce(arg_min(stage, reason_order) FILTER (WHERE stage <> 'other'), 'other') AS stage,
           arg_min(issue_type, reason_order) FILTER (WHERE stage <> 'other') AS issue_type,
           count(DISTINCT stage) FILTER (WHERE stage <> 'other') AS n_stages
    FROM segment GROUP BY 1
), customer AS (
    SELECT transcript_id, sentiment, sentiment_score, text,
           row_number() OVER (PARTITION BY transcript_id ORDER BY utterance_index) AS position,
           count(*) OVER (PARTITION BY transcript_id) AS n
    FROM utterances SEMI JOIN base USING (transcript_id) WHERE speaker = 'customer'
), feelings AS (
    SELECT transcript_id, any_value(n) AS n_customer,
           count(*) FILTER (WHERE sentiment = 'negative') AS n_negative,
           count(*) FILTER (WHERE sentiment = 'positive') AS n_positive,
           avg(sentiment_score) FILTER (WHERE position <= ceil(n / 3)) AS start_score,
           avg(sentiment_score) FILTER (WHERE position > n - ceil(n / 3)) AS end_score,
           count(*) FILTER (WHERE regexp_matches(text, $threat)) AS n_threats,
           count(*) FILTER (WHERE regexp_matches(text, $effort)) AS n_effort,
           count(*) FILTER (WHERE regexp_matches(text, $chase)) AS n_chases
    FROM customer GROUP BY 1
), turns AS (
    SELECT transcript_id, turn_index, any_value(speaker) AS speaker, any_value(speaker_label) AS label,
           mode(service_step) AS step, min(start_ms) AS start_ms, max(end_ms) AS end_ms, min(ts) AS ts
    FROM utterances SEMI JOIN base USING (transcript_id) GROUP BY 1, 2
), gaps AS (
    SELECT *, CASE WHEN start_ms IS NOT NULL THEN (start_ms - lag(end_ms) OVER w) / 1000.0
                   ELSE date_diff('millisecond', lag(ts) OVER w, ts) / 1000.0 END AS gap_s,
           lag(speaker) OVER w AS previous_speaker
    FROM turns WINDOW w AS (PARTITION BY transcript_id ORDER BY turn_index)
), flow AS (
    SELECT transcript_id,
           count(DISTINCT label) FILTER (WHERE speaker = 'agent') AS n_agents,
           bool_or(step = 'escalation') AS escalated,
           coalesce(min(turn_index) FILTER (WHERE speaker IN ('bot', 'ivr'))
                    < max(turn_index) FILTER (WHERE speaker = 'agent'), false) AS bot_handoff,
           count(*) FILTER (WHERE speaker = 'third_party') AS n_third_party_turns,
           count(DISTINCT coalesce(label, 'third_party')) FILTER (WHERE speaker = 'third_party') AS n_third_parties,
           coalesce(max(gap_s) FILTER (WHERE previous_speaker = 'customer' AND speaker <> 'customer'), 0)
               AS max_wait_s,
           coalesce((max(end_ms) - min(start_ms)) / 1000.0, date_diff('second', min(ts), max(ts)), 0)
               AS handling_s
    FROM gaps GROUP BY 1
)
SELECT b.transcript_id, b.taxonomy, b.business_line, b.channel, b.language, b.customer_id, b.order_id,
       b.started_at, b."group", j.journey_key, coalesce(r.stage, 'other') AS stage, r.issue_type,
       coalesce(r.n_stages, 0) AS n_stages,
       coalesce(f.n_customer, 0) AS n_customer, coalesce(f.n_negative, 0) AS n_negative,
       coalesce(f.n_positive, 0) AS n_positive, f.start_score, f.end_score,
       coalesce(f.n_threats, 0) AS n_threats, coalesce(f.n_effort, 0) AS n_effort,
       coalesce(f.n_chases, 0) AS n_chases,
       coalesce(fl.n_agents, 0) AS n_agents, coalesce(fl.escalated, false) AS escalated,
       coalesce(fl.bot_handoff, false) AS bot_handoff, coalesce(fl.n_third_party_turns, 0) AS n_third_party_turns,
       coalesce(fl.n_third_parties, 0) AS n_third_parties, coalesce(fl.max_wait_s, 0) AS max_wait_s,
       coalesce(fl.handling_s, 0) AS handling_s,
       coalesce(j.days_since_previous <= $window, false) AS repeat_contact,
       coalesce(j.days_to_next <= $window, false) AS followed_up,
       TRY_CAST(json_extract_string(b.metadata, '$.csat') AS DOUBLE) AS csat,
       TRY_CAST(json_extract_string(b.metadata, '$.nps') AS DOUBLE) AS nps
FROM base b JOIN journey j USING (transcript_id)
LEFT JOIN reason r USING (transcript_id) LEFT JOIN feelings f USING (transcript_id)
LEFT JOIN flow fl USING (transcript_id)
"""

_TOUCHPOINTS = """
SELECT u.transcript_id, t.taxonomy, t."group", t.started_at, u.stage, {step} AS service_step,
       count(*) AS n_utterances, sum(coalesce(w.weight, 0)) AS weight_sum,
       count(*) FILTER (WHERE w.weight > 0) AS n_positive, count(*) FILTER (WHERE w.weight < 0) AS n_negative
FROM utterances u JOIN (SELECT t.*, {group} AS "group" FROM transcripts t WHERE {where}) t USING (transcript_id)
LEFT JOIN _weights w ON w.emotion = u.emotion
WHERE u.speaker = 'customer' AND u.emotion IS NOT NULL AND u.stage IS NOT NULL
GROUP BY ALL
"""


def contact_facts(con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None = None,
                  by: str | None = None, ids: list[str] | None = None) -> pd.DataFrame:
    """One row per contact matching ``filters`` (and among ``ids``, if given): reason stage, signals, pain
    components, ``pain``, ``ces``."""
    where, params = (filters or Filters()).where(settings.timezone)
    if ids is not None:
        where, params = f"{where} AND t.transcript_id IN (SELECT unnest($ids))", {**params, "ids": ids}
    sql = _FACTS.format(where=where, group=field_sql(by) if by else "NULL", journey=_JOURNEY)
    named = dict(params,threat=settings.complaint_threat_pattern, effort=settings.effort_pattern,
                 chase=settings.chase_pattern, window=float(settings.repeat_window_days))
    facts = con.execute(sql, named).df()
    facts["started_local"] = to_local(facts["started_at"], settings.timezone)
    promises = judged_promises(con, settings)
    broken = promises.loc[promises["status"] == "broken", "next_id"].value_counts()
    facts["broken_promises"] = facts["transcript_id"].map(broken).fillna(0).astype(int)
    facts["promises_made"] = facts["transcript_id"].map(promises["transcript_id"].value_counts()).fillna(0).astype(int)
    return add_pain(facts, settings)


def add_pain(facts: pd.DataFrame, settings: AnalyticsSettings) -> pd.DataFrame:
    """Pain components in [0, 1], ``pain`` (0–100) and ``ces`` (customer-effort proxy, 1–7)."""
    n = facts["n_customer"].clip(lower=1)
    end = facts["end_score"].fillna(0.0)
    components = {
        "unresolved": (end < settings.unresolved_below).astype(float),
        "negative_share": facts["n_negative"] / n,
        "worsened": ((facts["start_score"].fillna(0) - end).clip(lower=0) / 2).clip(upper=1),
        "repeat_contact": facts["repeat_contact"].astype(float),
        "transfer": (facts["n_agents"] - 1).clip(lower=0, upper=1).astype(float),
        "bot_handoff": facts["bot_handoff"].astype(float),
        "escalation": facts["escalated"].astype(float),
        "long_wait": (facts["max_wait_s"] >= facts["channel"].map(settings.long_wait_seconds).fillna(np.inf))
        .astype(float),
        "complaint_threat": (facts["n_threats"] > 0).astype(float),
        "broken_promise": (facts["broken_promises"] > 0).astype(float),
        "effort": (facts["n_effort"] / settings.effort_markers_for_full).clip(upper=1),
    }
    total = settings.pain_weight_total()
    pain = sum(settings.pain_weights.get(name, 0.0) * components[name] for name in PAIN_COMPONENTS)
    for name in PAIN_COMPONENTS:
        facts[f"x_{name}"] = components[name]
    facts["pain"] = 100 * pain / total
    effort = ("effort", "repeat_contact", "transfer", "escalation", "long_wait")
    facts["ces"] = 1 + 6 * sum(components[name] for name in effort) / len(effort)
    facts["resolved"] = components["unresolved"] == 0
    facts["first_contact_resolution"] = facts["resolved"] & ~facts["followed_up"]
    return facts


def touchpoint_emotions(con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None = None,
                        by: str | None = None, by_service_step: bool = False) -> pd.DataFrame:
    """Per contact and touchpoint (stage, optionally × service step): customer utterances, the sum of their
    emotion weights and the positive/negative counts — what NEV (``nlp.analytics.nev``: scored customer utterances
    only) and its bootstrap are computed from."""
    where, params = (filters or Filters()).where(settings.timezone)
    weights = settings.emotion_weights
    con.register("_weights", pa.table({"emotion": list(weights), "weight": [float(w) for w in weights.values()]}))
    try:
        sql = _TOUCHPOINTS.format(where=where, group=field_sql(by) if by else "NULL",
                                  step="u.service_step" if by_service_step else "NULL")
        return con.execute(sql, params).df()
    finally:
        con.unregister("_weights")


def to_local(utc: pd.Series, timezone: str) -> pd.Series:
    """Naive UTC timestamps as naive local times of ``timezone``."""
    values = pd.to_datetime(utc)
    return values.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
