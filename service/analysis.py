"""From an analyzed transcript to the API's answer: utterances, segments and the contact-level summary.

The summary is computed from the scored utterances only, so a freshly analyzed contact and one read back from
the store give the same numbers:

- ``nev`` (net emotional value) of the contact and of each segment, by the one definition in
  ``nlp.analytics.nev`` with the service's analytics settings (``emotion_weights``): 100 × Σ emotion weights of
  the scored customer utterances / their number, in −100..100 — the number rankings, trends and touchpoints show;
- emotion trend = mean ``sentiment_score`` of the first third of the scored customer utterances (at least one)
  against the last third; ``improving`` / ``worsening`` when the change is beyond ±0.1, else ``steady``;
- pain signals: negative at the end, share negative, service-step hand-offs, escalation, stage switches and
  the most negative stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from statistics import fmean

from nlp.analytics.nev import nev
from nlp.schema.document import AnalyzedTranscript, Segment
from nlp.schema.fields import row
from nlp.schema.taxonomy import TaxonomyError, load_taxonomy
from service.schemas.analyze import (
    AnalyzeResult,
    ContactSummary,
    EmotionTrend,
    PainSignals,
    PromiseResult,
    SegmentResult,
    UtteranceResult,
)

TREND_STEADY_BAND = 0.1
ESCALATION_STEP = "escalation"


def analysis_result(doc: AnalyzedTranscript, weights: Mapping[str, float]) -> AnalyzeResult:
    """The API's answer for one analyzed transcript; ``weights``: the emotion weights of NEV."""
    transcript = doc.transcript
    utterances = [UtteranceResult(index=index, **row(u, "api")) for index, u in enumerate(doc.utterances)]
    segments = segment_results(doc.segments, utterances, stage_names(doc.taxonomy), weights)
    return AnalyzeResult(
        id=transcript.id, language=doc.language, taxonomy=doc.taxonomy, channel=transcript.channel,
        started_at=transcript.started_at,
        business_line=transcript.business_line, customer_id=transcript.customer_id, order_id=transcript.order_id,
        summary=contact_summary(utterances, segments, weights), segments=segments, utterances=utterances,
        promises=[PromiseResult(**row(p, "api")) for p in doc.promises],
    )


def stage_names(taxonomy: str) -> dict[str, str]:
    """Stage id → display name; empty when the taxonomy cannot be loaded (ids are shown instead)."""
    try:
        return {stage.id: stage.name for stage in load_taxonomy(taxonomy).stages}
    except TaxonomyError:
        return {}


def segment_results(
    segments: Sequence[Segment], utterances: Sequence[UtteranceResult], names: Mapping[str, str],
    weights: Mapping[str, float],
) -> list[SegmentResult]:
    by_segment: dict[int | None, list[UtteranceResult]] = {}
    for utterance in utterances:
        by_segment.setdefault(utterance.segment_index, []).append(utterance)
    results = []
    for s in segments:
        members = by_segment.get(s.segment_index, [])
        results.append(SegmentResult(
            **row(s, "api"), stage_name=names.get(s.stage, s.stage), nev=nev(members, weights),
            dominant_emotion=dominant_emotion(members),
        ))
    return results


def _scored_customer(utterances: Sequence[UtteranceResult]) -> list[UtteranceResult]:
    return [u for u in utterances if u.speaker == "customer" and u.sentiment is not None]


def dominant_emotion(utterances: Sequence[UtteranceResult]) -> str | None:
    counts = Counter(u.emotion for u in _scored_customer(utterances) if u.emotion and u.emotion != "neutral")
    return counts.most_common(1)[0][0] if counts else None


def emotion_trend(utterances: Sequence[UtteranceResult]) -> EmotionTrend:
    scores = [u.sentiment_score for u in _scored_customer(utterances) if u.sentiment_score is not None]
    if not scores:
        return EmotionTrend()
    third = max(1, len(scores) // 3)
    start, end = fmean(scores[:third]), fmean(scores[-third:])
    change = end - start
    direction = "improving" if change > TREND_STEADY_BAND else "worsening" if change < -TREND_STEADY_BAND else "steady"
    return EmotionTrend(start=round(start, 4), end=round(end, 4), change=round(change, 4), direction=direction)


def pain_signals(utterances: Sequence[UtteranceResult], segments: Sequence[SegmentResult]) -> PainSignals:
    scored = _scored_customer(utterances)
    steps = [u.service_step for u in utterances if u.service_step]
    means = [s for s in segments if s.sentiment_mean is not None]
    worst = min(means, key=lambda s: s.sentiment_mean) if means else None  # type: ignore[arg-type,return-value]
    return PainSignals(
        negative_at_end=bool(scored) and scored[-1].sentiment == "negative",
        negative_share=round(sum(u.sentiment == "negative" for u in scored) / len(scored), 4) if scored else None,
        handoffs=sum(a != b for a, b in zip(steps, steps[1:], strict=False)),
        escalated=ESCALATION_STEP in steps,
        stage_switches=max(len(segments) - 1, 0),
        most_negative_stage=worst.stage if worst is not None and worst.sentiment_mean < 0 else None,  # type: ignore[operator]
    )


def contact_summary(utterances: Sequence[UtteranceResult], segments: Sequence[SegmentResult],
                    weights: Mapping[str, float]) -> ContactSummary:
    scored = _scored_customer(utterances)
    stages: list[str] = []
    for segment in segments:
        if segment.stage not in stages:
            stages.append(segment.stage)
    return ContactSummary(
        nev=nev(utterances, weights),
        n_customer_utterances=sum(u.speaker == "customer" for u in utterances),
        n_positive=sum(u.sentiment == "positive" for u in scored),
        n_negative=sum(u.sentiment == "negative" for u in scored),
        dominant_emotion=dominant_emotion(utterances),
        emotions=dict(Counter(u.emotion for u in scored if u.emotion)),
        stages=stages,
        emotion_trend=emotion_trend(utterances),
        pain_signals=pain_signals(utterances, segments),
    )
