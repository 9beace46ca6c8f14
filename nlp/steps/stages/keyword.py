"""The keyword journey classifier: stage, issue type and service step from a taxonomy's own words.

Each utterance is matched against every category's keywords, name and English name (substrings for Chinese,
whole words for English, longest match first). The stage with the most matched characters wins; its
confidence is its share of the matched evidence, shrunk when evidence is thin. An utterance with no match
inherits the stage of the utterance before it (a customer's "还没到" after the agent asked about the rider
stays in delivery); utterances before the first match take the first matched stage; a contact with no match
at all is ``other``. Issue types carry forward the same way within a stage. The service step follows the
speaker and channel (bot, IVR, online or phone agent, ticket, third party) and switches to escalation when an
agent hands the contact up.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import cached_property

from nlp.schema.document import AnalyzedTranscript, Utterance
from nlp.schema.taxonomy import Category, Taxonomy

OTHER = "other"
_CARRIED_CONFIDENCE_DECAY = 0.8
_BACKFILLED_CONFIDENCE = 0.3
# Candidate service-step ids per situation, first one present in the taxonomy wins.
_STEP_FOR_ROLE = {
    "bot": ("bot", "self_service"),
    "ivr": ("ivr_routing", "ivr"),
    "third_party": ("third_party",),
    "call": ("phone_agent",),
    "ticket": ("ticket", "email"),
    "email": ("ticket", "email"),
    "chat": ("online_agent",),
}
_ESCALATION_STEP = ("escalation",)


class KeywordMatcher:
    """Find which categories' keywords occur in a text, scored by matched characters."""

    def __init__(self, categories: Iterable[tuple[str, Category]]) -> None:
        owner: dict[str, str] = {}
        for category_id, category in categories:
            for term in (*category.keywords, category.name, category.name_en or ""):
                term = term.strip().lower()
                if len(term) >= 2 and term not in owner:
                    owner[term] = category_id
        self._owner = owner
        zh = sorted((t for t in owner if not t.isascii()), key=len, reverse=True)
        en = sorted((t for t in owner if t.isascii()), key=len, reverse=True)
        alternatives = [re.escape(t) for t in zh] + [rf"(?<![a-z]){re.escape(t)}(?![a-z])" for t in en]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def scores(self, text: str) -> dict[str, float]:
        found: dict[str, float] = defaultdict(float)
        if self._pattern is not None:
            for match in self._pattern.finditer(text.lower()):
                term = match.group()
                found[self._owner[term]] += len(term) if not term.isascii() else 1.5 * len(term.split())
        return dict(found)


class KeywordJourneyClassifier:
    """Label every utterance of a transcript with stage, issue type and service step."""

    name = "keyword"
    version = "1"
    # a clause names a stage with one 2-character keyword (share 2/3) or one English word (0.6) and no stronger
    # rival; chosen on the MultiWOZ and CrossWOZ pool dialogues (docs/stages.md, Clause stages)
    clause_min_share = 0.6

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    @cached_property
    def _stages(self) -> KeywordMatcher:
        return KeywordMatcher((s.id, s) for s in self.taxonomy.stages)

    @cached_property
    def _issues(self) -> KeywordMatcher:
        return KeywordMatcher(
            (issue.id, category) for issue in self.taxonomy.issue_types for category in (issue, *issue.subtypes)
        )

    @cached_property
    def _steps(self) -> dict[str, str | None]:
        present = {s.id for s in self.taxonomy.service_steps}
        return {
            situation: next((c for c in candidates if c in present), None)
            for situation, candidates in {**_STEP_FOR_ROLE, "escalation": _ESCALATION_STEP}.items()
        }

    @cached_property
    def _escalation(self) -> KeywordMatcher:
        return KeywordMatcher((s.id, s) for s in self.taxonomy.service_steps if s.id in _ESCALATION_STEP)

    def classify(self, doc: AnalyzedTranscript) -> None:
        """Set ``stage``, ``stage_confidence``, ``issue_type`` and ``service_step`` on each utterance."""
        self._assign_stages(doc.utterances)
        self.assign_issue_types(doc.utterances)
        self.assign_service_steps(doc.utterances, doc.transcript.channel or "chat")

    def _evidence(self, text: str) -> tuple[str, float] | None:
        """The stage with the most matched characters and its share of the evidence; None without a match."""
        scores = self._stages.scores(text)
        if not scores:
            return None
        stage = max(scores, key=lambda s: (scores[s], s))
        return stage, round(scores[stage] / (sum(scores.values()) + 1.0), 4)  # +1: one weak match is not certainty

    def named_stages(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        """Per text on its own (no context), the stage it names and its share of the keyword evidence; None where
        it matches no keyword or its best stage has less than ``clause_min_share`` of the evidence."""
        out: list[tuple[str | None, float]] = []
        for text in texts:
            stage, share = self._evidence(text) or (None, 0.0)
            out.append((stage if share >= self.clause_min_share else None, share))
        return out

    def _assign_stages(self, utterances: Sequence[Utterance]) -> None:
        previous: tuple[str, float] | None = None
        for utterance in utterances:
            found = self._evidence(utterance.text)
            if found is not None:
                previous = found
                utterance.stage, utterance.stage_confidence = previous
            elif previous is not None:
                previous = (previous[0], round(previous[1] * _CARRIED_CONFIDENCE_DECAY, 4))
                utterance.stage, utterance.stage_confidence = previous
        first = next((u.stage for u in utterances if u.stage is not None), None)
        for utterance in utterances:
            if utterance.stage is not None:
                break
            utterance.stage = first or OTHER
            utterance.stage_confidence = _BACKFILLED_CONFIDENCE if first else 0.0

    def assign_issue_types(self, utterances: Sequence[Utterance]) -> None:
        """Issue type per utterance from its keywords, carried forward within a run of one stage."""
        current: str | None = None
        current_stage: str | None = None
        for utterance in utterances:
            if utterance.stage != current_stage:
                current, current_stage = None, utterance.stage
            scores = self._issues.scores(utterance.text)
            if scores:
                current = max(scores, key=lambda s: (scores[s], s))
            utterance.issue_type = current

    def assign_service_steps(self, utterances: Sequence[Utterance], channel: str) -> None:
        """Service step per utterance from speaker and channel; escalation once an agent hands the contact up."""
        steps = self._steps
        agent_step = steps.get(channel) or steps["chat"]
        escalated = False
        current = steps["ivr"] if channel == "call" and steps["ivr"] else agent_step
        for utterance in utterances:
            if utterance.speaker == "agent":
                escalated = escalated or bool(self._escalation.scores(utterance.text))
                current = steps["escalation"] if escalated and steps["escalation"] else agent_step
            elif utterance.speaker in ("bot", "ivr", "third_party"):
                current = steps[utterance.speaker] or current
            utterance.service_step = current
