"""Trends per stage over time with anomaly flags, and the before/after impact of a change.

**Trend**: per stage and local day or week: contacts, NEV, mean pain, CES proxy, repeat-contact rate. A
period is flagged when its robust z-score, 0.6745 × (x − median) / MAD over the stage's series, exceeds the
threshold (3.5 by default) for volume, NEV or pain; periods with fewer contacts than ``min_contacts`` / 4
are never flagged.

**Impact**: contacts before the change date against contacts on or after it (optionally only ``window_days``
either side), per stage: difference after − before of NEV, pain, CES and repeat-contact rate, a contact-level
bootstrap interval of each difference, and the effect size (Cohen's d; Cohen's h for the rate). A difference
counts as a change only when its interval, widened for the number of stage × metric tests (Bonferroni), excludes 0
and the effect size is at least ``min_effect_size``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from nlp.analytics.contacts import contact_facts, touchpoint_emotions
from nlp.analytics.filters import Filters
from nlp.analytics.nev import group_rng, nev_ratio, resample_ratio
from nlp.analytics.settings import AnalyticsSettings

METRICS = ("nev", "pain", "ces", "repeat_rate")


def _contact_nev(con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None,
                 facts: pd.DataFrame) -> pd.DataFrame:
    """Facts with the contact's customer-utterance emotion weight sum and count at its reason stage."""
    touch = touchpoint_emotions(con, settings, filters)
    per = touch.groupby(["transcript_id", "stage"], as_index=False)[["weight_sum", "n_utterances"]].sum()
    merged = facts.merge(per, on=["transcript_id", "stage"], how="left")
    return merged.fillna({"weight_sum": 0.0, "n_utterances": 0})


def stage_trend(con: DuckDBPyConnection, settings: AnalyticsSettings, filters: Filters | None = None,
                stage: str | None = None, period: str = "week", by: str | None = None,
                facts: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per taxonomy, group, stage and period (local ``day`` or ``week`` starting Monday). ``facts``:
    ``contact_facts`` of the same filters and ``by``, when the caller has them already."""
    if period not in ("day", "week"):
        raise ValueError("period must be 'day' or 'week'")
    facts = contact_facts(con, settings, filters, by) if facts is None else facts
    facts = _contact_nev(con, settings, filters, facts)
    if stage is not None:
        facts = facts[facts["stage"] == stage]
    day = facts["started_local"].dt.normalize()
    facts["period"] = day if period == "day" else day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    keys = ["taxonomy", "group", "stage", "period"]
    trend = facts.groupby(keys, dropna=False).agg(
        contacts=("transcript_id", "size"), weight_sum=("weight_sum", "sum"), utterances=("n_utterances", "sum"),
        pain=("pain", "mean"), ces=("ces", "mean"), repeat_rate=("repeat_contact", "mean"),
    ).reset_index()
    trend["nev"] = nev_ratio(trend["weight_sum"], trend["utterances"])
    trend["repeat_rate"] *= 100
    trend = trend.drop(columns=["weight_sum"])
    min_contacts = max(1, settings.min_contacts // 4)
    flags = []
    for metric in ("contacts", "nev", "pain"):
        z = trend.groupby(["taxonomy", "group", "stage"], dropna=False)[metric].transform(_robust_z)
        trend[f"z_{metric}"] = z
        flags.append((z.abs() > settings.anomaly_z) & (trend["contacts"] >= min_contacts))
    trend["anomaly"] = np.logical_or.reduce(flags)
    return trend.sort_values(keys).reset_index(drop=True)


def _robust_z(values: pd.Series) -> pd.Series:
    median = values.median()
    mad = (values - median).abs().median()
    if not mad or np.isnan(mad):
        return pd.Series(0.0, index=values.index)
    return 0.6745 * (values - median) / mad


def impact(con: DuckDBPyConnection, settings: AnalyticsSettings, change_date: date,
           filters: Filters | None = None, window_days: int | None = None, by: str | None = None,
           facts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Before/after comparison per taxonomy, group and stage (and ``all`` stages of each taxonomy). ``facts``:
    ``contact_facts`` of the same filters and ``by`` (without ``window_days``), when the caller has them."""
    filters = (filters or Filters()).model_copy()
    if window_days:
        filters.date_from = max(filters.date_from or date.min, change_date - timedelta(days=window_days))
        filters.date_to = min(filters.date_to or date.max, change_date + timedelta(days=window_days - 1))
        facts = None
    facts = contact_facts(con, settings, filters, by) if facts is None else facts
    facts = _contact_nev(con, settings, filters, facts)
    facts["after"] = facts["started_local"] >= datetime.combine(change_date, time())
    facts = pd.concat([facts, facts.assign(stage="all")], ignore_index=True)
    groups = list(facts.groupby(["taxonomy", "group", "stage"], dropna=False))
    tests = max(1, len(METRICS) * sum(1 for (_, _, stage), _ in groups if stage != "all"))
    level = 1 - (1 - settings.confidence) / tests
    rows = []
    for (taxonomy, group, stage), frame in groups:
        before, after = frame[~frame["after"]], frame[frame["after"]]
        for metric in METRICS:
            rng = group_rng(settings.seed, (taxonomy, group, stage, metric))
            rows.append({"taxonomy": taxonomy, "group": group, "stage": stage, "metric": metric,
                         "contacts_before": len(before), "contacts_after": len(after),
                         **_compare(before, after, metric, level, settings, rng)})
    table = pd.DataFrame(rows, columns=["taxonomy", "group", "stage", "metric", "contacts_before", "contacts_after",
                                        "before", "after", "difference", "low", "high", "effect_size"])
    table["changed"] = (
        (table["stage"] != "all") & (table["low"] * table["high"] > 0)
        & (table["effect_size"].abs() >= settings.min_effect_size)
        & (table[["contacts_before", "contacts_after"]].min(axis=1) >= settings.min_contacts)
    )
    table["direction"] = np.where(~table["changed"], "no change", np.where(
        (table["difference"] < 0) == table["metric"].isin(["pain", "ces", "repeat_rate"]), "better", "worse"))
    return table


def _ratio_parts(frame: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Per contact numerator and denominator whose sum ratio is the metric (NEV pools utterances)."""
    if metric == "nev":
        return 100 * frame["weight_sum"].to_numpy(float), frame["n_utterances"].to_numpy(float)
    column, scale = {"pain": ("pain", 1), "ces": ("ces", 1), "repeat_rate": ("repeat_contact", 100)}[metric]
    return scale * frame[column].to_numpy(float), np.ones(len(frame))


def _compare(before: pd.DataFrame, after: pd.DataFrame, metric: str, level: float, settings: AnalyticsSettings,
             rng: np.random.Generator) -> dict:
    (nb, db), (na, da) = _ratio_parts(before, metric), _ratio_parts(after, metric)
    value_before = nb.sum() / db.sum() if db.sum() else np.nan
    value_after = na.sum() / da.sum() if da.sum() else np.nan
    result = {"before": value_before, "after": value_after, "difference": value_after - value_before,
              "low": np.nan, "high": np.nan, "effect_size": np.nan}
    if len(before) < 2 or len(after) < 2:
        return result
    differences = (resample_ratio(na, da, settings.bootstrap_samples, rng)
                   - resample_ratio(nb, db, settings.bootstrap_samples, rng))
    alpha = (1 - level) / 2
    result["low"], result["high"] = np.quantile(differences, [alpha, 1 - alpha])
    result["effect_size"] = _effect_size(before, after, metric)
    return result


def _effect_size(before: pd.DataFrame, after: pd.DataFrame, metric: str) -> float:
    """Cohen's d on per-contact values (NEV: the contact's own NEV); Cohen's h for the repeat rate."""
    if metric == "repeat_rate":
        p1, p2 = before["repeat_contact"].mean(), after["repeat_contact"].mean()
        return float(2 * np.arcsin(np.sqrt(p2)) - 2 * np.arcsin(np.sqrt(p1)))
    if metric == "nev":
        x1 = nev_ratio(before["weight_sum"], before["n_utterances"])
        x2 = nev_ratio(after["weight_sum"], after["n_utterances"])
    else:
        x1, x2 = before[metric], after[metric]
    pooled = np.sqrt(((len(x1) - 1) * x1.var() + (len(x2) - 1) * x2.var()) / max(len(x1) + len(x2) - 2, 1))
    return float((x2.mean() - x1.mean()) / pooled) if pooled else 0.0
