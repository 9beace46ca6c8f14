"""Categories compiled to one DuckDB query: the single definition of every operator.

The same query runs over the store's ``utterances`` and ``transcripts`` tables (``journeylens categorize``,
retroactively) and over one batch's rows in an in-memory DuckDB (in the pipeline), so the two evaluations agree
by construction. Regexes run in DuckDB's RE2, which matches in linear time: no rule can stall a run.

Semantics:

* ``level: utterance``: the tree is evaluated on each utterance; a matching utterance is the evidence.
* ``level: contact``: each operator asks "does some utterance of the contact match it?", then ``all`` / ``any``
  / ``not`` combine the answers (``not: X``: no utterance matches X). ``utterance: X`` asks whether one utterance
  matches the whole of X. The evidence is the utterances that match a content operator (phrases, regex,
  utterance, repeated, silence_before, interrupts) outside any ``not``; a contact that matched without one is
  stored once with no utterance.
* A field that is missing (an agent utterance has no sentiment, a contact without times has no silence) never
  matches, so ``not`` of it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nlp.categories.model import (
    SEPARATOR_CLASS,
    TOKEN_PATTERN,
    CategorySet,
    Condition,
    Phrases,
    Range,
    phrase_tokens,
)

RESULT_COLUMNS = ("transcript_id", "category_id", "level", "utterance_index", "evidence")
_ALNUM = re.compile(r"^[a-z0-9]+$")
_CONTENT = {"phrases", "regex", "utterance", "repeated", "silence_before", "interrupts"}
_VALUE_COLUMNS = {"speaker": "speaker", "sentiment": "sentiment", "emotion": "emotion",
                  "emotion_coarse": "emotion_coarse", "stage": "stage", "issue_type": "issue_type",
                  "service_step": "service_step", "language": "language", "channel": "channel",
                  "business_line": "business_line"}
_RANGE_COLUMNS = {"sentiment_score": "sentiment_score", "emotion_confidence": "emotion_confidence",
                  "stage_confidence": "stage_confidence"}
_CONTACT_FIELDS = {"channel", "business_line", "metadata"}


def literal(text: str) -> str:
    """A SQL string literal (standard SQL: backslashes are literal, quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def phrase_text(text_sql: str) -> str:
    """The text phrases are matched in: lower-cased, every run of separators one space. Two tokens are
    consecutive exactly when at most one space lies between them (exactly one between two ASCII words)."""
    return f"regexp_replace(lower({text_sql}), {literal(SEPARATOR_CLASS + '+')}, ' ', 'g')"


def phrase_regex(tokens: list[str]) -> str:
    """An RE2 pattern over ``phrase_text`` that matches exactly where ``tokens`` occur as consecutive tokens
    (small literal patterns: RE2 compiles them afresh for every batch, so their size is the in-pipeline cost)."""
    parts = []
    for index, token in enumerate(tokens):
        alnum = bool(_ALNUM.match(token))
        if index == 0 and alnum:
            parts.append("(?:^|[^a-z0-9])")
        elif index > 0:
            both_alnum = alnum and bool(_ALNUM.match(tokens[index - 1]))
            parts.append(" " if both_alnum else " ?")
        parts.append(token if alnum else f"\\x{{{ord(token):x}}}")
    if _ALNUM.match(tokens[-1]):
        parts.append("(?:[^a-z0-9]|$)")
    return "".join(parts)


@dataclass
class _Compiler:
    """Turns condition trees into SQL expressions over the frame, collecting the derived columns they need."""

    repeat_columns: list[str] = field(default_factory=list)  # "count_if(...) OVER contact AS rep_N"
    share_columns: dict[str, str] = field(default_factory=dict)  # speaker -> column name
    needs_transcripts: bool = False
    needs_order: bool = False  # silence and interruptions look at the previous utterance (a sort per contact)
    needs_count: bool = False  # positions need the contact's number of utterances

    # -- one utterance ------------------------------------------------------------------------------------
    def row(self, c: Condition) -> str:
        """Whether one utterance (a frame row) matches ``c``."""
        op = c.operator
        if op == "all":  # nested CASE: DuckDB evaluates a later condition only on the rows the earlier ones kept
            parts = [self.row(x) for x in c.all or []]
            expression = parts[-1]
            for part in reversed(parts[:-1]):
                expression = f"CASE WHEN {part} THEN {expression} ELSE false END"
            return f"({expression})"
        if op == "any":
            return "(" + " OR ".join(self.row(x) for x in c.any or []) + ")"
        if op == "not_":
            return f"(NOT {self.row(c.not_)})"
        if op == "utterance":
            raise ValueError("utterance: is for contact-level categories")
        if op in _CONTACT_FIELDS:
            self.needs_transcripts = True
        return f"coalesce({self.leaf(c)}, false)"

    def leaf(self, c: Condition) -> str:
        op = c.operator
        if op in _VALUE_COLUMNS:
            values = getattr(c, op)
            return f"{_VALUE_COLUMNS[op]} IN ({', '.join(literal(v) for v in values)})"
        if op in _RANGE_COLUMNS:
            return _in_range(_RANGE_COLUMNS[op], getattr(c, op))
        if op == "phrases":
            return _phrases(c.phrases)
        if op == "regex":
            return f"regexp_matches(text, {literal(c.regex)})"
        if op == "position":
            self.needs_count = True
            p = c.position
            if p.first is not None:
                return f"utterance_index < {p.first}"
            if p.last is not None:
                return f"utterance_index >= n_utterances - {p.last}"
            if p.quarter == "first":
                return "4 * utterance_index < n_utterances"
            return "4 * (n_utterances - 1 - utterance_index) < n_utterances"
        if op == "silence_before":
            self.needs_order = True
            return _in_range("gap_ms / 1000.0", c.silence_before)
        if op == "interrupts":
            self.needs_order = True
            return "(gap_ms < 0 AND previous_speaker IS DISTINCT FROM speaker)"
        if op == "talk_share":
            share = self.share_columns.setdefault(c.talk_share.speaker, f"share_{len(self.share_columns)}")
            return _in_range(share, Range(min=c.talk_share.min, max=c.talk_share.max))
        if op == "metadata":
            return "(" + " AND ".join(
                f"json_extract_string(metadata, {literal('$.' + _json_key(key))}) IN "
                f"({', '.join(literal(v) for v in values)})"
                for key, values in c.metadata.items()) + ")"
        if op == "repeated":
            inner = self.row(c.repeated.when)
            column = f"rep_{len(self.repeat_columns)}"
            self.repeat_columns.append(f"count_if({inner}) OVER contact AS {column}")
            return f"({inner} AND {column} >= {c.repeated.times})"
        raise AssertionError(f"unknown operator {op}")

    # -- a contact -----------------------------------------------------------------------------------------
    def contact(self, c: Condition) -> str:
        """Whether the contact matches ``c`` (evaluated on every row of the contact, the same on each)."""
        op = c.operator
        if op == "all":
            return "(" + " AND ".join(self.contact(x) for x in c.all or []) + ")"
        if op == "any":
            return "(" + " OR ".join(self.contact(x) for x in c.any or []) + ")"
        if op == "not_":
            return f"(NOT {self.contact(c.not_)})"
        if op == "utterance":
            return f"coalesce(bool_or({self.row(c.utterance)}) OVER contact, false)"
        return f"coalesce(bool_or({self.row(c)}) OVER contact, false)"

    def evidence(self, c: Condition) -> list[str]:
        """Row expressions of the content operators outside any ``not`` (the utterances shown as evidence)."""
        op = c.operator
        if op in ("all", "any"):
            return [e for x in (c.all or c.any or []) for e in self.evidence(x)]
        if op == "not_":
            return []
        if op == "utterance":
            return [self.row(c.utterance)]
        return [self.row(c)] if op in _CONTENT else []


def _in_range(column: str, bounds: Range) -> str:
    parts = []
    if bounds.min is not None:
        parts.append(f"{column} >= {float(bounds.min)!r}")
    if bounds.max is not None:
        parts.append(f"{column} <= {float(bounds.max)!r}")
    return "(" + " AND ".join(parts) + ")"


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _phrases(p: Phrases) -> str:
    token_lists = [phrase_tokens(x) for x in p.phrases]
    if p.any is not None:
        return f"regexp_matches(pt, {literal('|'.join(f'(?:{phrase_regex(t)})' for t in token_lists))})"
    present = " AND ".join(f"regexp_matches(pt, {literal(phrase_regex(t))})" for t in token_lists)
    if p.near is None:
        return f"({present})"
    (a, b), n = token_lists, p.near
    toks = f"regexp_extract_all(lc, {literal(TOKEN_PATTERN)})"

    def starts(tokens: list[str]) -> str:
        wanted = "[" + ", ".join(literal(t) for t in tokens) + "]"
        return f"list_filter(range(1, len({toks}) + 1), lambda i: {toks}[i:i + {len(tokens) - 1}] = {wanted})"

    close = (f"(j >= i + {len(a)} AND j - i - {len(a)} <= {n}) OR (i >= j + {len(b)} AND i - j - {len(b)} <= {n})")
    near = f"len(list_filter({starts(a)}, lambda i: len(list_filter({starts(b)}, lambda j: {close})) > 0)) > 0"
    return f"({present} AND {near})"


def categorize_sql(categories: CategorySet, utterances: str = "utterances", transcripts: str = "transcripts") -> str:
    """One query returning ``RESULT_COLUMNS`` for every match of every category over the two tables named.

    Each utterance row gets one flag per category, then the list of categories it is evidence for is unnested in
    a single pass; contact-level matches that no utterance shows are added per contact."""
    compiler = _Compiler()
    flags, hits, unshown = [], [], []
    for k, category in enumerate(categories.categories):
        if category.level == "utterance":
            flags.append(f"{compiler.row(category.when)} AS m_{k}")
            hits.append(f"CASE WHEN m_{k} THEN {k + 1} END")
            continue
        evidence = compiler.evidence(category.when)
        flags += [f"{compiler.contact(category.when)} AS m_{k}",
                  f"{' OR '.join(evidence) if evidence else 'false'} AS e_{k}"]
        hits.append(f"CASE WHEN m_{k} AND e_{k} THEN {k + 1} END")
        unshown.append(f"SELECT transcript_id, {literal(category.id)}, 'contact', NULL::INTEGER, NULL::VARCHAR "
                       f"FROM flagged WHERE m_{k} GROUP BY transcript_id HAVING NOT bool_or(e_{k})")
    if not flags:
        raise ValueError("no categories to evaluate")
    ids = "[" + ", ".join(literal(c.id) for c in categories.categories) + "]"
    levels = "[" + ", ".join(literal(c.level) for c in categories.categories) + "]"
    shares = [
        f"coalesce(sum(CASE WHEN sentence_index = 0 AND speaker = {literal(speaker)} THEN end_ms - start_ms END) "
        f"OVER contact, 0) / nullif(sum(CASE WHEN sentence_index = 0 THEN end_ms - start_ms END) OVER contact, 0) "
        f"AS {column}"
        for speaker, column in compiler.share_columns.items()
    ]
    joined = (f"{utterances} u LEFT JOIN (SELECT transcript_id, channel, business_line, metadata FROM {transcripts}) "
              "USING (transcript_id)") if compiler.needs_transcripts else f"{utterances} u"
    contact_columns = "channel, business_line, metadata" if compiler.needs_transcripts else \
        "NULL::VARCHAR AS channel, NULL::VARCHAR AS business_line, NULL::VARCHAR AS metadata"
    window = "WINDOW contact AS (PARTITION BY transcript_id)"
    derived = []  # only what the categories use: each window over a million rows costs
    if compiler.needs_count:
        derived.append("count(*) OVER contact AS n_utterances")
    if compiler.needs_order:
        derived += ["CASE WHEN sentence_index = 0 THEN start_ms - lag(end_ms) OVER (PARTITION BY transcript_id "
                    "ORDER BY utterance_index) END AS gap_ms",
                    "lag(speaker) OVER (PARTITION BY transcript_id ORDER BY utterance_index) AS previous_speaker"]
    materialized = "MATERIALIZED" if unshown else ""  # scanned twice only when contact-level categories exist
    return f"""
WITH frame AS (
    SELECT transcript_id, utterance_index, sentence_index, speaker, text, lower(text) AS lc,
        {phrase_text('text')} AS pt, language, stage, stage_confidence, issue_type, service_step, sentiment,
        sentiment_score, emotion, emotion_coarse, emotion_confidence, start_ms, end_ms, {contact_columns}
        {''.join(', ' + c for c in [*derived, *shares])}
    FROM {joined}
    {window}
), measured AS (
    SELECT * {''.join(', ' + c for c in compiler.repeat_columns)} FROM frame {window}
), flagged AS {materialized} (
    SELECT transcript_id, utterance_index, text, {', '.join(flags)} FROM measured {window}
), shown AS (
    SELECT transcript_id, utterance_index, text,
           unnest(list_filter([{', '.join(hits)}], lambda k: k IS NOT NULL)) AS k
    FROM flagged
)
SELECT transcript_id, {ids}[k] AS category_id, {levels}[k] AS level, utterance_index, text AS evidence FROM shown
{''.join(' UNION ALL ' + u for u in unshown)}
"""
