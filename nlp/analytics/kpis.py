"""Touchpoint KPIs (the AMT process study): an indicator per touchpoint, compared with the customer's expectation (the
minimum acceptable) and the industry benchmark (the target), each with an owner.

A KPI file (YAML, ``models/kpis/<taxonomy>.yaml``)::

    taxonomy: food_delivery
    kpis:
      - id: delivery_pain
        name: 配送环节痛度
        stage: delivery            # a stage id of the taxonomy, or "all"
        measure: pain              # one of MEASURES
        better: lower              # lower | higher
        expectation: 30            # customer expectation: worse than this is "below expectation"
        benchmark: 15              # industry benchmark: this good or better is "at benchmark"
        owner: 配送运营部

Status: ``below expectation``, ``meets expectation`` or ``at benchmark``; ``insufficient data`` below the
settings' minimum contacts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from duckdb import DuckDBPyConnection
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nlp.analytics.contacts import contact_facts, touchpoint_emotions
from nlp.analytics.filters import Filters
from nlp.analytics.nev import nev_ratio
from nlp.analytics.settings import AnalyticsSettings
from nlp.resources import models_dir
from nlp.schema.transcript import describe_validation_error


def _rate(column: str):
    return lambda facts: 100 * float(facts[column].astype(float).mean())


MEASURES = {  # measure -> (description, function of the stage's contact facts)
    "contacts_share": ("% of the taxonomy's contacts whose reason stage this is", None),
    "nev": ("Net Emotional Value of customer utterances at the stage (−100..100)", None),
    "pain": ("mean pain index (0–100)", lambda f: float(f["pain"].mean())),
    "ces": ("mean customer-effort proxy (1–7, higher = more effort)", lambda f: float(f["ces"].mean())),
    "unresolved_rate": ("% contacts ending unresolved", _rate("x_unresolved")),
    "repeat_rate": ("% contacts followed by another about the same order within the window", _rate("followed_up")),
    "fcr": ("% contacts resolved at first contact", _rate("first_contact_resolution")),
    "escalation_rate": ("% contacts escalated to second line", _rate("escalated")),
    "bot_handoff_rate": ("% contacts handed from bot/IVR to a person", _rate("bot_handoff")),
    "transfer_rate": ("% contacts transferred between agents", _rate("x_transfer")),
    "broken_promise_rate": ("% contacts chasing a broken promise", _rate("x_broken_promise")),
    "complaint_threat_rate": ("% contacts with a complaint threat", _rate("x_complaint_threat")),
    "median_wait_s": ("median longest wait for a reply (s)", lambda f: float(f["max_wait_s"].median())),
    "median_handling_s": ("median handling time (s)", lambda f: float(f["handling_s"].median())),
    "csat": ("mean survey CSAT (1–5) where given", lambda f: float(f["csat"].mean())),
    "nps": ("NPS where given: % 9–10 − % 0–6", lambda f: float(100 * ((f["nps"].dropna() >= 9).mean()
                                                                       - (f["nps"].dropna() <= 6).mean()))),
}


class Kpi(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    stage: str = "all"
    measure: Literal[tuple(MEASURES)]  # type: ignore[valid-type]
    better: Literal["lower", "higher"]
    expectation: float
    benchmark: float
    owner: str

    @model_validator(mode="after")
    def _ordered(self) -> Kpi:
        if (self.benchmark > self.expectation) != (self.better == "higher") and self.benchmark != self.expectation:
            raise ValueError(f"{self.id}: the benchmark must be better than the expectation (better={self.better})")
        return self


class KpiFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    taxonomy: str
    kpis: list[Kpi] = Field(min_length=1)


def load_kpis(name_or_path: str) -> KpiFile:
    """A KPI file by path or by the name of a built-in one (``models/kpis/<name>.yaml``)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = models_dir() / "kpis" / f"{name_or_path}.yaml"
    try:
        return KpiFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read KPI file: {error}") from error
    except ValidationError as error:
        raise ValueError(f"{path}: {describe_validation_error(error)}") from error


def kpi_report(con: DuckDBPyConnection, settings: AnalyticsSettings, kpis: KpiFile,
               filters: Filters | None = None) -> pd.DataFrame:
    """Current value of every KPI against its expectation and benchmark, grouped by owner."""
    filters = (filters or Filters()).model_copy(update={"taxonomy": kpis.taxonomy})
    facts = contact_facts(con, settings, filters)
    touch = touchpoint_emotions(con, settings, filters)
    rows = []
    for kpi in kpis.kpis:
        scope = facts if kpi.stage == "all" else facts[facts["stage"] == kpi.stage]
        if kpi.measure == "contacts_share":
            value = 100 * len(scope) / max(len(facts), 1)
        elif kpi.measure == "nev":
            at = touch if kpi.stage == "all" else touch[touch["stage"] == kpi.stage]
            value = nev_ratio(at["weight_sum"].sum(), at["n_utterances"].sum())
        else:
            value = MEASURES[kpi.measure][1](scope) if len(scope) else np.nan
        rows.append({**kpi.model_dump(), "contacts": len(scope), "value": value,
                     "status": _status(kpi, value, len(scope), settings)})
    return pd.DataFrame(rows).sort_values(["owner", "id"]).reset_index(drop=True)


def _status(kpi: Kpi, value: float, contacts: int, settings: AnalyticsSettings) -> str:
    if contacts < settings.min_contacts or np.isnan(value):
        return "insufficient data"
    sign = 1 if kpi.better == "higher" else -1
    if sign * value >= sign * kpi.benchmark:
        return "at benchmark"
    if sign * value >= sign * kpi.expectation:
        return "meets expectation"
    return "below expectation"
