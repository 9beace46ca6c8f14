"""Alerts: conditions on a metric per day or week, absolute or against the metric's own history.

An alert file (YAML)::

    webhook:                               # optional: POST what fired as JSON
      url: http://alerts.internal:9000/hook
      headers: {Authorization: "Bearer ${ALERT_TOKEN}"}   # ${NAME} is read from the environment
      timeout_s: 5
      retries: 2
    alerts:
      - id: complaint_spike
        name: 投诉威胁上升
        metric: category_rate              # category_rate | stage_pain | nev | volume
        category: complaint_threat         # category_rate: the category id
        period: day                        # day | week (local business days and Monday weeks)
        above: 8                           # fires when the value is above 8 (a rate is in %)
        robust_z: 3                        # … or at least 3 robust z-scores from its own last `history` periods
        direction: up                      # up | down | both (for robust_z; default both)
        history: 8
        min_contacts: 20                   # a period with fewer contacts has no rate (never fires)

Metrics of one period: ``volume`` (contacts), ``category_rate`` (% of contacts with the category),
``stage_pain`` (mean pain of the contacts whose reason stage is ``stage``, see ``contacts.add_pain``) and
``nev`` (Net Emotional Value of customer utterances, at ``stage`` if given). The robust z-score is
(value − median) / (1.4826 × MAD) over the previous ``history`` periods that have a value (``robust_z`` for
the case MAD = 0); with fewer than ``MIN_HISTORY`` of them the alert reports "insufficient history" and does not
fire. The period evaluated is the latest with contacts, or the one
holding ``at``.
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection
from pydantic import BaseModel, ConfigDict, Field, model_validator

from nlp.analytics.contacts import contact_facts, to_local, touchpoint_emotions
from nlp.analytics.nev import nev_ratio
from nlp.analytics.settings import AnalyticsSettings
from nlp.yaml_files import parse_model

MIN_HISTORY = 4
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class AlertFileError(ValueError):
    """An alert file that cannot be used: names the file, the entry, its line and the fix."""


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=5.0, gt=0, le=120)
    retries: int = Field(default=2, ge=0, le=10)


class Alert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = ""
    metric: Literal["category_rate", "stage_pain", "nev", "volume"]
    category: str | None = None
    stage: str | None = None
    period: Literal["day", "week"] = "day"
    above: float | None = None
    below: float | None = None
    robust_z: float | None = Field(default=None, gt=0)
    direction: Literal["up", "down", "both"] = "both"
    history: int = Field(default=8, ge=MIN_HISTORY, le=366)
    min_contacts: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _complete(self) -> Alert:
        if self.above is None and self.below is None and self.robust_z is None:
            raise ValueError("give a threshold: above, below or robust_z (or several)")
        if self.metric == "category_rate" and not self.category:
            raise ValueError("metric category_rate needs category: <category id>")
        if self.metric == "stage_pain" and not self.stage:
            raise ValueError("metric stage_pain needs stage: <stage id>")
        if self.category and self.metric != "category_rate":
            raise ValueError(f"category: applies to metric category_rate, not {self.metric}")
        return self


class AlertFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook: Webhook | None = None
    alerts: list[Alert] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> AlertFile:
        ids = [a.id for a in self.alerts]
        for at, alert_id in enumerate(ids):
            if alert_id in ids[:at]:
                raise ValueError(f"alerts.{at}.id: duplicate id {alert_id!r}: give each alert its own id")
        return self


def parse_alerts(text: str, source: str = "<alerts>") -> AlertFile:
    return parse_model(text, source, AlertFile, AlertFileError, "a mapping with a list under alerts:", ("alerts",))


def load_alerts(path: str | Path) -> AlertFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AlertFileError(f"{path}: cannot read: {error.strerror}") from error
    return parse_alerts(text, str(path))


# -- evaluation --------------------------------------------------------------------------------------------------
@dataclass
class AlertResult:
    alert: Alert
    period_start: date | None
    value: float | None
    status: Literal["fired", "ok", "no data", "insufficient history"]
    reasons: list[str] = field(default_factory=list)
    baseline_median: float | None = None
    baseline_mad: float | None = None
    z: float | None = None
    contacts: int = 0
    evidence: list[dict] = field(default_factory=list)

    @property
    def fired(self) -> bool:
        return self.status == "fired"

    def as_json(self) -> dict:
        def clean(x: float | None) -> float | str | None:
            return None if x is None else (str(x) if math.isinf(x) else round(x, 4))

        return {"id": self.alert.id, "name": self.alert.name, "metric": self.alert.metric,
                "category": self.alert.category, "stage": self.alert.stage, "period": self.alert.period,
                "period_start": self.period_start.isoformat() if self.period_start else None,
                "value": clean(self.value), "status": self.status, "reasons": self.reasons,
                "baseline_median": clean(self.baseline_median), "baseline_mad": clean(self.baseline_mad),
                "z": clean(self.z), "contacts": self.contacts, "evidence": self.evidence}


def robust_z(value: float, history: list[float]) -> tuple[float, float, float]:
    """(z, median, MAD) of ``value`` against ``history``: (value − median) / (1.4826 × MAD). When more than half
    the history equals its median (MAD 0, common for small counts) the scale is 1.2533 × the mean absolute
    deviation instead (Iglewicz and Hoaglin); a history with no spread at all makes any change infinite."""
    deviations = np.abs(np.asarray(history, dtype=float) - float(np.median(history)))
    median, mad = float(np.median(history)), float(np.median(deviations))
    scale = 1.4826 * mad if mad > 0 else 1.2533 * float(deviations.mean())
    if scale == 0:
        return (0.0 if value == median else math.copysign(math.inf, value - median)), median, mad
    return (value - median) / scale, median, mad


def _period(days: pd.Series, period: str) -> pd.Series:
    days = pd.to_datetime(days).dt.normalize()
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D") if period == "week" else days


class _Data:
    """What the alerts read from the store, loaded once per kind."""

    def __init__(self, con: DuckDBPyConnection, settings: AnalyticsSettings) -> None:
        self.con, self.settings = con, settings
        self._contacts: pd.DataFrame | None = None
        self._facts: pd.DataFrame | None = None
        self._touchpoints: pd.DataFrame | None = None

    @property
    def contacts(self) -> pd.DataFrame:
        if self._contacts is None:
            frame = self.con.execute("SELECT transcript_id, started_at FROM transcripts "
                                     "WHERE started_at IS NOT NULL").df()
            frame["local"] = to_local(frame["started_at"], self.settings.timezone)
            self._contacts = frame
        return self._contacts

    @property
    def facts(self) -> pd.DataFrame:
        if self._facts is None:
            self._facts = contact_facts(self.con, self.settings)
        return self._facts

    @property
    def touchpoints(self) -> pd.DataFrame:
        if self._touchpoints is None:
            frame = touchpoint_emotions(self.con, self.settings)
            frame["local"] = to_local(frame["started_at"], self.settings.timezone)
            self._touchpoints = frame
        return self._touchpoints

    def categorized(self, category: str) -> pd.DataFrame:
        has_table = self.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'categories'")
        if not has_table.fetchall()[0][0]:
            raise ValueError("this store has no categories yet: run journeylens categorize --db … first")
        return self.con.execute("SELECT transcript_id, utterance_index, evidence FROM categories "
                                "WHERE category_id = ? ORDER BY transcript_id, utterance_index", [category]).df()


def _series(alert: Alert, data: _Data) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per period: value and contacts; and the per-contact frame (with ``period``) the evidence comes from."""
    if alert.metric in ("volume", "category_rate"):
        contacts = data.contacts.assign(period=lambda f: _period(f["local"], alert.period))
        per = contacts.groupby("period").agg(contacts=("transcript_id", "size"))
        if alert.metric == "volume":
            per["value"] = per["contacts"].astype(float)
            return per, contacts.assign(score=0.0)
        hits = data.categorized(alert.category)
        flagged = contacts[contacts["transcript_id"].isin(set(hits["transcript_id"]))]
        per["value"] = 100 * flagged.groupby("period").size().reindex(per.index, fill_value=0) / per["contacts"]
        evidence = flagged.merge(hits.drop_duplicates("transcript_id"), on="transcript_id")
        return per, evidence.assign(score=0.0)
    if alert.metric == "stage_pain":
        facts = data.facts.assign(period=lambda f: _period(f["started_local"], alert.period))
        facts = facts[facts["stage"] == alert.stage]
        per = facts.groupby("period").agg(contacts=("transcript_id", "size"), value=("pain", "mean"))
        return per, facts.assign(score=facts["pain"])
    points = data.touchpoints.assign(period=lambda f: _period(f["local"], alert.period))
    if alert.stage:
        points = points[points["stage"] == alert.stage]
    per = points.groupby("period").agg(contacts=("transcript_id", "nunique"), weight=("weight_sum", "sum"),
                                       n=("n_utterances", "sum"))
    per["value"] = nev_ratio(per["weight"], per["n"]).where(per["n"] > 0)  # no utterances: no NEV
    by_contact = points.groupby(["period", "transcript_id"], as_index=False)["weight_sum"].sum()
    return per[["contacts", "value"]], by_contact.assign(score=-by_contact["weight_sum"])


def evaluate_alert(alert: Alert, data: _Data, at: date | None = None) -> AlertResult:
    per, rows = _series(alert, data)
    if per.empty:
        return AlertResult(alert, None, None, "no data")
    step = timedelta(weeks=1) if alert.period == "week" else timedelta(days=1)
    current = (_period(pd.Series([pd.Timestamp(at)]), alert.period).iloc[0] if at is not None
               else per.index.max())
    calendar = [current - step * k for k in range(alert.history, -1, -1)]
    per = per.reindex(calendar)
    per["contacts"] = per["contacts"].fillna(0).astype(int)
    if alert.metric == "volume":
        per["value"] = per["value"].fillna(0.0)
    per.loc[per["contacts"] < alert.min_contacts, "value"] = np.nan if alert.metric != "volume" else per["value"]
    value = per["value"].iloc[-1]
    result = AlertResult(alert, current.date(), None if pd.isna(value) else float(value), "ok",
                         contacts=int(per["contacts"].iloc[-1]))
    if result.value is None:
        result.status = "no data"
        return result
    if alert.above is not None and result.value > alert.above:
        result.reasons.append(f"{result.value:.4g} is above {alert.above:g}")
    if alert.below is not None and result.value < alert.below:
        result.reasons.append(f"{result.value:.4g} is below {alert.below:g}")
    if alert.robust_z is not None:
        history = [float(v) for v in per["value"].iloc[:-1] if not pd.isna(v)]
        if len(history) < MIN_HISTORY:
            if not result.reasons:
                result.status = "insufficient history"
        else:
            result.z, result.baseline_median, result.baseline_mad = robust_z(result.value, history)
            up = result.z >= alert.robust_z and alert.direction in ("up", "both")
            down = result.z <= -alert.robust_z and alert.direction in ("down", "both")
            if up or down:
                result.reasons.append(f"robust z {result.z:.3g} against the median {result.baseline_median:.4g} "
                                      f"of the last {len(history)} {alert.period}s")
    if result.reasons:
        result.status = "fired"
        current_rows = rows[rows["period"] == current].sort_values(["score", "transcript_id"], ascending=[False, True])
        columns = [c for c in ("transcript_id", "utterance_index", "evidence", "pain") if c in current_rows]
        result.evidence = [{k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                           for r in current_rows[columns].head(5).to_dict("records")]
    return result


def evaluate_alerts(con: DuckDBPyConnection, alerts: AlertFile, settings: AnalyticsSettings,
                    at: date | None = None) -> list[AlertResult]:
    data = _Data(con, settings)
    return [evaluate_alert(alert, data, at) for alert in alerts.alerts]


# -- webhook -----------------------------------------------------------------------------------------------------
def safe_url(url: str) -> str:
    """The URL without path, query or credentials: what may be logged (a token often hides in the path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "") + "/…"


def _expand(text: str) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise AlertFileError(f"webhook: environment variable {name} is not set")
        return os.environ[name]

    return _ENV.sub(value, text)


def post_webhook(webhook: Webhook, payload: dict, sleep=time.sleep) -> tuple[bool, str]:
    """POST ``payload``; retry on connection errors and 5xx responses with a growing pause. Returns (delivered,
    a message fit for logs: the host only, never the path, query or headers)."""
    url = _expand(webhook.url)
    headers = {k: _expand(v) for k, v in webhook.headers.items()}
    where = safe_url(url)
    last = ""
    for attempt in range(webhook.retries + 1):
        if attempt:
            sleep(min(0.5 * 2 ** (attempt - 1), 10))
        try:
            response = httpx.post(url, json=payload, headers=headers, timeout=webhook.timeout_s)
        except httpx.HTTPError as error:
            last = f"{type(error).__name__}"
            continue
        if response.status_code < 300:
            return True, f"delivered to {where} (HTTP {response.status_code}, attempt {attempt + 1})"
        last = f"HTTP {response.status_code}"
        if response.status_code < 500:
            break  # the receiver refuses it: retrying will not help
    return False, f"not delivered to {where}: {last} after {attempt + 1} attempt(s)"
