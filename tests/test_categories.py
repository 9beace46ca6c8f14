"""Categories (issue 21): planted truth for every operator, agreement of the in-pipeline and retroactive (SQL over
the store) evaluations on random rules and contacts, the built-in packs, and clear errors for bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.categories import (
    CategoryFileError,
    CategorySet,
    categorize_documents,
    categorize_store,
    load_categories,
    parse_categories,
)
from nlp.categories.model import CategoryFile, phrase_tokens
from nlp.categories.sql import phrase_regex, phrase_text
from nlp.schema.document import AnalyzedTranscript, Utterance
from nlp.schema.transcript import Transcript
from nlp.store import ScoredRecord, Store, rows_for
from tests.categories_fixtures import PLANTED_CATEGORIES, UTTERANCE_LEVEL, planted_archive
from tests.categories_reference import reference_matches

ROOT = Path(__file__).resolve().parents[1]


def _in_pipeline(docs: list[AnalyzedTranscript], categories: CategorySet) -> set[tuple]:
    categorize_documents(docs, categories)
    return {(d.transcript.id, m.category_id, m.level, m.utterance_index, m.evidence)
            for d in docs for m in d.categories}


def _retroactive(docs: list[AnalyzedTranscript], categories: CategorySet) -> set[tuple]:
    """Store the documents (their in-pipeline categories dropped), then evaluate over the store in SQL."""
    with Store(":memory:") as store:
        records = [ScoredRecord(d, "test", "test", "hash") for d in docs]
        tables = rows_for(records, "run", "fingerprint")
        store.write_tables(tables[:4] + (tables[4].slice(0, 0),), [d.transcript.id for d in docs])
        assert store.con.execute("SELECT count(*) FROM categories").fetchall() == [(0,)]
        categorize_store(store.con, categories)
        rows = store.con.execute("SELECT transcript_id, category_id, level, utterance_index, evidence "
                                 "FROM categories").fetchall()
    return set(rows)


# -- planted truth -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted():
    return planted_archive()


@pytest.mark.parametrize("evaluate", [_in_pipeline, _retroactive], ids=["in_pipeline", "retroactive"])
def test_every_operator_has_precision_and_recall_one_on_planted_truth(planted, evaluate) -> None:
    categories = parse_categories(PLANTED_CATEGORIES, "planted.yaml")
    found = evaluate(planted.docs, categories)
    report = {}
    for category in categories.ids:
        truth = planted.contacts.get(category, set())
        predicted = {row[0] for row in found if row[1] == category}
        assert truth, f"the generator planted no contact for {category}"
        assert len(truth) < len(planted.docs) - 20, f"{category}: too few contacts must not match"
        report[category] = (len(predicted & truth) / max(len(predicted), 1), len(predicted & truth) / len(truth))
        if category in UTTERANCE_LEVEL:
            utterances = {(row[0], row[3]) for row in found if row[1] == category}
            assert utterances == planted.utterances[category], category
    wrong = {c: pr for c, pr in report.items() if pr != (1.0, 1.0)}
    assert not wrong, f"precision, recall below 1: {wrong}"


def test_contact_level_evidence_is_the_matching_utterance_or_none(planted) -> None:
    categories = parse_categories(PLANTED_CATEGORIES, "planted.yaml")
    found = _in_pipeline(planted.docs, categories)
    by_id = {d.transcript.id: d for d in planted.docs}
    same = [row for row in found if row[1] == "same_utterance"]
    assert same and all(row[2] == "contact" and "broken" in row[4]
                        and by_id[row[0]].utterances[row[3]].speaker == "customer" for row in same)
    gold = [row for row in found if row[1] == "gold_calls"]
    assert gold and all(row[3] is None and row[4] is None for row in gold)  # no utterance shows a metadata match


# -- agreement on random rules and contacts ----------------------------------------------------------------------
WORDS = ["cancel", "order", "refund", "again", "sorry", "投诉", "退款", "又", "领导", "ok", "the", "my"]
SPEAKERS = ["customer", "agent", "bot"]


def _leaf() -> st.SearchStrategy[dict]:
    words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)
    bound = st.floats(-1, 1, allow_nan=False).map(lambda x: round(x, 2))
    return st.one_of(
        words.map(lambda w: {"phrases": w}),
        st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS), st.integers(0, 3)).map(
            lambda t: {"phrases": {"all": [t[0], t[1]], "near": t[2]}}),
        words.map(lambda w: {"phrases": {"all": w}}),
        st.sampled_from([r"(?i)sorry", r"[0-9]{3}", r"^ok", r"投诉|退款"]).map(lambda r: {"regex": r}),
        st.lists(st.sampled_from(SPEAKERS), min_size=1, max_size=2).map(lambda s: {"speaker": s}),
        st.sampled_from(["negative", "positive", "neutral"]).map(lambda s: {"sentiment": s}),
        bound.map(lambda b: {"sentiment_score": {"min": b}}),
        st.sampled_from(["browse", "refund"]).map(lambda s: {"stage": s}),
        st.sampled_from([{"first": 1}, {"last": 2}, {"quarter": "first"}, {"quarter": "last"}]).map(
            lambda p: {"position": p}),
        st.floats(0, 5).map(lambda s: {"silence_before": {"min": round(s, 1)}}),
        st.just({"interrupts": True}),
        st.floats(0, 1).map(lambda s: {"talk_share": {"speaker": "agent", "min": round(s, 2)}}),
        st.floats(0, 1).map(lambda s: {"talk_share": {"speaker": "agent", "max": round(s, 2)}}),
        st.sampled_from(["call", "chat"]).map(lambda c: {"channel": c}),
        st.sampled_from(["gold", "silver"]).map(lambda t: {"metadata": {"tier": t}}),
    )


def _condition(contact_level: bool) -> st.SearchStrategy[dict]:
    def extend(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
        options = [st.lists(children, min_size=1, max_size=3).map(lambda c: {"all": c}),
                   st.lists(children, min_size=1, max_size=3).map(lambda c: {"any": c}),
                   children.map(lambda c: {"not": c}),
                   st.tuples(st.integers(2, 3), _leaf()).map(lambda t: {"repeated": {"times": t[0], "when": t[1]}})]
        if contact_level:
            options.append(st.recursive(_leaf(), lambda c: st.lists(c, min_size=1, max_size=2).map(
                lambda x: {"all": x}), max_leaves=3).map(lambda c: {"utterance": c}))
        return st.one_of(*options)

    return st.recursive(_leaf(), extend, max_leaves=6)


@st.composite
def _rules(draw) -> CategorySet:
    categories = []
    for k in range(draw(st.integers(1, 3))):
        contact = draw(st.booleans())
        categories.append({"id": f"rule_{k}", "name": f"rule {k}", "level": "contact" if contact else "utterance",
                           "when": draw(_condition(contact))})
    parsed = CategoryFile.model_validate({"categories": categories})
    return CategorySet(tuple(parsed.categories))


@st.composite
def _contacts(draw) -> list[AnalyzedTranscript]:
    docs = []
    for n in range(draw(st.integers(1, 4))):
        timed = draw(st.booleans())
        size = draw(st.integers(1, 6))
        turns, clock = [], 0
        for _ in range(size):
            start = clock + draw(st.integers(-1500, 6000))
            end = max(start, 0) + draw(st.integers(0, 5000))
            text = draw(st.lists(st.sampled_from([*WORDS, "123", "，", "!", " "]), min_size=1, max_size=6))
            turns.append({"speaker": draw(st.sampled_from(SPEAKERS)), "text": " ".join(text).strip() or "ok",
                          **({"start_ms": max(start, 0), "end_ms": end} if timed else {})})
            clock = end
        transcript = Transcript(id=f"t{n}", channel=draw(st.sampled_from(["call", "chat", None])),
                                metadata=draw(st.sampled_from([{}, {"tier": "gold"}, {"tier": "silver"}])),
                                turns=turns)
        doc = AnalyzedTranscript(transcript, "zh", "food_delivery")
        for index, turn in enumerate(transcript.turns):
            sentiment = draw(st.sampled_from([None, "negative", "positive", "neutral"]))
            doc.utterances.append(Utterance(
                turn_index=index, sentence_index=0, speaker=turn.speaker, text=turn.text, language="zh", tokens=(),
                start_ms=turn.start_ms, end_ms=turn.end_ms, stage=draw(st.sampled_from(["browse", "refund", None])),
                sentiment=sentiment, sentiment_score=None if sentiment is None else draw(st.floats(-1, 1))))
        docs.append(doc)
    return docs


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(categories=_rules(), docs=_contacts())
def test_in_pipeline_and_retroactive_evaluations_agree_with_each_other_and_the_reference(categories: CategorySet,
                                                                                       docs) -> None:
    in_pipeline = _in_pipeline(docs, categories)
    assert in_pipeline == _retroactive(docs, categories)
    assert in_pipeline == reference_matches(docs, categories)  # the documented semantics, evaluated in Python


# -- tokens and phrases -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("phrase", "text", "matches"), [
    ("report you", "I will REPORT you!", True),
    ("report you", "they reported your order", False),
    ("report you", "report, you", True),
    ("投訴", "我要投诉", True),  # traditional in the rule, simplified in the stored text
    ("投诉", "投 诉", True),
    ("12315", "打a12315", False),
    ("12315", "打12315投诉", True),
    ("again", "against", False),
])
def test_phrases_match_whole_tokens_after_normalisation(phrase: str, text: str, matches: bool) -> None:
    import duckdb

    pattern = phrase_regex(phrase_tokens(phrase))
    query = f"SELECT regexp_matches({phrase_text('?')}, ?)"
    assert duckdb.connect().execute(query, [text, pattern]).fetchall()[0][0] is matches


# -- built-in pack ------------------------------------------------------------------------------------------------
def test_builtin_pack_has_the_issue_ids_and_finds_them_end_to_end() -> None:
    from nlp.pipeline import Pipeline

    assert load_categories("contact_centre").ids == [
        "complaint_threat", "escalation_request", "churn_threat", "repeat_contact", "agent_apology",
        "agent_empathy", "promise_without_time", "identity_verification"]
    transcripts = [
        Transcript(id="zh", turns=[
            {"speaker": "customer", "text": "我已经第三次打电话了，再不解决我就去12315投訴你们！"},
            {"speaker": "agent", "text": "非常抱歉，我能理解您的心情。我会帮您处理的。"},
            {"speaker": "customer", "text": "找你们领导来，不然我就销户"},
            {"speaker": "agent", "text": "请提供一下身份证后四位，我明天下午三点前给您回电。"}]),
        Transcript(id="en", turns=[
            {"speaker": "customer", "text": "I called again. Get me a supervisor or I will report you."},
            {"speaker": "agent", "text": "I'm sorry. I'll get back to you tomorrow by 5pm."},
            {"speaker": "agent", "text": "Can you verify your identity? I'll look into it."},
            {"speaker": "customer", "text": "Otherwise cancel my account."}]),
    ]
    docs = Pipeline().analyze(transcripts)
    found = {d.transcript.id: {(u.text, tuple(u.categories)) for u in d.utterances} for d in docs}
    threat = "我已经第三次打电话了，再不解决我就去12315投诉你们！"
    assert (threat, ("complaint_threat", "repeat_contact")) in found["zh"]
    assert ("非常抱歉，我能理解您的心情。", ("agent_apology", "agent_empathy")) in found["zh"]
    assert ("我会帮您处理的。", ("promise_without_time",)) in found["zh"]
    assert ("找你们领导来，不然我就销户", ("escalation_request", "churn_threat")) in found["zh"]
    assert any(cats == ("identity_verification",) for _, cats in found["zh"])  # a promise with a time: no flag
    assert ("I'll get back to you tomorrow by 5pm.", ()) in found["en"]
    assert ("I'll look into it.", ("promise_without_time",)) in found["en"]
    assert ("Can you verify your identity?", ("identity_verification",)) in found["en"]
    assert ("Otherwise cancel my account.", ("churn_threat",)) in found["en"]


# -- bad files ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("categories:\n  - id: a\n    name: A\n    when: {regex: '(a)\\1'}\n", ["line 4", "RE2", "backreferences"]),
    ("categories:\n  - id: a\n    name: A\n    when: {regex: '(?<=x)y'}\n", ["line 4", "lookarounds"]),
    ("categories:\n  - id: a\n    name: A\n    when:\n      all:\n        - speaker: agent\n        - sentimnt: x\n",
     ["categories.0.when.all.1.sentimnt", "line 7", "Extra inputs"]),
    ("categories:\n  - id: a\n    name: A\n    when: {speaker: agent, phrases: [x]}\n",
     ["exactly one operator", "phrases, speaker", "line 4"]),
    ("categories:\n  - id: a\n    name: A\n    when: {phrases: {all: [a, b, c], near: 2}}\n",
     ["near", "exactly two", "line 4"]),
    ("categories:\n  - id: a\n    name: A\n    when: {phrases: [ok]}\n  - id: a\n    name: B\n"
     "    when: {phrases: [ok]}\n", ["categories.1.id", "duplicate", "line 5"]),
    ("categories:\n  - id: a\n    name: A\n    when: {phrases: ['!!']}\n", ["no letters", "line 4"]),
    ("categories:\n  - id: a\n    name: A\n    when: {utterance: {speaker: agent}}\n", ["level: contact", "line 4"]),
    ("categories: [\n", ["not valid YAML"]),
])
def test_bad_category_files_name_file_line_and_fix(text: str, expected: list[str]) -> None:
    with pytest.raises(CategoryFileError) as error:
        parse_categories(text, "mine.yaml")
    message = str(error.value)
    assert message.startswith("mine.yaml: ")
    for part in expected:
        assert part in message, message


def test_categorize_command_runs_over_a_store_and_replaces_only_its_categories(tmp_path: Path) -> None:
    planted = planted_archive(40, seed=3)
    db = tmp_path / "store.duckdb"
    with Store(db) as store:
        records = [ScoredRecord(d, "test", "test", "hash") for d in planted.docs]
        categorize_documents(planted.docs, load_categories("contact_centre"))
        store.write_tables(rows_for(records, "run", "fp"), [d.transcript.id for d in planted.docs])
        store.con.execute("INSERT INTO categories VALUES ('c0000', 'kept', 'contact', NULL, NULL, NULL)")
    rules = tmp_path / "planted.yaml"
    rules.write_text(PLANTED_CATEGORIES, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "categorize", "--db", str(db), "--categories", str(rules),
                           "--no-builtin-categories"], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert "long_silence" in done.stdout
    with Store(db, read_only=True) as store:
        got = dict(store.con.execute("SELECT category_id, count(DISTINCT transcript_id) FROM categories "
                                     "GROUP BY ALL").fetchall())
    assert got["kept"] == 1
    for category, contacts in planted.contacts.items():
        assert got.get(category, 0) == len(contacts), category
    bad = tmp_path / "bad.yaml"
    bad.write_text("categories:\n  - id: x\n    name: X\n    when: {regex: '(a)\\1'}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "categorize", "--db", str(db), "--categories", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "bad.yaml" in done.stderr and "line 4" in done.stderr


def test_analyze_output_lines_carry_categories(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "turns": [{"speaker": "customer", "text": "我要投诉"},
                                                       {"speaker": "agent", "text": "delivery soon"}]},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    extra = tmp_path / "extra.yaml"
    extra.write_text("categories:\n  - id: delivery\n    name: D\n    when: {phrases: [delivery]}\n")
    output = tmp_path / "out.jsonl"
    from nlp.config import PipelineConfig
    from nlp.ingest.to_jsonl import analyze_files

    analyze_files([source], output, config=PipelineConfig(categories=["contact_centre", str(extra)]))
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [r["categories"] for r in rows] == [["complaint_threat"], ["delivery"]]


def test_a_bad_category_file_in_the_configuration_fails_the_configuration(tmp_path: Path) -> None:
    from nlp.config import load_config

    bad = tmp_path / "bad.yaml"
    bad.write_text("categories:\n  - id: x\n    name: X\n    when: {regex: '(?<=a)b'}\n", encoding="utf-8")
    config = tmp_path / "journeylens.yaml"
    config.write_text(f"categories: [contact_centre, {bad}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml.*line 4"):
        load_config(config)


def test_a_speaker_who_never_spoke_has_a_talk_share_of_zero() -> None:
    categories = parse_categories("categories:\n  - id: quiet_agent\n    name: Q\n    level: contact\n"
                                  "    when: {talk_share: {speaker: agent, max: 0.1}}\n")
    transcript = Transcript(id="t", turns=[{"speaker": "customer", "text": "hello", "start_ms": 0, "end_ms": 900},
                                           {"speaker": "customer", "text": "anyone", "start_ms": 1000, "end_ms": 2000}])
    doc = AnalyzedTranscript(transcript, "en", "food_delivery")
    doc.utterances = [Utterance(turn_index=i, sentence_index=0, speaker=t.speaker, text=t.text, language="en",
                                tokens=(), start_ms=t.start_ms, end_ms=t.end_ms)
                      for i, t in enumerate(transcript.turns)]
    expected = {("t", "quiet_agent", "contact", None, None)}
    assert reference_matches([doc], categories) == expected
    assert _in_pipeline([doc], categories) == expected
