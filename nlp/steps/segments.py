"""Topical segmentation: contiguous utterances about the same stage form one segment.

A contact that moves from a late delivery to a refund has two segments. The stages come from the journey
classifier, so the segment boundaries are its decisions: with ``fewshot`` a sequence model over the whole contact
(nlp/steps/stages/sequence.py) places them, where agent and bot turns take part in deciding the stage (their evidence
counts, and a new stage is cheaper to enter on a customer turn, since customers open topics); with ``keyword``
the stage is carried forward. When a long customer turn names several stages (nlp/steps/clauses.py), its clauses
are utterances of their own, so segments follow clauses and ``start_char`` / ``end_char`` say where in the turn a
segment begins and ends. Customer turns carry the emotion, so a segment's ``sentiment_mean`` averages its
customer utterances only.
"""

from __future__ import annotations

from collections import Counter
from statistics import fmean

from nlp.schema.document import AnalyzedTranscript, Segment, Utterance


def _segment(index: int, utterances: list[Utterance]) -> Segment:
    issues = Counter(u.issue_type for u in utterances if u.issue_type)
    customer_scores = [u.sentiment_score for u in utterances
                       if u.speaker == "customer" and u.sentiment_score is not None]
    return Segment(
        segment_index=index,
        stage=utterances[0].stage or "other",
        issue_type=issues.most_common(1)[0][0] if issues else None,
        first_turn=utterances[0].turn_index,
        last_turn=utterances[-1].turn_index,
        n_utterances=len(utterances),
        n_customer_utterances=sum(u.speaker == "customer" for u in utterances),
        sentiment_mean=round(fmean(customer_scores), 4) if customer_scores else None,
        start_char=utterances[0].char_start,
        end_char=utterances[-1].char_end,
    )


def build_segments(doc: AnalyzedTranscript) -> None:
    """Set ``segment_index`` on every utterance and fill ``doc.segments``."""
    runs: list[list[Utterance]] = []
    for utterance in doc.utterances:
        if not runs or runs[-1][-1].stage != utterance.stage:
            runs.append([])
        utterance.segment_index = len(runs) - 1
        runs[-1].append(utterance)
    doc.segments = [_segment(i, run) for i, run in enumerate(runs)]
