"""The customer-view journey: every contact about one order or customer, across channels and days.

A journey ends when the customer's problem ends, not when a process step closes (the 618 projector story). Given an
order id or a customer id (a raw phone number or other PII id is hashed the way the pipeline stored it,
``nlp/ids.py``), this returns the contacts in time order with their channel, service path, stages, emotion and pain;
the promises made along the way with their status; and the third parties the customer was passed to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from nlp.analytics.contacts import contact_facts, to_local
from nlp.analytics.filters import Filters
from nlp.analytics.promises import judged_promises
from nlp.analytics.settings import AnalyticsSettings
from nlp.ids import pii_token

_PATHS = """
SELECT transcript_id, list(step ORDER BY turn_index) AS steps,
       list(DISTINCT label) FILTER (WHERE speaker = 'third_party') AS third_parties
FROM (SELECT transcript_id, turn_index, any_value(service_step) AS step, any_value(speaker) AS speaker,
             coalesce(any_value(speaker_label), 'third_party') AS label
      FROM utterances WHERE transcript_id IN (SELECT unnest($ids)) GROUP BY 1, 2)
GROUP BY 1
"""


@dataclass
class Journey:
    key: str
    contacts: pd.DataFrame
    promises: pd.DataFrame
    summary: dict = field(default_factory=dict)


def find_journey(con: DuckDBPyConnection, settings: AnalyticsSettings, key: str) -> Journey | None:
    """The journey of an order id or customer id, or None when no contact names it."""
    stored = pii_token(key)  # a phone number given as the key is stored hashed; any other id as it is
    ids = con.execute("SELECT transcript_id FROM transcripts WHERE order_id IN ($a, $b) OR customer_id IN ($a, $b)",
                      {"a": key, "b": stored}).fetchall()
    if not ids:
        return None
    ids = [i for (i,) in ids]
    contacts = contact_facts(con, settings, Filters(), ids=ids).sort_values("started_at")
    paths = con.execute(_PATHS, {"ids": ids}).df().set_index("transcript_id")
    contacts["service_path"] = contacts["transcript_id"].map(paths["steps"].map(service_path))
    contacts["third_parties"] = contacts["transcript_id"].map(
        paths["third_parties"].map(lambda labels: sorted(labels) if isinstance(labels, list | np.ndarray) else []))
    stages = con.execute("SELECT transcript_id, list(stage ORDER BY segment_index) AS stages FROM segments "
                         "WHERE transcript_id IN (SELECT unnest($ids)) GROUP BY 1", {"ids": ids}).df()
    contacts["stages"] = contacts["transcript_id"].map(stages.set_index("transcript_id")["stages"].map(list))
    promises = judged_promises(con, settings, "p.transcript_id IN (SELECT unnest($ids))", {"ids": ids})
    for column in ("made_at", "deadline", "fallback", "next_started"):
        promises[column] = to_local(promises[column], settings.timezone)
    contacts = contacts.reset_index(drop=True)
    dated = contacts["started_local"].dropna()  # started_at is optional: undated contacts have no place in time
    first, last = (dated.iloc[0], dated.iloc[-1]) if len(dated) else (None, None)
    summary = {
        "key": stored, "contacts": len(contacts), "orders": sorted(contacts["order_id"].dropna().unique().tolist()),
        "customers": sorted(contacts["customer_id"].dropna().unique().tolist()),
        "first_contact": first.isoformat() if first is not None else None,
        "last_contact": last.isoformat() if last is not None else None,
        "span_days": round((last - first).total_seconds() / 86400, 1) if first is not None else None,
        "channels": sorted(contacts["channel"].dropna().unique().tolist()),
        "stages": list(dict.fromkeys(s for stages in contacts["stages"] for s in stages)),
        "third_party_handoffs": int((contacts["n_third_party_turns"] > 0).sum()),
        "third_parties": sorted({p for parties in contacts["third_parties"] for p in parties}),
        "promises": len(promises), "promises_broken": int((promises["status"] == "broken").sum()),
        "promises_kept": int((promises["status"] == "kept").sum()),
        "mean_pain": round(float(contacts["pain"].mean()), 1),
        "resolved_at_end": bool(contacts["resolved"].iloc[-1]),
        "last_csat": None if pd.isna(contacts["csat"].iloc[-1]) else float(contacts["csat"].iloc[-1]),
    }
    return Journey(stored, contacts, promises, summary)


def service_path(steps) -> list[str]:
    """Consecutive service steps of one contact with repeats collapsed: bot → online agent → escalation."""
    path: list[str] = []
    for step in steps if steps is not None else []:
        if step and (not path or path[-1] != step):
            path.append(step)
    return path

