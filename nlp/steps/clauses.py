"""Clause stages: a long customer turn that names several stages is cut into clauses, each with its own stage.

"菜很好吃，但是配送太慢了，等了一个多小时" is one sentence but two topics: the food (eating, praised) and the
delivery (complained about). The journey classifier labels whole utterances in context, so without this step the
turn gets one stage and the praise and the complaint are credited to the same one. Here, after the classifier has
labelled the contact:

1. every customer turn's utterances are cut into clauses (``clause_spans``: commas, semicolons and contrast
   markers such as 但是 / "but"; conservatively: short sentences and pieces too short to carry content stay whole);
2. the classifier says which stage each clause names on its own (``named_stages``, from the same evidence it uses
   per utterance; sufficient evidence by its own measure: the keyword classifier's share of matched keywords, the
   few-shot and encoder classifiers' share of the clause's likelihoods);
3. only where one turn's clauses name **two or more** different stages, one of them the stage the classifier gave
   the turn in context, does anything change (so the step adds the other stages a turn names and never overrules
   the sequence model's reading of the turn as a whole): each clause takes the stage it names, a clause naming
   none the stage of the clause before it (a leading one its utterance's stage), and neighbouring clauses of one
   stage in one sentence stay one utterance. Those utterances replace the turn's
   (``sentence_index`` renumbered, ``char_start`` / ``char_end`` in the turn's text), and issue types are decided
   again. Every other turn keeps the classifier's labels.

Emotion is scored after this step, per utterance, so each clause carries its own sentiment into its segment and
into the per-stage NEV. ``PipelineConfig.clause_stages`` switches the step off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from nlp.schema.document import AnalyzedTranscript, Utterance
from nlp.steps.registry import JourneyClassifier
from nlp.steps.sentences import Segmenter, clause_spans

OTHER = "other"


def _customer_turns(doc: AnalyzedTranscript) -> list[list[int]]:
    """Indices of the utterances of each customer turn, in order."""
    turns: list[list[int]] = []
    for i, utterance in enumerate(doc.utterances):
        if utterance.speaker != "customer":
            continue
        if turns and doc.utterances[turns[-1][-1]].turn_index == utterance.turn_index:
            turns[-1].append(i)
        else:
            turns.append([i])
    return turns


def _stages(named: Sequence[tuple[str | None, float]],
            context: Sequence[tuple[str, float]]) -> list[tuple[str, float]] | None:
    """Each clause's stage and confidence when the clauses name two or more stages, one of them a stage the
    classifier gave the turn in context (``context``: per clause, its utterance's stage and confidence); else
    None. A clause that names none continues the clause before it; leading ones keep their utterance's stage."""
    stages = {s for s, _ in named if s is not None}
    if len(stages) < 2 or not stages & {s for s, _ in context}:
        return None
    out: list[tuple[str, float]] = []
    for (stage, confidence), own in zip(named, context, strict=True):
        out.append((stage, confidence) if stage is not None else out[-1] if out else own)
    return out


def _pieces(utterance: Utterance, clauses: list[tuple[int, int, str, float]],
            segmenter: Segmenter | None) -> list[Utterance]:
    """``utterance`` cut where its clauses' stages change; neighbouring clauses of one stage stay together."""
    runs: list[list[tuple[int, int, str, float]]] = []
    for clause in clauses:
        if runs and runs[-1][-1][2] == clause[2]:
            runs[-1].append(clause)
        else:
            runs.append([clause])
    out = []
    for run in runs:
        start, end = run[0][0], run[-1][1]
        text = utterance.text[start:end] if len(runs) > 1 else utterance.text
        offset = utterance.char_start
        out.append(replace(
            utterance, text=text, stage=run[0][2], stage_confidence=max(c for *_, c in run),
            tokens=(segmenter.tokens(text, utterance.language) if segmenter else ()) if len(runs) > 1
            else utterance.tokens,
            char_start=offset + start if offset is not None and len(runs) > 1 else utterance.char_start,
            char_end=offset + end if offset is not None and len(runs) > 1 else utterance.char_end,
            categories=list(utterance.categories),
        ))
    return out


def split_clauses(docs: Sequence[AnalyzedTranscript], classifier: JourneyClassifier,
                  segmenter: Segmenter | None = None) -> int:
    """Give the clauses of multi-stage customer turns their own stages (module docstring); ``segmenter`` tokenizes
    the new utterances. Returns how many turns were cut."""
    candidates = []  # (doc, utterance indices of the turn, [(utterance index, start, end)])
    texts: list[str] = []
    for doc in docs:
        for turn in _customer_turns(doc):
            clauses = [(i, start, end) for i in turn
                       for start, end in clause_spans(doc.utterances[i].text, doc.utterances[i].language)]
            if len(clauses) > 1:
                candidates.append((doc, turn, clauses))
                texts.extend(doc.utterances[i].text[start:end] for i, start, end in clauses)
    if not candidates:
        return 0
    named = classifier.named_stages(texts)  # one call: the encoder embeds the batch once
    replaced: dict[int, dict[int, list[Utterance]]] = {}  # id(doc) → utterance index → what replaces it
    position = 0
    for doc, turn, clauses in candidates:
        context = [(doc.utterances[i].stage or OTHER, doc.utterances[i].stage_confidence or 0.0)
                   for i, _, _ in clauses]
        stages = _stages(named[position:position + len(clauses)], context)
        position += len(clauses)
        if stages is None:
            continue
        new: list[Utterance] = []
        for i in turn:
            mine = [(start, end, *stage) for (j, start, end), stage in zip(clauses, stages, strict=True) if j == i]
            new.extend(_pieces(doc.utterances[i], mine, segmenter))
        for sentence_index, utterance in enumerate(new):
            utterance.sentence_index = sentence_index
        cuts = replaced.setdefault(id(doc), {})
        cuts.update({i: [] for i in turn})
        cuts[turn[0]] = new
    for doc in docs:
        cuts = replaced.get(id(doc), {})
        if cuts:
            doc.utterances = [new for i, u in enumerate(doc.utterances) for new in cuts.get(i, [u])]
            classifier.assign_issue_types(doc.utterances)
    return sum(1 for cuts in replaced.values() for new in cuts.values() if new)
