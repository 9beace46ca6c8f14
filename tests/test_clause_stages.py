"""Clause stages (nlp/steps/clauses.py): a long customer turn naming several stages gets each clause its stage,
segments follow the clauses and each stage is credited with its own clause's emotion."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from nlp.analytics.contacts import contact_facts, touchpoint_emotions
from nlp.analytics.nev import nev_table
from nlp.analytics.rankings import rank_stages
from nlp.analytics.settings import AnalyticsSettings
from nlp.config import PipelineConfig
from nlp.pipeline import Pipeline
from nlp.schema.transcript import Transcript
from nlp.steps.sentences import clause_spans
from nlp.store import ScoredRecord, Store, content_hash, rows_for

FIXTURE = Path(__file__).parent / "fixtures" / "stages" / "multi_topic_reviews.jsonl"
REVIEW = "菜很好吃，但是配送太慢了，等了一个多小时"
# the lexicon scorer, pinned so the arithmetic below is the fixture's: 菜很好吃， → satisfaction (+1 by the default
# weights), 但是配送太慢了，等了一个多小时 → frustration (−1); the whole sentence at once → satisfaction
LEXICON = {"emotion_scorer": "lexicon", "categories": []}


def _analyze(texts: list[str], **config: object) -> list:
    pipeline = Pipeline(PipelineConfig(**{**LEXICON, **config}))
    transcripts = [Transcript.model_validate({"id": f"t{i}", "business_line": "food_delivery",
                                              "turns": [{"speaker": "customer", "text": text}]})
                   for i, text in enumerate(texts)]
    return pipeline.analyze(transcripts)


def _texts(text: str, language: str) -> list[str]:
    return [text[start:end] for start, end in clause_spans(text, language)]


def test_clause_spans_cut_long_sentences_only_where_each_piece_carries_content() -> None:
    assert _texts(REVIEW, "zh") == ["菜很好吃，", "但是配送太慢了，", "等了一个多小时"]
    assert _texts("好的，谢谢", "zh") == ["好的，谢谢"]  # short: untouched
    assert _texts("骑手怎么还没到", "zh") == ["骑手怎么还没到"]
    assert _texts("退款已经到账了，谢谢，另外那张满减红包过期了用不了", "zh") == [
        "退款已经到账了，谢谢，", "另外那张满减红包过期了用不了"]  # 谢谢 closes the clause before it
    assert _texts("The food was great but the delivery took over an hour", "en") == [
        "The food was great", "but the delivery took over an hour"]
    assert _texts("Book it for 6 people. I also need a train.", "en") == [
        "Book it for 6 people.", "I also need a train."]  # "I" alone is too short: it joins the next clause
    assert _texts("Thanks, that is all I need today.", "en") == ["Thanks, that is all I need today."]


@pytest.mark.parametrize("classifier", ["keyword", "fewshot-untrained"])
def test_a_review_praising_the_food_and_complaining_about_the_wait_gets_two_segments(classifier: str) -> None:
    (doc,) = _analyze([REVIEW], journey_classifier=classifier)
    assert [(u.text, u.stage, u.sentiment) for u in doc.utterances] == [
        ("菜很好吃，", "eating", "positive"), ("但是配送太慢了，等了一个多小时", "delivery", "negative")]
    assert [(u.sentence_index, u.char_start, u.char_end) for u in doc.utterances] == [(0, 0, 5), (1, 5, 20)]
    assert [(s.stage, s.first_turn, s.start_char, s.last_turn, s.end_char) for s in doc.segments] == [
        ("eating", 0, 0, 0, 5), ("delivery", 0, 5, 0, 20)]
    assert doc.segments[0].sentiment_mean > 0 > doc.segments[1].sentiment_mean
    (whole,) = _analyze([REVIEW], journey_classifier=classifier, clause_stages=False)
    assert len(whole.utterances) == len(whole.segments) == 1  # the switch turns the step off


def test_short_and_single_topic_utterances_are_not_split() -> None:
    texts = ["好的，谢谢", "骑手怎么还没到", "等了一个多小时了，骑手电话也打不通，到底什么时候送到"]
    docs = _analyze(texts)
    assert [[u.text for u in doc.utterances] for doc in docs] == [[t] for t in texts]


def test_stage_nev_of_a_store_credits_each_stage_with_its_own_clause(tmp_path: Path) -> None:
    # 骑手送餐很快，态度也好， → satisfaction (+1) at delivery; 不过汤洒了一半，包装太差 → disappointment (−1) at
    # receiving. By hand: eating +1 / 1 = +100; delivery (−1 + 1) / 2 = 0; receiving −1 / 1 = −100.
    docs = _analyze([REVIEW, "骑手送餐很快，态度也好，不过汤洒了一半，包装太差"])
    assert [[(u.stage, u.emotion) for u in doc.utterances] for doc in docs] == [
        [("eating", "satisfaction"), ("delivery", "frustration")],
        [("delivery", "satisfaction"), ("receiving", "disappointment")]]
    db = tmp_path / "clauses.duckdb"
    with Store(db) as store:
        records = [ScoredRecord(doc, "test", "memory", content_hash(doc.transcript)) for doc in docs]
        store.write_tables(rows_for(records, "run", "fingerprint"), [doc.transcript.id for doc in docs])
    settings = AnalyticsSettings()
    with duckdb.connect(str(db), read_only=True) as con:
        per_stage = nev_table(touchpoint_emotions(con, settings), ["stage"], settings).set_index("stage")
        segments = con.execute("SELECT transcript_id, stage, start_char, end_char FROM segments "
                               "ORDER BY transcript_id, segment_index").fetchall()
    assert per_stage["nev"].to_dict() == {"delivery": 0.0, "eating": 100.0, "receiving": -100.0}
    assert per_stage["customer_utterances"].to_dict() == {"delivery": 2, "eating": 1, "receiving": 1}
    assert segments == [("t0", "eating", 0, 5), ("t0", "delivery", 5, 20),
                        ("t1", "delivery", 0, 12), ("t1", "receiving", 12, 24)]
    # pain goes to the reason stage, and praise is no reason: t0 is a delivery contact, t1 a receiving one
    with duckdb.connect(str(db), read_only=True) as con:
        facts = contact_facts(con, settings).set_index("transcript_id")
        ranking = rank_stages(con, settings).set_index("stage")
    assert facts["stage"].to_dict() == {"t0": "delivery", "t1": "receiving"}
    assert ranking.loc["delivery", "contacts"] == ranking.loc["receiving", "contacts"] == 1
    assert ranking.loc["delivery", "pain"] == pytest.approx(facts.loc["t0", "pain"])
    assert ranking.loc["receiving", "pain"] == pytest.approx(facts.loc["t1", "pain"])
    assert "eating" not in ranking.index or not ranking.loc["eating", "contacts"] > 0


def _fixture() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _set_f1(gold: set[str], predicted: set[str]) -> float:
    hits = len(gold & predicted)
    return 2 * hits / (len(gold) + len(predicted))


def test_hand_labelled_multi_topic_reviews_get_their_stages() -> None:
    """Our own 15 multi-topic and 4 single-topic reviews (tests/fixtures/stages/multi_topic_reviews.jsonl), in
    Chinese and English, labelled by us: the stages found per review against the labelled ones, as sets."""
    items = _fixture()
    scores = {}
    for clause_stages in (False, True):
        pipeline = Pipeline(PipelineConfig(**LEXICON, clause_stages=clause_stages))
        docs = pipeline.analyze([Transcript.model_validate({"id": item["id"], "language": item["language"],
                                                            "turns": [{"speaker": "customer", "text": item["text"]}]})
                                 for item in items], [item["taxonomy"] for item in items])
        predicted = {item["id"]: {u.stage for u in doc.utterances} for item, doc in zip(items, docs, strict=True)}
        scores[clause_stages] = sum(_set_f1({t[1] for t in item["topics"]}, predicted[item["id"]])
                                    for item in items) / len(items)
        if clause_stages:
            assert all(len(predicted[item["id"]]) == 1 for item in items if len(item["topics"]) == 1)
    assert scores[True] >= 0.9 and scores[True] - scores[False] >= 0.15


def test_analyze_cli_writes_the_clause_utterances(tmp_path: Path) -> None:
    source = tmp_path / "reviews.jsonl"
    source.write_text(json.dumps({"id": "r1", "turns": [{"speaker": "customer", "text": REVIEW}]},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    output = tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "analyze", str(source), "--taxonomy", "food_delivery",
                           "--output", str(output)], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [(r["turn_index"], r["segment_index"], r["stage"], r["char_start"], r["char_end"]) for r in rows] == [
        (0, 0, "eating", 0, 5), (0, 1, "delivery", 5, 20)]
    assert rows[0]["sentiment"] == "positive" and rows[1]["sentiment"] == "negative"
