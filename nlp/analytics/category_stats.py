"""Categories in the analytics: how many contacts of a filtered window matched each stored category, per reason
stage, and one category's rate over time (docs/categories.md, "Categories in the analytics").

All start from the contact facts of the filters (one row per contact, its reason stage and local start) and the
store's ``categories`` table, so a category's count here is the number of contacts ``--category ID`` selects.
A rate is a percentage of the window's contacts (per stage: of the stage's contacts; per period: of the period's).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
from duckdb import DuckDBPyConnection

from nlp.categories import CategoryDefinition

SUMMARY_COLUMNS = ["category_id", "name", "level", "owner", "description", "contacts", "rate_pct", "evidence"]


def matched_contacts(con: DuckDBPyConnection, facts: pd.DataFrame) -> pd.DataFrame:
    """(transcript_id, category_id, evidence: the number of evidence rows) of the contacts in ``facts``."""
    ids = pa.table({"transcript_id": pa.array(facts["transcript_id"].drop_duplicates().tolist(), pa.string())})
    con.register("_category_contacts", ids)
    try:
        return con.execute("SELECT c.transcript_id, c.category_id, count(*) AS evidence FROM categories c "
                           "SEMI JOIN _category_contacts USING (transcript_id) GROUP BY ALL").df()
    finally:
        con.unregister("_category_contacts")


def _contacts(facts: pd.DataFrame) -> pd.DataFrame:
    return facts.drop_duplicates("transcript_id")  # a breakdown by category repeats a contact per group


def category_summary(con: DuckDBPyConnection, facts: pd.DataFrame,
                     definitions: Sequence[CategoryDefinition] = ()) -> pd.DataFrame:
    """One row per category that is defined (``definitions``, in their order) or stored: contacts that matched it
    in the window, their share, and the number of evidence rows. Stored categories without a definition are
    named by their id and listed after the defined ones, most contacts first."""
    contacts = _contacts(facts)
    matched = matched_contacts(con, contacts)
    counts = matched.groupby("category_id").agg(contacts=("transcript_id", "nunique"), evidence=("evidence", "sum"))
    levels = dict(con.execute("SELECT category_id, any_value(level) FROM categories GROUP BY 1").fetchall())
    rows = [{"category_id": d.id, "name": d.name, "level": d.level, "owner": d.owner, "description": d.description}
            for d in definitions]
    known = {d.id for d in definitions}
    stored = sorted((cid for cid in levels if cid not in known),
                    key=lambda cid: (-int(counts["contacts"].get(cid, 0)), cid))
    rows += [{"category_id": cid, "name": cid, "level": levels[cid], "owner": None, "description": ""}
             for cid in stored]
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS[:5])
    table["contacts"] = table["category_id"].map(counts["contacts"]).fillna(0).astype(int)
    table["evidence"] = table["category_id"].map(counts["evidence"]).fillna(0).astype(int)
    table["rate_pct"] = 100 * table["contacts"] / len(contacts) if len(contacts) else float("nan")
    return table[SUMMARY_COLUMNS]


def category_by_stage(con: DuckDBPyConnection, facts: pd.DataFrame) -> pd.DataFrame:
    """Per taxonomy, reason stage and category: contacts that matched it and their share of the stage's contacts."""
    contacts = _contacts(facts)[["transcript_id", "taxonomy", "stage"]]
    columns = ["taxonomy", "stage", "category_id", "contacts", "stage_contacts", "rate_pct"]
    matched = matched_contacts(con, contacts).merge(contacts, on="transcript_id")
    if matched.empty:
        return pd.DataFrame(columns=columns)
    table = matched.groupby(["taxonomy", "stage", "category_id"], dropna=False)["transcript_id"].nunique()
    table = table.rename("contacts").reset_index()
    sizes = contacts.groupby(["taxonomy", "stage"], dropna=False).size().rename("stage_contacts").reset_index()
    table = table.merge(sizes, on=["taxonomy", "stage"], how="left")
    table["rate_pct"] = 100 * table["contacts"] / table["stage_contacts"]
    return table.sort_values(["taxonomy", "stage", "contacts", "category_id"], ascending=[True, True, False, True])[
        columns].reset_index(drop=True)


def category_trend(con: DuckDBPyConnection, facts: pd.DataFrame, category: str, period: str = "week") -> pd.DataFrame:
    """Per local day or week (starting Monday) with contacts: the window's contacts, those that matched
    ``category`` and the rate."""
    if period not in ("day", "week"):
        raise ValueError("period must be 'day' or 'week'")
    contacts = _contacts(facts)[["transcript_id", "started_local"]].dropna(subset=["started_local"])
    matched = matched_contacts(con, contacts)
    hit = set(matched.loc[matched["category_id"] == category, "transcript_id"])
    day = contacts["started_local"].dt.normalize()
    start = day if period == "day" else day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    frame = contacts.assign(period=start.dt.date, matched=contacts["transcript_id"].isin(hit))
    table = frame.groupby("period").agg(contacts=("transcript_id", "size"), matched=("matched", "sum")).reset_index()
    table["matched"] = table["matched"].astype(int)
    table["rate_pct"] = 100 * table["matched"] / table["contacts"]
    return table[["period", "contacts", "matched", "rate_pct"]]
