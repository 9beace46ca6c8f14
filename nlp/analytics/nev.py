"""Net Emotional Value: the one definition, for a contact, a segment, a touchpoint or a period.

NEV = 100 × (Σ emotion weights of the scored customer utterances) / (number of those utterances), where a scored
utterance is one the emotion scorer gave an emotion and the weights are the analytics settings'
``emotion_weights`` (unlisted emotions weigh 0). With the default weights (+1 satisfaction, gratitude; −1 anger,
frustration, anxiety, disappointment; 0 otherwise) this is the share of positive-emotion utterances minus the
share of negative ones, on −100..+100. ``/v1/analyze`` and the transcript view (``nev``), the touchpoint and
ranking tables (``nev_table``, over ``contacts.touchpoint_emotions``) and trends and impact (``nev_ratio``) all
compute it here.

Per touchpoint it comes with a contact-level bootstrap confidence interval.
Utterances of one contact are not independent, so the interval resamples whole contacts (cluster bootstrap,
percentile interval). A touchpoint with fewer contacts or utterances than the settings' minimums is marked
``nev_reliable = False``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from nlp.analytics.settings import AnalyticsSettings

CUSTOMER = "customer"


class Scored(Protocol):
    speaker: str
    emotion: str | None


def nev_ratio(weight_sum: Any, n_utterances: Any) -> Any:
    """NEV from a sum of emotion weights and the number of utterances weighed (scalars, arrays or columns);
    0 utterances give 0 (callers that must tell "none" apart check the count)."""
    return 100 * weight_sum / np.maximum(n_utterances, 1)


def nev(utterances: Iterable[Scored], weights: Mapping[str, float]) -> float | None:
    """NEV of the scored customer utterances among ``utterances`` (``Utterance``, the API's utterance), rounded
    to 0.1; None when none of them was scored."""
    emotions = [u.emotion for u in utterances if u.speaker == CUSTOMER and u.emotion is not None]
    if not emotions:
        return None
    return round(float(nev_ratio(sum(float(weights.get(e, 0.0)) for e in emotions), len(emotions))), 1)


def resample_ratio(numerator: np.ndarray, denominator: np.ndarray, samples: int,
                   rng: np.random.Generator) -> np.ndarray:
    """``samples`` bootstrap estimates of Σ numerator / Σ denominator, resampling the rows (contacts).

    Contacts with the same (numerator, denominator) are interchangeable, so a resample is drawn as multinomial
    counts over the distinct pairs: the same distribution as drawing contacts, at a fraction of the cost."""
    pairs, counts = np.unique(np.column_stack([numerator, denominator]), axis=0, return_counts=True)
    k = int(counts.sum())
    draws = rng.multinomial(k, counts / k, size=samples)
    return (draws @ pairs[:, 0]) / np.maximum(draws @ pairs[:, 1], 1e-12)


def group_rng(seed: int, key: object) -> np.random.Generator:
    """The bootstrap generator of one group (a stage, a stage × metric test): seeded by the settings' seed and the
    group's key, so a group's interval depends on its own contacts only, not on which other groups were
    resampled before it (one shared generator let a change in one stage's emotions move another stage's
    interval)."""
    return np.random.default_rng([seed, zlib.crc32(repr(key).encode("utf-8"))])


def bootstrap_ratio(numerator: np.ndarray, denominator: np.ndarray, settings: AnalyticsSettings,
                    rng: np.random.Generator) -> tuple[float, float]:
    """Percentile interval of Σ numerator / Σ denominator at the settings' confidence."""
    if len(numerator) < 2:
        return (np.nan, np.nan)
    alpha = (1 - settings.confidence) / 2
    estimates = resample_ratio(numerator, denominator, settings.bootstrap_samples, rng)
    low, high = np.quantile(estimates, [alpha, 1 - alpha])
    return float(low), float(high)


def nev_table(touchpoints: pd.DataFrame, keys: list[str], settings: AnalyticsSettings) -> pd.DataFrame:
    """NEV per group of ``keys`` from ``touchpoint_emotions`` rows: contacts, utterances, nev, its interval."""
    columns = [*keys, "nev_contacts", "customer_utterances", "nev", "nev_low", "nev_high", "nev_reliable"]
    if touchpoints.empty:
        return pd.DataFrame(columns=columns)
    per_contact = touchpoints.groupby([*keys, "transcript_id"], dropna=False, sort=False)[
        ["weight_sum", "n_utterances"]].sum().reset_index()
    rows = []
    for key, group in per_contact.groupby(keys, dropna=False, sort=True):
        weights = group["weight_sum"].to_numpy(float)
        counts = group["n_utterances"].to_numpy(float)
        low, high = bootstrap_ratio(weights, counts, settings, group_rng(settings.seed, key))
        n_contacts, n_utterances = len(group), int(counts.sum())
        rows.append((*(key if isinstance(key, tuple) else (key,)), n_contacts, n_utterances,
                     nev_ratio(weights.sum(), counts.sum()), 100 * low, 100 * high,
                     n_contacts >= settings.min_contacts and n_utterances >= settings.min_utterances))
    return pd.DataFrame(rows, columns=columns)
