"""Agent QA over the store: every contact's scorecard score with its evidence, and the averages per agent
(``metadata.agent_id``), team (``metadata.team``) and week.

The scoring itself (items, n/a, auto-fail) is ``nlp.categories.qa``; this module selects the contacts with the
analytics filters and shapes the tables ``journeylens qa``, ``GET /v1/qa`` and the Excel export share.

Per group: ``contacts`` (scored by the scorecard: at least one agent utterance), ``scored`` (with a score: some
item applicable), ``score`` (mean), ``score_min``, ``auto_fails`` and, per item, ``<item>_pct``: the share of the
contacts it applied to in which it passed (None when it applied to none).
"""

from __future__ import annotations

import pandas as pd
from duckdb import DuckDBPyConnection

from nlp.analytics.contacts import to_local
from nlp.analytics.filters import Filters
from nlp.analytics.settings import AnalyticsSettings
from nlp.categories.qa import NOT_APPLICABLE, PASS, ContactScore, LoadedScorecard, score_contacts

UNKNOWN_AGENT = "(unknown)"
GROUPINGS = {"agents": ["agent_id", "team"], "teams": ["team"], "weeks": ["week", "agent_id", "team"]}


def contact_scores(con: DuckDBPyConnection, settings: AnalyticsSettings, loaded: LoadedScorecard,
                   filters: Filters | None = None) -> pd.DataFrame:
    """One row per contact with an agent utterance: its score, each item's status (a column named by the item
    id: pass, fail or n/a), the auto-fail ids that matched, and ``evidence`` (item id → the agent's utterances)."""
    where, params = (filters or Filters()).where(settings.timezone)
    return scores_frame(score_contacts(con, loaded, where, params), loaded, settings.timezone)


def scores_frame(scores: list[ContactScore], loaded: LoadedScorecard, timezone: str) -> pd.DataFrame:
    items = [item.id for item in loaded.scorecard.items]
    rows = []
    for s in scores:
        evidence = {item_id: result.evidence for item_id, result in s.items.items() if result.evidence}
        evidence.update(s.auto_fail)
        rows.append({"transcript_id": s.transcript_id, "started_at": s.started_at,
                     "agent_id": s.agent_id or UNKNOWN_AGENT, "team": s.team, "channel": s.channel,
                     "score": s.score, "auto_fail": ", ".join(s.auto_fail),
                     **{item_id: s.items[item_id].status for item_id in items}, "evidence": evidence})
    columns = ["transcript_id", "started_at", "agent_id", "team", "channel", "score", "auto_fail", *items, "evidence"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["score"] = frame["score"].astype(float)
    local = to_local(frame["started_at"], timezone) if len(frame) else pd.Series(dtype="datetime64[ns]")
    day = local.dt.normalize()
    frame.insert(2, "week", (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date)
    frame.insert(2, "started_local", local)
    return frame.drop(columns=["started_at"])


def summarize(contacts: pd.DataFrame, loaded: LoadedScorecard, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` group: contacts, scored, mean/min score, auto-fails and each item's pass rate (%)."""
    items = [item.id for item in loaded.scorecard.items]
    columns = [*keys, "contacts", "scored", "score", "score_min", "auto_fails", *(f"{i}_pct" for i in items)]
    if contacts.empty:
        return pd.DataFrame(columns=columns)
    frame = contacts.assign(auto_failed=contacts["auto_fail"] != "",
                            **{f"{i}_pass": (contacts[i] == PASS).astype(float).where(contacts[i] != NOT_APPLICABLE)
                               for i in items})
    table = frame.groupby(keys, dropna=False, sort=True).agg(
        contacts=("transcript_id", "size"), scored=("score", "count"), score=("score", "mean"),
        score_min=("score", "min"), auto_fails=("auto_failed", "sum"),
        **{f"{i}_pct": (f"{i}_pass", "mean") for i in items}).reset_index()
    for i in items:
        table[f"{i}_pct"] *= 100
    table["auto_fails"] = table["auto_fails"].astype(int)
    return table[columns]


def item_table(contacts: pd.DataFrame, loaded: LoadedScorecard) -> pd.DataFrame:
    """The scorecard's items with their weight and, over all contacts, applicable contacts and pass rate."""
    rows = []
    for kind, rules in (("item", loaded.scorecard.items), ("auto_fail", loaded.scorecard.auto_fail)):
        for rule in rules:
            if kind == "item":
                status = contacts[rule.id] if rule.id in contacts else pd.Series(dtype=object)
                applicable = int((status != NOT_APPLICABLE).sum())
                passed = int((status == PASS).sum())
            else:
                applicable = len(contacts)
                passed = int(contacts["auto_fail"].str.split(", ").map(lambda ids, r=rule.id: r in ids).sum()) \
                    if len(contacts) else 0
            rows.append({"item": rule.id, "kind": kind, "name": rule.name, "weight": getattr(rule, "weight", None),
                         "applicable": applicable, "matched": passed,
                         "matched_pct": 100 * passed / applicable if applicable else None})
    return pd.DataFrame(rows, columns=["item", "kind", "name", "weight", "applicable", "matched", "matched_pct"])


def qa_tables(con: DuckDBPyConnection, settings: AnalyticsSettings, loaded: LoadedScorecard,
              filters: Filters | None = None) -> dict[str, pd.DataFrame]:
    """The tables of a QA report: contacts, agents, teams, weeks (per agent) and items."""
    contacts = contact_scores(con, settings, loaded, filters)
    tables = {"contacts": contacts}
    tables.update({name: summarize(contacts, loaded, keys) for name, keys in GROUPINGS.items()})
    tables["items"] = item_table(contacts, loaded)
    return tables
