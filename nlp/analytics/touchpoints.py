"""The service journey and the process level as touchpoints: volume, emotion and pain per service step.

The 美团 journey study draws three journey levels. The customer journey is the stage table
(``rankings.rank_stages``); the other two are computed here from the same contact facts, so all three agree:

- **service** level: per service step (self-service/bot → IVR → online/phone agent, ticket → escalation →
  third party → evaluation), the contacts that passed through it (any utterance at the step), their share
  of all contacts, their mean pain, and the NEV of the customer utterances said at the step;
- **process** level: the same per reason stage × reason issue type × service step, over the contacts whose
  reason for contact is that stage and issue type: how one kind of problem is handled, step by step.

Steps come in the taxonomy's order (``step_order``); NEV has the cluster-bootstrap interval of ``nev.py``.
"""

from __future__ import annotations

import pandas as pd
from duckdb import DuckDBPyConnection

from nlp.analytics.contacts import contact_facts, touchpoint_emotions
from nlp.analytics.filters import Filters
from nlp.analytics.nev import nev_table
from nlp.analytics.settings import AnalyticsSettings
from nlp.schema.taxonomy import TaxonomyError, load_taxonomy

LEVELS = ("service", "process")

_STEPS = """
SELECT transcript_id, service_step, count(*) AS n_utterances
FROM utterances WHERE service_step IS NOT NULL AND transcript_id IN (SELECT transcript_id FROM _contacts)
GROUP BY 1, 2
"""

COLUMNS = ["taxonomy", "group", "level", "stage", "issue_type", "service_step", "step_name", "step_order",
           "contacts", "share_pct", "pain", "customer_utterances", "nev", "nev_low", "nev_high", "reliable"]


def _step_order(taxonomies) -> pd.DataFrame:
    rows = []
    for name in taxonomies:
        try:
            steps = load_taxonomy(name).service_steps
        except TaxonomyError:
            continue
        rows += [{"taxonomy": name, "service_step": s.id, "step_name": s.name, "step_order": i}
                 for i, s in enumerate(steps)]
    return pd.DataFrame(rows, columns=["taxonomy", "service_step", "step_name", "step_order"])


def touchpoints(con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None = None,
                level: str = "service", by: str | None = None, stage: str | None = None,
                facts: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per touchpoint of ``level`` (``service`` or ``process``), in journey and step order.
    ``stage`` keeps only that reason stage (process level) and is ignored at the service level. ``facts``:
    ``contact_facts`` of the same filters and ``by``, when the caller has them already."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    facts = contact_facts(con, settings, filters, by) if facts is None else facts
    if level == "process" and stage is not None:
        facts = facts[facts["stage"] == stage]
    if facts.empty:
        return pd.DataFrame(columns=COLUMNS)
    con.register("_contacts", facts[["transcript_id"]])
    try:
        steps = con.execute(_STEPS).df()
    finally:
        con.unregister("_contacts")
    keys = ["taxonomy", "group", "stage", "issue_type"] if level == "process" else ["taxonomy", "group"]
    contacts = facts[["transcript_id", "pain", *keys]].merge(steps, on="transcript_id")
    keys = [*keys, "service_step"]
    table = contacts.groupby(keys, dropna=False).agg(contacts=("transcript_id", "nunique"),
                                                     pain=("pain", "mean")).reset_index()
    totals = facts.groupby(keys[:-1], dropna=False)["transcript_id"].nunique().rename("total").reset_index()
    table = table.merge(totals, on=keys[:-1], how="left")
    table["share_pct"] = 100 * table["contacts"] / table["total"]

    emotions = touchpoint_emotions(con, settings, filters, by, by_service_step=True)
    emotions = emotions.drop(columns=["taxonomy", "group", "stage"]).merge(
        facts[["transcript_id", *keys[:-1]]], on="transcript_id")
    nev = nev_table(emotions, keys, settings)
    table = table.merge(nev, on=keys, how="left").merge(_step_order(table["taxonomy"].unique()),
                                                        on=["taxonomy", "service_step"], how="left")
    table["step_name"] = table["step_name"].fillna(table["service_step"])
    table["reliable"] = (table["contacts"] >= settings.min_contacts) & table["nev_reliable"].fillna(False)
    table["customer_utterances"] = table["customer_utterances"].fillna(0).astype(int)
    table["level"] = level
    for column in ("stage", "issue_type"):
        if column not in table:
            table[column] = None
    order = [c for c in ("taxonomy", "group", "stage", "issue_type", "step_order") if c in table]
    return table.sort_values(order, na_position="last")[COLUMNS].reset_index(drop=True)
